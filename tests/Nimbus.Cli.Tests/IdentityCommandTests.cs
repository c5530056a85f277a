using System.Text.Json;
using Nimbus.TestSupport;

namespace Nimbus.Cli.Tests;

/// <summary>nimbus identity against a daemon, over its unix socket.</summary>
public sealed class IdentityCommandTests
{
    [Fact]
    public async Task Rotate_keys_makes_the_staged_key_the_primary_and_keeps_the_old_primary()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var env = new Dictionary<string, string?> { ["NIMBUS_HOME"] = daemon.Home };

        var before = await CliRunner.RunAsync(env, "identity", "keys", "--json");
        Assert.Equal(0, before.ExitCode);
        int primaryBefore;
        using (var keys = JsonDocument.Parse(before.Output))
        {
            primaryBefore = keys.RootElement.GetProperty("primary").GetInt32();
        }

        var rotate = await CliRunner.RunAsync(env, "identity", "rotate-keys");
        Assert.Equal(0, rotate.ExitCode);
        Assert.StartsWith("Rotated the token keys in ", rotate.Output, StringComparison.Ordinal);

        var after = await CliRunner.RunAsync(env, "identity", "keys", "--json");
        using var rotated = JsonDocument.Parse(after.Output);
        Assert.Equal(primaryBefore + 1, rotated.RootElement.GetProperty("primary").GetInt32());
        var remaining = rotated.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetInt32()).ToList();
        Assert.Contains(primaryBefore, remaining);
        Assert.Contains(0, remaining);
    }
}

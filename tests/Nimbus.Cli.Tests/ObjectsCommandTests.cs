using System.Net;
using System.Text.Json;
using Nimbus.TestSupport;

namespace Nimbus.Cli.Tests;

/// <summary>nimbus objects against a daemon running object storage, over its unix socket.</summary>
public sealed class ObjectsCommandTests
{
    [Fact]
    public async Task Node_stop_and_start_take_one_storage_node_away_and_back()
    {
        await using var daemon = await TestDaemon.StartAsync(settings: TestDaemon.WithObjects());
        var env = new Dictionary<string, string?> { ["NIMBUS_HOME"] = daemon.Home };

        var list = await CliRunner.RunAsync(env, "objects", "node", "list", "--json");
        Assert.Equal(0, list.ExitCode);
        using (var nodes = JsonDocument.Parse(list.Output))
        {
            Assert.Equal([1, 2, 3, 4], nodes.RootElement.EnumerateArray().Select(n => n.GetProperty("node").GetInt32()));
            Assert.All(nodes.RootElement.EnumerateArray(), n => Assert.Equal("running", n.GetProperty("state").GetString()));
        }

        var stop = await CliRunner.RunAsync(env, "objects", "node", "stop", "2");
        Assert.Equal(0, stop.ExitCode);
        Assert.StartsWith("Storage node 2 is stopped", stop.Output, StringComparison.Ordinal);
        var table = await CliRunner.RunAsync(env, "objects", "node", "list");
        Assert.Matches(@"2\s+│\s+http://127\.0\.0\.1:\d+\s+│\s+stopped", table.Output);

        // The proxy still answers: the healthcheck does not depend on any one node.
        Assert.Equal(HttpStatusCode.OK, (await daemon.Http.GetAsync("/healthcheck")).StatusCode);

        var start = await CliRunner.RunAsync(env, "objects", "node", "start", "2");
        Assert.Equal(0, start.ExitCode);
        Assert.StartsWith("Storage node 2 is running", start.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_node_exits_with_the_not_found_code()
    {
        await using var daemon = await TestDaemon.StartAsync(settings: TestDaemon.WithObjects());
        var env = new Dictionary<string, string?> { ["NIMBUS_HOME"] = daemon.Home };

        var result = await CliRunner.RunAsync(env, "objects", "node", "stop", "9");

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("there is no storage node 9", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task User_add_list_set_key_and_remove_change_who_logs_in_without_a_restart()
    {
        await using var daemon = await TestDaemon.StartAsync(settings: TestDaemon.WithObjects());
        var env = new Dictionary<string, string?> { ["NIMBUS_HOME"] = daemon.Home };

        var add = await CliRunner.RunAsync(env, "objects", "user", "add", "demo:alice", "--admin", "--json");
        Assert.True(add.ExitCode == 0, add.Error);
        string key;
        using (var added = JsonDocument.Parse(add.Output))
        {
            key = added.RootElement.GetProperty("key").GetString()!;
            Assert.Equal("/v1/AUTH_demo", added.RootElement.GetProperty("storage_path").GetString());
            Assert.Equal([".admin"], added.RootElement.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));
        }

        Assert.Equal(HttpStatusCode.OK, await LoginAsync(daemon, "demo:alice", key));
        var tempauth = Path.Combine(daemon.Home, "objects", "tempauth.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tempauth));

        var table = await CliRunner.RunAsync(env, "objects", "user", "list");
        Assert.Matches(@"admin:admin\s+│\s+\.admin \.reseller_admin\s+│\s+/v1/AUTH_admin", table.Output);
        Assert.Matches(@"demo:alice\s+│\s+\.admin\s+│\s+/v1/AUTH_demo", table.Output);
        Assert.DoesNotContain(key, table.Output, StringComparison.Ordinal);
        var listed = await CliRunner.RunAsync(env, "objects", "user", "list", "--json");
        using (var users = JsonDocument.Parse(listed.Output))
        {
            Assert.Equal(["admin", "alice"], users.RootElement.EnumerateArray().Select(u => u.GetProperty("user").GetString()));
            Assert.All(users.RootElement.EnumerateArray(), u => Assert.False(u.TryGetProperty("key", out _)));
        }

        var setKey = await CliRunner.RunAsync(env, "objects", "user", "set-key", "demo:alice", "--key", "chosen-key");
        Assert.True(setKey.ExitCode == 0, setKey.Error);
        Assert.Contains("key: chosen-key", setKey.Output, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(daemon, "demo:alice", key));
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(daemon, "demo:alice", "chosen-key"));

        var remove = await CliRunner.RunAsync(env, "objects", "user", "remove", "demo:alice");
        Assert.Equal(0, remove.ExitCode);
        Assert.Equal("Removed tempauth user demo:alice\n", remove.Output);
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(daemon, "demo:alice", "chosen-key"));
    }

    [Fact]
    public async Task New_key_for_admin_admin_is_written_into_swiftrc()
    {
        await using var daemon = await TestDaemon.StartAsync(settings: TestDaemon.WithObjects());
        var env = new Dictionary<string, string?> { ["NIMBUS_HOME"] = daemon.Home };

        var result = await CliRunner.RunAsync(env, "objects", "user", "set-key", "admin:admin", "--key", "rotated-admin-key");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("export ST_KEY=rotated-admin-key\n", await File.ReadAllTextAsync(Path.Combine(daemon.Home, "swiftrc")), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(daemon, "admin:admin", "rotated-admin-key"));
    }

    [Fact]
    public async Task User_refusals_exit_with_their_codes_and_stable_json_codes()
    {
        await using var daemon = await TestDaemon.StartAsync(settings: TestDaemon.WithObjects());
        var env = new Dictionary<string, string?> { ["NIMBUS_HOME"] = daemon.Home };

        var notAName = await CliRunner.RunAsync(env, "objects", "user", "add", "no-colon");
        var badName = await CliRunner.RunAsync(env, "objects", "user", "add", "de/mo:alice", "--json");
        var unknown = await CliRunner.RunAsync(env, "objects", "user", "remove", "demo:nobody", "--json");
        var admin = await CliRunner.RunAsync(env, "objects", "user", "remove", "admin:admin");

        Assert.Equal(3, notAName.ExitCode);
        Assert.Contains("is not ACCOUNT:USER", notAName.Error, StringComparison.Ordinal);
        Assert.Equal(3, badName.ExitCode);
        Assert.Equal("objects.bad_tempauth_user", ErrorCode(badName.Error));
        Assert.Equal(4, unknown.ExitCode);
        Assert.Equal("objects.no_such_tempauth_user", ErrorCode(unknown.Error));
        Assert.Equal(5, admin.ExitCode);
        Assert.Contains("set-key admin:admin", admin.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("objects", "user", "--help")]
    [InlineData("objects", "user", "add", "--help")]
    public async Task User_help_shows_examples(params string[] args)
    {
        var result = await CliRunner.RunAsync(new Dictionary<string, string?>(), args);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Examples:", result.Output, StringComparison.Ordinal);
        Assert.Contains("nimbus objects user add demo:alice --admin", result.Output, StringComparison.Ordinal);
    }

    private static string? ErrorCode(string error)
    {
        using var json = JsonDocument.Parse(error);
        return json.RootElement.GetProperty("error").GetProperty("code").GetString();
    }

    private static async Task<HttpStatusCode> LoginAsync(TestDaemon daemon, string user, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/v1.0");
        request.Headers.Add("X-Auth-User", user);
        request.Headers.Add("X-Auth-Key", key);
        using var response = await daemon.Http.SendAsync(request);
        return response.StatusCode;
    }
}

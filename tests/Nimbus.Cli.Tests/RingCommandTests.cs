using System.Text.Json;
using Nimbus.TestSupport;

namespace Nimbus.Cli.Tests;

/// <summary>nimbus ring on builder and ring files in a temp directory; no daemon involved.</summary>
public sealed class RingCommandTests
{
    private static readonly Dictionary<string, string?> NoEnvironment = [];

    [Fact]
    public async Task Create_add_rebalance_show_and_validate_build_a_balanced_ring()
    {
        using var directory = new TempDirectory();
        var builder = directory.Combine("object.builder");

        var create = await RunAsync("ring", "create", builder, "--part-power", "10", "--replicas", "3", "--min-part-hours", "1");
        for (var i = 1; i <= 4; i++)
        {
            var add = await RunAsync("ring", "add", builder, "--region", "1", "--zone", $"{i}", "--ip", $"10.0.0.{i}", "--port", "6200", "--device", "d1", "--weight", "100");
            Assert.Equal((0, $"Device r1z{i}-10.0.0.{i}:6200/d1 with weight 100 now has id {i - 1}. Rebalance to give it partitions.\n"), (add.ExitCode, add.Output));
        }

        var rebalance = await RunAsync("ring", "rebalance", builder);
        var show = await RunAsync("ring", "show", builder, "--json");
        var showRing = await RunAsync("ring", "show", directory.Combine("object.ring"));
        var validate = await RunAsync("ring", "validate", builder);
        var validateRing = await RunAsync("ring", "validate", directory.Combine("object.ring"), "--json");

        Assert.Equal(0, create.ExitCode);
        Assert.StartsWith($"Created {builder}: part power 10 (1024 partitions), 3 replicas, min part hours 1.", create.Output, StringComparison.Ordinal);
        Assert.Equal(0, rebalance.ExitCode);
        Assert.Contains("Reassigned 3072 of 3072 partition replicas (100.00%). Balance is now 0.00%.", rebalance.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(directory.Combine("object.ring")));
        using (var json = JsonDocument.Parse(show.Output))
        {
            var root = json.RootElement;
            Assert.Equal("builder", root.GetProperty("kind").GetString());
            Assert.Equal(1024, root.GetProperty("partitions").GetInt32());
            Assert.Equal(0, root.GetProperty("balance").GetDouble());
            Assert.All(root.GetProperty("devices").EnumerateArray(), d => Assert.Equal(768, d.GetProperty("partitions").GetInt32()));
        }

        Assert.Equal(0, showRing.ExitCode);
        Assert.Contains("(ring): part power 10 (1024 partitions), 3 replicas, version 5, 4 devices, balance 0.00%", showRing.Output, StringComparison.Ordinal);
        Assert.Matches(@"3\s+│\s+1\s+│\s+4\s+│\s+10\.0\.0\.4:6200\s+│\s+d1\s+│\s+100\s+│\s+768\s+│\s+0\.00", showRing.Output);
        Assert.Equal((0, $"{builder} is valid.\n"), (validate.ExitCode, validate.Output));
        Assert.Equal(0, validateRing.ExitCode);
        using (var json = JsonDocument.Parse(validateRing.Output))
        {
            Assert.True(json.RootElement.GetProperty("valid").GetBoolean());
        }
    }

    [Fact]
    public async Task Remove_and_set_weight_take_effect_at_the_next_rebalance()
    {
        using var directory = new TempDirectory();
        var builder = await BalancedBuilderAsync(directory, devices: 5, minPartHours: "0");

        var setWeight = await RunAsync("ring", "set-weight", builder, "--id", "1", "--weight", "50", "--json");
        var remove = await RunAsync("ring", "remove", builder, "--id", "4");
        var pending = await RunAsync("ring", "show", builder);
        var rebalance = await RunAsync("ring", "rebalance", builder, "--json");

        using (var device = JsonDocument.Parse(setWeight.Output))
        {
            Assert.Equal(50, device.RootElement.GetProperty("weight").GetDouble());
        }

        Assert.Equal("Device 4 is marked for removal. Rebalance to move its partitions off.\n", remove.Output);
        Assert.Contains("removing", pending.Output, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(rebalance.Output);
        var devices = json.RootElement.GetProperty("devices").EnumerateArray().ToList();
        Assert.Equal(4, devices.Count);
        Assert.True(json.RootElement.GetProperty("partitions_moved").GetInt32() > 0);
        Assert.Equal(directory.Combine("object.ring"), json.RootElement.GetProperty("ring_file").GetString());
        Assert.True(devices.Single(d => d.GetProperty("id").GetInt32() == 1).GetProperty("partitions").GetInt32() < 768 * 3 / 4);
    }

    [Fact]
    public async Task A_missing_builder_is_not_found_and_says_how_to_create_one()
    {
        using var directory = new TempDirectory();
        var builder = directory.Combine("object.builder");

        var result = await RunAsync("ring", "add", builder, "--region", "1", "--zone", "1", "--ip", "10.0.0.1", "--port", "6200", "--device", "d1", "--weight", "1");
        var json = await RunAsync("ring", "show", builder, "--json");

        Assert.Equal(4, result.ExitCode);
        Assert.Contains($"there is no ring builder at {builder}; create one with 'nimbus ring create {builder}", result.Error, StringComparison.Ordinal);
        using var error = JsonDocument.Parse(json.Error);
        Assert.Equal("ring.file_not_found", error.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Refusals_exit_with_their_kinds_code_and_change_nothing()
    {
        using var directory = new TempDirectory();
        var builder = await BalancedBuilderAsync(directory, devices: 3, minPartHours: "1");
        var before = await File.ReadAllTextAsync(builder);

        var exists = await RunAsync("ring", "create", builder, "--part-power", "10");
        var duplicate = await RunAsync("ring", "add", builder, "--region", "1", "--zone", "9", "--ip", "10.0.0.1", "--port", "6200", "--device", "d1", "--weight", "100");
        var badPort = await RunAsync("ring", "add", builder, "--region", "1", "--zone", "9", "--ip", "10.0.0.9", "--port", "0", "--device", "d1", "--weight", "100");
        var unknown = await RunAsync("ring", "set-weight", builder, "--id", "42", "--weight", "1");
        var badPower = await RunAsync("ring", "create", directory.Combine("other.builder"), "--part-power", "30");

        Assert.Equal(5, exists.ExitCode);
        Assert.Contains("already exists", exists.Error, StringComparison.Ordinal);
        Assert.Equal(5, duplicate.ExitCode);
        Assert.Contains("already has 10.0.0.1:6200/d1 as device 0", duplicate.Error, StringComparison.Ordinal);
        Assert.Equal(3, badPort.ExitCode);
        Assert.Contains("port 0 is out of range", badPort.Error, StringComparison.Ordinal);
        Assert.Equal(4, unknown.ExitCode);
        Assert.Contains("no device with id 42", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(3, badPower.ExitCode);
        Assert.Contains("part power 30 is out of range", badPower.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(directory.Combine("other.builder")));
        Assert.Equal(before, await File.ReadAllTextAsync(builder));
    }

    [Fact]
    public async Task Rebalance_with_too_few_devices_is_refused()
    {
        using var directory = new TempDirectory();
        var builder = directory.Combine("object.builder");
        await RunAsync("ring", "create", builder, "--part-power", "8");
        await RunAsync("ring", "add", builder, "--region", "1", "--zone", "1", "--ip", "10.0.0.1", "--port", "6200", "--device", "d1", "--weight", "100");

        var result = await RunAsync("ring", "rebalance", builder);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("3 replicas but 1 devices with weight", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(directory.Combine("object.ring")));
    }

    [Fact]
    public async Task Validate_lists_the_problems_and_exits_3()
    {
        using var directory = new TempDirectory();
        var builder = directory.Combine("object.builder");
        await RunAsync("ring", "create", builder, "--part-power", "8");
        var ring = directory.Combine("object.ring");
        await File.WriteAllTextAsync(ring, "NIMBUSRING but not really a ring");

        var unbalanced = await RunAsync("ring", "validate", builder);
        var corrupt = await RunAsync("ring", "validate", ring, "--json");
        var show = await RunAsync("ring", "show", ring);

        Assert.Equal(3, unbalanced.ExitCode);
        Assert.Contains("- the ring has 3 replicas but only 0 devices with weight", unbalanced.Output, StringComparison.Ordinal);
        Assert.Contains("never been rebalanced", unbalanced.Output, StringComparison.Ordinal);
        Assert.Contains("has 2 problem(s)", unbalanced.Error, StringComparison.Ordinal);
        Assert.Equal(3, corrupt.ExitCode);
        using var json = JsonDocument.Parse(corrupt.Output);
        Assert.False(json.RootElement.GetProperty("valid").GetBoolean());
        Assert.Contains("is truncated", json.RootElement.GetProperty("problems")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(3, show.ExitCode);
        Assert.Contains($"the ring file {ring}", show.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ring_help_ends_with_examples()
    {
        var result = await RunAsync("ring", "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("rebalance", result.Output, StringComparison.Ordinal);
        Assert.Contains("nimbus ring create object.builder --part-power 10", result.Output[result.Output.IndexOf("Examples:", StringComparison.Ordinal)..], StringComparison.Ordinal);
    }

    private static Task<CliResult> RunAsync(params string[] args) => CliRunner.RunAsync(NoEnvironment, args);

    private static async Task<string> BalancedBuilderAsync(TempDirectory directory, int devices, string minPartHours)
    {
        var builder = directory.Combine("object.builder");
        Assert.Equal(0, (await RunAsync("ring", "create", builder, "--part-power", "10", "--replicas", "3", "--min-part-hours", minPartHours)).ExitCode);
        for (var i = 1; i <= devices; i++)
        {
            Assert.Equal(0, (await RunAsync("ring", "add", builder, "--region", "1", "--zone", $"{i}", "--ip", $"10.0.0.{i}", "--port", "6200", "--device", "d1", "--weight", "100")).ExitCode);
        }

        Assert.Equal(0, (await RunAsync("ring", "rebalance", builder)).ExitCode);
        return builder;
    }
}

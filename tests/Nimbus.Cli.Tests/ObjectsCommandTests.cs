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
}

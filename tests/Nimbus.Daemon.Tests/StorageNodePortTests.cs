using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Nimbus.Daemon.Objects;
using Nimbus.Objects.Ring;
using Nimbus.Platform.Errors;
using Nimbus.TestSupport;

namespace Nimbus.Daemon.Tests;

/// <summary>Where the all-in-one's storage nodes listen, so that two all-in-ones run side by side.</summary>
public sealed class StorageNodePortTests
{
    [Fact]
    public async Task With_any_free_api_port_the_nodes_take_free_ports_and_the_ring_keeps_them()
    {
        using var home = new TempDirectory();
        var basePort = LocalMachine.FreePortRange(4);
        var settings = Settings(basePort, apiPort: 0);

        List<string> first;
        await using (var daemon = await TestDaemon.StartAsync(home.Path, settings))
        {
            first = NodeUrls(daemon);
        }

        await using var restarted = await TestDaemon.StartAsync(home.Path, settings);

        Assert.Equal(4, first.Count);
        Assert.Equal(4, first.Distinct().Count());
        Assert.DoesNotContain(first, url => Enumerable.Range(basePort + 1, 4).Any(p => url.EndsWith($":{p}", StringComparison.Ordinal)));
        Assert.Equal(first, NodeUrls(restarted));
        Assert.Equal(first, RingPorts(home.Path).Select(p => $"http://127.0.0.1:{p}"));
    }

    [Fact]
    public async Task With_a_fixed_api_port_the_nodes_listen_on_base_port_plus_n()
    {
        using var home = new TempDirectory();
        var basePort = LocalMachine.FreePortRange(4);

        await using var daemon = await TestDaemon.StartAsync(home.Path, Settings(basePort, LocalMachine.FreePort()));

        Assert.Equal(Enumerable.Range(basePort + 1, 4).Select(p => $"http://127.0.0.1:{p}"), NodeUrls(daemon));
    }

    [Fact]
    public async Task A_base_port_taken_at_first_start_gives_the_nodes_free_ports()
    {
        using var home = new TempDirectory();
        var basePort = LocalMachine.FreePortRange(4);
        using var other = new TcpListener(IPAddress.Loopback, basePort + 2);
        other.Start();

        await using var daemon = await TestDaemon.StartAsync(home.Path, Settings(basePort, LocalMachine.FreePort()));

        var urls = NodeUrls(daemon);
        Assert.Equal(4, urls.Distinct().Count());
        Assert.DoesNotContain($"http://127.0.0.1:{basePort + 2}", urls);
        using var http = new HttpClient { BaseAddress = daemon.Url };
        using var info = await http.GetAsync(new Uri("/info", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
    }

    [Fact]
    public async Task A_node_port_taken_at_a_later_start_is_refused_naming_that_port()
    {
        using var home = new TempDirectory();
        var settings = Settings(LocalMachine.FreePortRange(4), apiPort: 0);
        await (await TestDaemon.StartAsync(home.Path, settings)).DisposeAsync();
        var taken = RingPorts(home.Path)[1];
        using var other = new TcpListener(IPAddress.Loopback, taken);
        other.Start();

        var refusal = await Assert.ThrowsAsync<ConflictException>(() => TestDaemon.StartAsync(home.Path, settings));

        Assert.Contains($"127.0.0.1:{taken}", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("storage node 2", refusal.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1:0", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_port_taken_is_refused_in_one_line_naming_that_port_not_port_0()
    {
        using var home = new TempDirectory();
        var settings = Settings(LocalMachine.FreePortRange(4), apiPort: 0);
        await (await TestDaemon.StartAsync(home.Path, settings)).DisposeAsync();
        var taken = RingPorts(home.Path)[0];
        using var other = new TcpListener(IPAddress.Loopback, taken);
        other.Start();
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await NimbusDaemon.RunAsync(new DaemonLaunch(home.Path, null, settings, new Dictionary<string, string?>()), output, error);

        Assert.Equal(5, exitCode);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"127.0.0.1:{taken}", line, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1:0", line, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Settings(int basePort, int apiPort) => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Objects:Enabled"] = "true",
        ["Objects:BasePort"] = basePort.ToString(CultureInfo.InvariantCulture),
        ["Daemon:Port"] = apiPort.ToString(CultureInfo.InvariantCulture),
    };

    private static List<string> NodeUrls(TestDaemon daemon) =>
        [.. daemon.Daemon.Services.GetRequiredService<ObjectStorage>().Nodes.OrderBy(n => n.Settings.Node).Select(n => n.Url)];

    private static List<int> RingPorts(string home) =>
        [.. HashRing.Load(RingSet.PathOf(Path.Combine(home, "objects", "rings"), RingSet.ObjectRing)).Devices.OrderBy(d => d.Zone).Select(d => d.Port)];
}

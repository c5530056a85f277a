using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Nimbus.Objects.Tests.Proxy;

/// <summary>The consistency daemons against node failures and damaged files, run pass by pass.</summary>
public sealed class ConsistencyTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Replicator_restores_three_copies_on_the_primaries_after_a_stopped_node_returns()
    {
        await _cluster.PutContainerAsync("c");
        await _cluster.Cluster.Node(2).StopAsync(CancellationToken.None);
        for (var i = 0; i < 20; i++)
        {
            using var put = await _cluster.PutObjectAsync("c", $"o{i}", Encoding.ASCII.GetBytes($"body {i}"));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        await _cluster.Cluster.Node(2).StartAsync(CancellationToken.None);
        await _cluster.RunDaemonsOnceAsync();
        await _cluster.RunDaemonsOnceAsync();

        var ring = _cluster.Cluster.Rings.Objects;
        for (var i = 0; i < 20; i++)
        {
            var partition = ring.GetPartition(TestCluster.Account, "c", $"o{i}");
            var hash = ring.HashPath(TestCluster.Account, "c", $"o{i}");
            var holders = _cluster.DataFiles().Where(f => f.Contains(hash, StringComparison.Ordinal)).Select(NodeOf).Order().ToList();
            var primaries = ring.GetPrimaryNodes(partition).Select(d => d.Zone).Order().ToList();
            Assert.Equal(primaries, holders);
        }
    }

    [Fact]
    public async Task Auditor_quarantines_a_corrupt_copy_and_reads_and_replication_heal_it()
    {
        var body = RandomNumberGenerator.GetBytes(10_000);
        await _cluster.PutContainerAsync("c");
        (await _cluster.PutObjectAsync("c", "o", body)).Dispose();
        var victim = _cluster.DataFiles()[0];
        var corrupt = (byte[])body.Clone();
        corrupt[5000] ^= 0xFF;
        await File.WriteAllBytesAsync(victim, corrupt);

        var node = _cluster.Cluster.Node(NodeOf(victim));
        var pass = await node.Auditor.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, pass.Changed);
        Assert.False(File.Exists(victim));
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(node.Settings.DevicesRoot, "d1", "quarantined"), "*.data", SearchOption.AllDirectories));
        for (var i = 0; i < 5; i++)
        {
            using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "o"));
            Assert.Equal(body, await get.Content.ReadAsByteArrayAsync());
        }

        await _cluster.RunDaemonsOnceAsync();
        Assert.Equal(3, _cluster.DataFiles().Count);
        Assert.All(_cluster.DataFiles(), f => Assert.Equal(body, File.ReadAllBytes(f)));
    }

    [Fact]
    public async Task Updates_for_a_container_server_that_was_down_are_delivered_by_the_updater()
    {
        await _cluster.PutContainerAsync("c");
        var containerRing = _cluster.Cluster.Rings.Containers;
        var partition = containerRing.GetPartition(TestCluster.Account, "c");
        var downNode = containerRing.GetPrimaryNodes(partition)[0];
        await _cluster.Cluster.Node(downNode.Zone).StopAsync(CancellationToken.None);
        (await _cluster.PutObjectAsync("c", "while-down", [1, 2, 3])).Dispose();
        await _cluster.Cluster.Node(downNode.Zone).StartAsync(CancellationToken.None);

        Assert.DoesNotContain("while-down", await ListOnNodeAsync(downNode, partition));
        await _cluster.RunDaemonsOnceAsync();

        Assert.Contains("while-down", await ListOnNodeAsync(downNode, partition));
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(_cluster.Root, "nodes"), "*", SearchOption.AllDirectories), f => f.Contains("async_pending", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Container_updater_makes_account_stats_add_up()
    {
        await _cluster.PutContainerAsync("a");
        await _cluster.PutContainerAsync("b");
        (await _cluster.PutObjectAsync("a", "1", new byte[100])).Dispose();
        (await _cluster.PutObjectAsync("b", "2", new byte[50])).Dispose();
        (await _cluster.PutObjectAsync("b", "3", new byte[7])).Dispose();

        foreach (var node in _cluster.Cluster.Nodes)
        {
            await node.ContainerUpdater.RunChangedAsync(CancellationToken.None);
        }

        using var head = await _cluster.SendAsync(HttpMethod.Head, $"/v1/{TestCluster.Account}");
        Assert.Equal("2", head.Headers.GetValues("X-Account-Container-Count").Single());
        Assert.Equal("3", head.Headers.GetValues("X-Account-Object-Count").Single());
        Assert.Equal("157", head.Headers.GetValues("X-Account-Bytes-Used").Single());
    }

    [Fact]
    public async Task Expirer_deletes_expired_objects_everywhere_and_drops_them_from_listings()
    {
        await _cluster.PutContainerAsync("c");
        (await _cluster.PutObjectAsync("c", "short-lived", [1], ("X-Delete-After", "10"))).Dispose();
        (await _cluster.PutObjectAsync("c", "kept", [2])).Dispose();

        _cluster.Clock.Advance(TimeSpan.FromSeconds(11));
        await _cluster.RunDaemonsOnceAsync();

        Assert.Equal(3, _cluster.DataFiles().Count);
        using var listing = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c"));
        Assert.Equal("kept\n", await listing.Content.ReadAsStringAsync());
    }

    private static int NodeOf(string path)
    {
        var parts = path.Split(Path.DirectorySeparatorChar);
        return int.Parse(parts[Array.IndexOf(parts, "nodes") + 1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<List<string>> ListOnNodeAsync(Nimbus.Objects.Ring.RingDevice node, int partition)
    {
        using var http = new HttpClient();
        var json = await http.GetStringAsync($"http://{node.Ip}:{node.Port}/container/{node.Device}/{partition}/{TestCluster.Account}/c?format=json");
        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()!)];
    }
}

using System.Globalization;
using System.Net;
using Nimbus.Objects.Ring;
using Nimbus.Platform.Errors;
using Nimbus.TestSupport;

namespace Nimbus.Daemon.Tests;

/// <summary>nimbusd --role storage: one storage node of a cluster whose rings were built elsewhere.</summary>
public sealed class StorageRoleTests
{
    [Fact]
    public async Task A_storage_node_serves_objects_for_the_devices_its_ring_names()
    {
        using var home = new TempDirectory();
        var port = LocalMachine.FreePort();
        await WriteRingsAsync(Path.Combine(home.Path, "objects", "rings"), port);
        Directory.CreateDirectory(Path.Combine(home.Path, "objects", "devices", "d1"));

        await using var daemon = await TestDaemon.StartAsync(home.Path, Settings(port));
        var ring = HashRing.Load(Path.Combine(home.Path, "objects", "rings", "object.ring"));
        var partition = ring.GetPartition("AUTH_a", "c", "o");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/object/d1/{partition}/AUTH_a/c/o") { Content = new ByteArrayContent([1, 2, 3]) };
        put.Headers.Add("X-Timestamp", "1795450000.00000");
        using var stored = await http.SendAsync(put);
        using var read = await http.GetAsync($"/object/d1/{partition}/AUTH_a/c/o");

        Assert.Equal(HttpStatusCode.Created, stored.StatusCode);
        Assert.Equal([1, 2, 3], await read.Content.ReadAsByteArrayAsync());
        var health = await daemon.Http.GetStringAsync("/healthz");
        Assert.Contains("\"storage-node\"", health, StringComparison.Ordinal);
        Assert.Contains("\"role\":\"storage\"", health, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_storage_node_without_rings_refuses_to_start_and_names_the_fix()
    {
        using var home = new TempDirectory();

        var refusal = await Assert.ThrowsAsync<ConfigurationException>(() => TestDaemon.StartAsync(home.Path, Settings(LocalMachine.FreePort())));

        Assert.Contains("object.ring", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("nimbus ring", refusal.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Settings(int port) => new()
    {
        ["Daemon:Role"] = "storage",
        ["Objects:NodePort"] = port.ToString(CultureInfo.InvariantCulture),
    };

    private static async Task WriteRingsAsync(string directory, int port)
    {
        Directory.CreateDirectory(directory);
        foreach (var name in (string[])[RingSet.AccountRing, RingSet.ContainerRing, RingSet.ObjectRing])
        {
            var builder = RingBuilder.Create(partPower: 4, replicas: 1, minPartHours: 1);
            builder.AddDevice(1, 1, "127.0.0.1", port, "d1", 100);
            builder.Rebalance(DateTimeOffset.UnixEpoch);
            await builder.WriteRingAsync(RingSet.PathOf(directory, name), CancellationToken.None);
        }
    }
}

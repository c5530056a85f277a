using System.Globalization;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Nimbus.Objects.Common;
using Nimbus.Objects.Http;
using Nimbus.Objects.Ring;
using Nimbus.Objects.Servers;
using Nimbus.Objects.Storage;

namespace Nimbus.Objects.Daemons;

/// <summary>
/// Swift's object replicator, over HTTP instead of rsync: for every partition a device holds, it
/// compares per-suffix hashes with the partition's other primaries, lists the objects of the
/// suffixes that differ, and pushes every version the peer lacks or holds older (data, tombstone,
/// metadata). A device that holds a partition it is not a primary for (a handoff) pushes it to the
/// primaries and removes it once every primary has it.
/// </summary>
public sealed class ObjectReplicator(StorageNodeSettings node, IObjectBackend objects, RingSet rings, BackendClient backend, TimeProvider time, ILogger logger)
    : StorageDaemon("object-replicator", TimeSpan.FromSeconds(30), time, logger)
{
    public override async Task<DaemonPass> RunOnceAsync(CancellationToken cancellationToken)
    {
        var pass = DaemonPass.Empty;
        foreach (var device in Devices(node.DevicesRoot))
        {
            foreach (var partition in await objects.ListPartitionsAsync(device, cancellationToken))
            {
                pass += await ReplicatePartitionAsync(device, partition, cancellationToken);
            }
        }

        return pass;
    }

    private async Task<DaemonPass> ReplicatePartitionAsync(string device, int partition, CancellationToken cancellationToken)
    {
        var ring = rings.Objects;
        if (partition >= ring.PartitionCount)
        {
            return DaemonPass.Empty;
        }

        var primaries = ring.GetPrimaryNodes(partition);
        var isPrimary = primaries.Any(d => IsThisDevice(d, device));
        var targets = primaries.Where(d => !IsThisDevice(d, device)).ToList();
        var local = await objects.GetSuffixHashesAsync(device, partition, cancellationToken);
        var pushed = 0;
        var failed = 0;
        foreach (var target in targets)
        {
            var outcome = await SyncWithAsync(device, partition, local, target, cancellationToken);
            if (outcome is null)
            {
                failed++;
                continue;
            }

            pushed += outcome.Value;
            if (outcome.Value > 0)
            {
                ObjectsLog.Replicated(Logger, outcome.Value, partition, device, target.Server);
            }
        }

        if (!isPrimary && failed == 0)
        {
            // Every primary now holds what this handoff held.
            await objects.RemovePartitionAsync(device, partition, cancellationToken);
        }

        return new DaemonPass(1, pushed, failed);
    }

    /// <summary>Brings one peer up to date with this device; the number of versions pushed, or null when the peer could not be synced.</summary>
    private async Task<int?> SyncWithAsync(string device, int partition, IReadOnlyDictionary<string, string> local, RingDevice target, CancellationToken cancellationToken)
    {
        var baseUrl = $"{BackendClient.ServerUrl(target.Ip, target.Port, "object")}/{SwiftPath.Encode(target.Device)}/{partition.ToString(CultureInfo.InvariantCulture)}";
        var remote = await ReplicateAsync<Dictionary<string, string>>(baseUrl, cancellationToken);
        if (remote is null)
        {
            return null;
        }

        var differing = local.Where(s => !remote.TryGetValue(s.Key, out var hash) || hash != s.Value).Select(s => s.Key).ToList();
        if (differing.Count == 0)
        {
            return 0;
        }

        var remoteVersions = await ReplicateAsync<List<ReplicatedVersion>>($"{baseUrl}?suffixes={string.Join(',', differing)}", cancellationToken);
        if (remoteVersions is null)
        {
            return null;
        }

        var theirs = remoteVersions.ToDictionary(v => v.Hash, StringComparer.Ordinal);
        var pushed = 0;
        foreach (var mine in await objects.ListObjectsAsync(device, partition, differing, cancellationToken))
        {
            theirs.TryGetValue(mine.Hash, out var their);
            var theirData = their is null ? SwiftTimestamp.Zero : new SwiftTimestamp(their.DataTicks);
            var theirMeta = their?.MetadataTicks is { } ticks ? new SwiftTimestamp(ticks) : theirData;
            var dataNewer = their is null || mine.DataTimestamp > theirData;
            var metaNewer = mine.MetadataTimestamp is { } meta && meta > theirMeta;
            if (!dataNewer && !metaNewer)
            {
                continue;
            }

            if (!await PushAsync(new ObjectLocation(device, partition, mine.Hash), target, partition, dataNewer, cancellationToken))
            {
                return null;
            }

            pushed++;
        }

        return pushed;
    }

    /// <summary>Sends one object's newest state to a peer: its data, its tombstone, and its newer metadata.</summary>
    private async Task<bool> PushAsync(ObjectLocation location, RingDevice target, int partition, bool sendData, CancellationToken cancellationToken)
    {
        await using var handle = await objects.OpenAsync(location, cancellationToken);
        if (handle.Presence == ObjectPresence.Missing || !handle.Metadata.TryGetValue("name", out var name))
        {
            return true;
        }

        var url = $"{BackendClient.ServerUrl(target.Ip, target.Port, "object")}/{SwiftPath.Encode(target.Device)}/{partition.ToString(CultureInfo.InvariantCulture)}{SwiftPath.JoinName(name)}";
        if (handle.Presence == ObjectPresence.Deleted)
        {
            var status = await backend.SendForStatusAsync(HttpMethod.Delete, url, [new("X-Timestamp", handle.Timestamp.Normal)], cancellationToken);
            return status is >= 200 and < 300 or 404 or 409;
        }

        if (sendData)
        {
            using var put = BackendClient.NewRequest(HttpMethod.Put, url);
            put.Content = new StreamContent(handle.OpenRead());
            put.Content.Headers.ContentLength = handle.Length;
            foreach (var (key, value) in handle.Metadata)
            {
                if (key is not ("name" or "X-Timestamp" or "Content-Length"))
                {
                    BackendClient.AddHeaders(put, [new(key, value)]);
                }
            }

            put.Headers.Remove("X-Timestamp");
            put.Headers.TryAddWithoutValidation("X-Timestamp", handle.Timestamp.Normal);
            using var response = await backend.SendAsync(put, cancellationToken);
            if (response is null || (int)response.StatusCode is not (201 or 409))
            {
                return false;
            }
        }

        if (handle.MetadataTimestamp is { } metadataTimestamp)
        {
            var headers = handle.Metadata
                .Where(m => m.Key.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) || m.Key is "Content-Type" or "X-Delete-At" or "Content-Disposition" or "Content-Encoding")
                .Append(new("X-Timestamp", metadataTimestamp.Normal));
            var status = await backend.SendForStatusAsync(HttpMethod.Post, url, headers, cancellationToken);
            return status is 202 or 409;
        }

        return true;
    }


    private async Task<T?> ReplicateAsync<T>(string url, CancellationToken cancellationToken)
        where T : class
    {
        using var request = BackendClient.NewRequest(new HttpMethod("REPLICATE"), url);
        using var response = await backend.SendAsync(request, cancellationToken);
        if (response is null || !response.IsSuccessStatusCode)
        {
            return null;
        }

        return await response.Content.ReadFromJsonAsync<T>(ReplicationJson.Options, cancellationToken);
    }

    private bool IsThisDevice(RingDevice device, string name) =>
        device.Ip == node.Ip && device.Port == node.Port && device.Device == name;
}

using System.Globalization;
using Microsoft.Extensions.Logging;
using Nimbus.Objects.Common;
using Nimbus.Objects.Http;
using Nimbus.Objects.Ring;
using Nimbus.Objects.Servers;
using Nimbus.Objects.Storage;

namespace Nimbus.Objects.Daemons;

/// <summary>
/// Swift's object expirer: deletes objects whose X-Delete-At has passed, on every replica, with the
/// delete-at time as the tombstone's timestamp and X-If-Delete-At so a newer version survives, and
/// with the container update so listings drop them. Reads already hide expired objects; this
/// reclaims their space and their listing rows. The first primary of an object's partition acts
/// for it, so one expiry is one delete.
/// </summary>
public sealed class ObjectExpirer(StorageNodeSettings node, IObjectBackend objects, RingSet rings, BackendClient backend, TimeProvider time, ILogger logger)
    : StorageDaemon("object-expirer", TimeSpan.FromMinutes(5), time, logger)
{
    public override async Task<DaemonPass> RunOnceAsync(CancellationToken cancellationToken)
    {
        var pass = DaemonPass.Empty;
        var now = Time.GetUtcNow().ToUnixTimeSeconds();
        foreach (var device in Devices(node.DevicesRoot))
        {
            await foreach (var location in objects.EnumerateAsync(device, cancellationToken))
            {
                pass += await ExpireAsync(location, now, cancellationToken);
            }
        }

        return pass;
    }

    private async Task<DaemonPass> ExpireAsync(ObjectLocation location, long now, CancellationToken cancellationToken)
    {
        string? name;
        string? deleteAtText;
        await using (var handle = await objects.OpenAsync(location, cancellationToken))
        {
            if (handle.Presence != ObjectPresence.Present
                || !handle.Metadata.TryGetValue("X-Delete-At", out deleteAtText)
                || !long.TryParse(deleteAtText, NumberStyles.None, CultureInfo.InvariantCulture, out var deleteAt)
                || deleteAt > now
                || !handle.Metadata.TryGetValue("name", out name))
            {
                return new DaemonPass(1, 0, 0);
            }
        }

        var parts = name.TrimStart('/').Split('/', 3);
        if (parts.Length < 3)
        {
            return new DaemonPass(1, 0, 0);
        }

        var ring = rings.Objects;
        var primaries = ring.GetPrimaryNodes(location.Partition);
        if (primaries.Count == 0 || !(primaries[0].Ip == node.Ip && primaries[0].Port == node.Port && primaries[0].Device == location.Device))
        {
            return new DaemonPass(1, 0, 0);
        }

        var containerRing = rings.Containers;
        var containerPartition = containerRing.GetPartition(parts[0], parts[1]);
        var containerNodes = containerRing.GetPrimaryNodes(containerPartition);
        var path = SwiftPath.Join(parts[0], parts[1], parts[2]);
        var timestamp = SwiftTimestamp.FromSeconds(long.Parse(deleteAtText, CultureInfo.InvariantCulture));
        var deleted = 0;
        for (var replica = 0; replica < primaries.Count; replica++)
        {
            var target = primaries[replica];
            var headers = new List<KeyValuePair<string, string>>
            {
                new("X-Timestamp", timestamp.Normal),
                new("X-If-Delete-At", deleteAtText),
            };
            if (replica < containerNodes.Count)
            {
                headers.Add(new("X-Container-Host", containerNodes[replica].Server));
                headers.Add(new("X-Container-Device", containerNodes[replica].Device));
                headers.Add(new("X-Container-Partition", containerPartition.ToString(CultureInfo.InvariantCulture)));
            }

            var url = $"{BackendClient.ServerUrl(target.Ip, target.Port, "object")}/{SwiftPath.Encode(target.Device)}/{location.Partition.ToString(CultureInfo.InvariantCulture)}{path}";
            var status = await backend.SendForStatusAsync(HttpMethod.Delete, url, headers, cancellationToken);
            if (status is >= 200 and < 300 or 404 or 409 or 412)
            {
                deleted++;
            }
        }

        return deleted == primaries.Count ? new DaemonPass(1, 1, 0) : new DaemonPass(1, 0, 1);
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Nimbus.Objects.Databases;
using Nimbus.Objects.Http;
using Nimbus.Objects.Ring;
using Nimbus.Objects.Servers;

namespace Nimbus.Objects.Daemons;

/// <summary>
/// Swift's container updater: tells the account servers each container's object count and bytes
/// used, so account listings and HEADs add up. Containers the server changed are reported within a
/// second; a full pass over every database catches whatever was missed (a restart, an account
/// server that was down).
/// </summary>
public sealed class ContainerUpdater(string devicesRoot, RingSet rings, BackendClient backend, TimeProvider time, ILogger logger)
    : StorageDaemon("container-updater", TimeSpan.FromMinutes(5), time, logger)
{
    private readonly ConcurrentDictionary<string, byte> _changed = new(StringComparer.Ordinal);

    protected override TimeSpan BetweenPassesInterval => TimeSpan.FromSeconds(1);

    /// <summary>Notes a container database whose stats changed, for the next between-pass round.</summary>
    public void Changed(string databasePath) => _changed.TryAdd(databasePath, 0);

    public override async Task<DaemonPass> RunOnceAsync(CancellationToken cancellationToken)
    {
        var pass = DaemonPass.Empty;
        foreach (var device in Devices(devicesRoot))
        {
            var containers = Path.Combine(devicesRoot, device, "containers");
            if (!Directory.Exists(containers))
            {
                continue;
            }

            foreach (var path in Directory.EnumerateFiles(containers, "*.db", SearchOption.AllDirectories))
            {
                pass += await ReportAsync(path, cancellationToken);
            }
        }

        return pass;
    }

    /// <summary>Reports the containers changed since the last round.</summary>
    public async Task<DaemonPass> RunChangedAsync(CancellationToken cancellationToken)
    {
        var pass = DaemonPass.Empty;
        foreach (var path in _changed.Keys)
        {
            _changed.TryRemove(path, out _);
            pass += await ReportAsync(path, cancellationToken);
        }

        return pass;
    }

    protected override Task RunBetweenPassesAsync(CancellationToken cancellationToken) => RunChangedAsync(cancellationToken);

    private async Task<DaemonPass> ReportAsync(string path, CancellationToken cancellationToken)
    {
        var database = await ContainerDatabase.OpenAsync(path, cancellationToken);
        if (database is null)
        {
            return DaemonPass.Empty;
        }

        var info = await database.GetInfoAsync(cancellationToken);
        if (!info.NeedsReport)
        {
            return new DaemonPass(1, 0, 0);
        }

        var ring = rings.Accounts;
        var partition = ring.GetPartition(info.Account);
        var nodes = ring.GetPrimaryNodes(partition);
        var delivered = 0;
        foreach (var node in nodes)
        {
            if (await BackendUpdates.SendContainerReportAsync(backend, BackendClient.ServerUrl(node.Ip, node.Port, "account"), node.Device, partition, info, cancellationToken))
            {
                delivered++;
            }
        }

        // Swift's quorum: a majority of account replicas; the account replicator spreads the rest.
        if (delivered >= (nodes.Count / 2) + 1)
        {
            await database.MarkReportedAsync(info, cancellationToken);
            return new DaemonPass(1, 1, 0);
        }

        Changed(path);
        return new DaemonPass(1, 0, 1);
    }
}

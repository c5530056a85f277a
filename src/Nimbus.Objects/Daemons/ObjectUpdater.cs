using Microsoft.Extensions.Logging;
using Nimbus.Objects.Http;
using Nimbus.Objects.Ring;
using Nimbus.Objects.Servers;
using Nimbus.Objects.Storage;

namespace Nimbus.Objects.Daemons;

/// <summary>
/// Swift's object updater: retries the container updates that object servers could not deliver
/// (async pendings), sending each to every container replica, and forgets one only when all took it.
/// </summary>
public sealed class ObjectUpdater(string devicesRoot, AsyncPendingStore pending, RingSet rings, BackendClient backend, TimeProvider time, ILogger logger)
    : StorageDaemon("object-updater", TimeSpan.FromSeconds(30), time, logger)
{
    public override async Task<DaemonPass> RunOnceAsync(CancellationToken cancellationToken)
    {
        var pass = DaemonPass.Empty;
        foreach (var device in Devices(devicesRoot))
        {
            await foreach (var item in pending.EnumerateAsync(device, cancellationToken))
            {
                var update = item.Update;
                var ring = rings.Containers;
                var partition = ring.GetPartition(update.Account, update.Container);
                var current = update with { ContainerPartition = partition };
                var delivered = 0;
                var nodes = ring.GetPrimaryNodes(partition);
                foreach (var node in nodes)
                {
                    var status = await BackendUpdates.SendContainerUpdateAsync(backend, BackendClient.ServerUrl(node.Ip, node.Port, "container"), node.Device, current, cancellationToken);
                    if (status is >= 200 and < 300)
                    {
                        delivered++;
                    }
                }

                if (delivered == nodes.Count)
                {
                    await pending.CompleteAsync(device, item.Id, cancellationToken);
                    pass += new DaemonPass(1, 1, 0);
                }
                else
                {
                    pass += new DaemonPass(1, 0, 1);
                }
            }
        }

        return pass;
    }
}

using Nimbus.Objects.Http;
using Nimbus.Objects.Ring;
using Nimbus.Objects.Servers;
using Nimbus.Platform.Errors;
using Nimbus.Platform.Health;

namespace Nimbus.Daemon.Objects;

/// <summary>
/// <c>nimbusd --role storage</c>: one storage node of a cluster, serving the object, container and
/// account servers for the devices under its devices root and running their daemons, as a Swift
/// storage host does. Its rings are built elsewhere (<c>nimbus ring</c>) and shipped to its ring directory.
/// </summary>
internal sealed class StorageNodeService(ObjectsOptions options, DaemonOptions daemon, DaemonInfo info, TimeProvider time, ILoggerFactory loggerFactory, ServiceHealthRegistry health)
    : IHostedService, IAsyncDisposable
{
    public const string ServiceName = "storage-node";

    private readonly BackendClient _backend = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(options.NodeTimeoutSeconds));
    private StorageNodeHost? _node;

    public string DevicesRoot => options.DevicesRoot ?? Path.Combine(info.Home, "objects", "devices");

    public string RingDirectory => options.RingDirectory ?? Path.Combine(info.Home, "objects", "rings");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        health.Set(ServiceName, ServiceState.Starting);
        foreach (var ring in (string[])[RingSet.AccountRing, RingSet.ContainerRing, RingSet.ObjectRing])
        {
            if (!File.Exists(RingSet.PathOf(RingDirectory, ring)))
            {
                throw new ConfigurationException(
                    "objects.no_ring",
                    "Objects:RingDirectory",
                    $"a storage node needs the cluster's rings, and {RingSet.PathOf(RingDirectory, ring)} is missing; build them with `nimbus ring` and copy account.ring, container.ring and object.ring there (or set Objects:RingDirectory).");
            }
        }

        Directory.CreateDirectory(DevicesRoot);
        _node = new StorageNodeHost(new StorageNodeSettings(0, daemon.Listen, options.NodePort, DevicesRoot, RingDirectory), _backend, time, loggerFactory);
        await _node.StartAsync(cancellationToken);
        health.Set(ServiceName, ServiceState.Running);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        health.Set(ServiceName, ServiceState.Stopping);
        if (_node is not null)
        {
            await _node.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }

        _backend.Dispose();
    }
}

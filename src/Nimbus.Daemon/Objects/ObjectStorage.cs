using Nimbus.Objects.Cluster;
using Nimbus.Objects.Http;
using Nimbus.Objects.Middleware;
using Nimbus.Objects.Servers;
using Nimbus.Platform.Auth;
using Nimbus.Platform.Health;

namespace Nimbus.Daemon.Objects;

/// <summary>
/// Object storage in the all-in-one: runs the local cluster (rings, storage nodes, proxy) under
/// <c>$NIMBUS_HOME/objects</c>; the API host serves its pipeline at /v1, /auth, /info and /healthcheck.
/// </summary>
internal sealed class ObjectStorage(ObjectsOptions options, DaemonOptions daemon, DaemonInfo info, TimeProvider time, ILoggerFactory loggerFactory, ServiceHealthRegistry health, ObjectsMetrics metrics, IServiceProvider services)
    : IHostedService, IAsyncDisposable
{
    public const string ServiceName = "objects";

    private const int MinWorkerThreads = 64;

    private LocalCluster? _cluster;
    private Uri? _apiUrl;

    public static string SwiftRcPath(string home) => Path.Combine(home, "swiftrc");

    public IReadOnlyList<StorageNodeHost> Nodes => _cluster?.Nodes ?? [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        health.Set(ServiceName, ServiceState.Starting);
        // Object servers block a thread in fsync for every write they commit; without enough threads
        // ready, concurrent uploads wait on the thread pool's slow growth instead of the disk.
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, MinWorkerThreads), completionPorts);
        var settings = new LocalClusterSettings(Path.Combine(info.Home, "objects"), NodeAddress())
        {
            Nodes = options.Nodes,
            Replicas = options.Replicas,
            PartPower = options.PartPower,
            BasePort = options.BasePort,
            // An all-in-one asked for any free API port may have a twin beside it: its nodes take free ports too.
            AnyFreePorts = daemon.Port == 0,
            Pipeline = options.Pipeline,
            NodeTimeout = TimeSpan.FromSeconds(options.NodeTimeoutSeconds),
            // Resolved at start, once Identity has its keys: keystoneauth accepts its tokens when it runs.
            TokenValidator = services.GetService<ITokenValidator>(),
        };
        _cluster = await LocalCluster.StartAsync(settings, time, loggerFactory, cancellationToken);
        health.Set(ServiceName, ServiceState.Running);
    }

    /// <summary>Serves a request of the Swift API, measured; 503 until the cluster has started.</summary>
    public Task HandleAsync(HttpContext context) => metrics.MeasureAsync(context, ServeAsync);

    private Task ServeAsync(HttpContext context) =>
        _cluster is { } cluster ? cluster.HandleAsync(context) : SwiftResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable);

    public StorageNodeHost Node(int node) =>
        (_cluster ?? throw new Platform.Errors.ServiceUnavailableException("objects.starting", "object storage is still starting; try again in a moment.")).Node(node);

    /// <summary>tempauth's admin:admin, the all-in-one's own user, with its current key; null until the cluster has started.</summary>
    public TempAuthUser? AdminUser() =>
        _cluster?.Auth.Users.FirstOrDefault(u => u.Account == TempAuthStore.AdminAccount && u.User == TempAuthStore.AdminUser);

    /// <summary>tempauth's users file; changes through it reach the proxy at once.</summary>
    public TempAuthStore TempAuthUsers =>
        (_cluster ?? throw new Platform.Errors.ServiceUnavailableException("objects.starting", "object storage is still starting; try again in a moment.")).Users;

    public async Task WriteSwiftRcAsync(string home, Uri apiUrl, CancellationToken cancellationToken)
    {
        if (_cluster is { } cluster)
        {
            await cluster.WriteSwiftRcAsync(SwiftRcPath(home), apiUrl, cancellationToken);
            _apiUrl = apiUrl;
        }
    }

    /// <summary>Gives a tempauth user a new key; a new key for admin:admin is written into swiftrc too.</summary>
    public async Task<TempAuthUser> SetTempAuthKeyAsync(string account, string user, string? key, CancellationToken cancellationToken)
    {
        var changed = await TempAuthUsers.SetKeyAsync(account, user, key, cancellationToken);
        if (account == TempAuthStore.AdminAccount && user == TempAuthStore.AdminUser && _apiUrl is { } apiUrl)
        {
            await WriteSwiftRcAsync(info.Home, apiUrl, cancellationToken);
        }

        return changed;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        health.Set(ServiceName, ServiceState.Stopping);
        foreach (var node in Nodes)
        {
            await node.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    /// <summary>Nodes listen where the API host does; a wildcard API address still gives nodes loopback.</summary>
    private string NodeAddress() => daemon.Listen is "0.0.0.0" or "::" ? "127.0.0.1" : daemon.Listen;
}

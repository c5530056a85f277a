using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Nimbus.Objects.Http;
using Nimbus.Objects.Middleware;
using Nimbus.Objects.Proxy;
using Nimbus.Objects.Ring;
using Nimbus.Objects.Servers;
using Nimbus.Shared;

namespace Nimbus.Objects.Cluster;

/// <summary>The shape of a cluster on one machine; the ring settings apply when the rings are first built.</summary>
public sealed record LocalClusterSettings(string Root, string Ip)
{
    public int Nodes { get; init; } = 4;

    public int Replicas { get; init; } = 3;

    public int PartPower { get; init; } = 10;

    /// <summary>Node N listens on BasePort + N when the rings are first built; afterwards the ring says where.</summary>
    public int BasePort { get; init; } = 6200;

    /// <summary>
    /// Whether the rings, when first built, give the nodes ports the system picks instead of
    /// BasePort + N (an all-in-one asked for any free port). Also done when one of BasePort + N is
    /// taken then. The ring keeps the ports, so later starts reuse them.
    /// </summary>
    public bool AnyFreePorts { get; init; }

    public string Pipeline { get; init; } = ProxyPipeline.DefaultPipeline;

    public TimeSpan NodeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Origins and exposed headers every container allows, besides its own CORS metadata.</summary>
    public CorsSettings Cors { get; init; } = new();

    /// <summary>Whether the nodes' consistency daemons run on their own; tests run their passes by hand.</summary>
    public bool RunDaemons { get; init; } = true;

    /// <summary>The bulk filter's limits (bulk delete and archive extraction).</summary>
    public BulkSettings Bulk { get; init; } = new();

    /// <summary>The ratelimit filter's rates; all off by default, as in Swift.</summary>
    public RateLimitSettings RateLimit { get; init; } = new();

    /// <summary>Identity's token check for keystoneauth; without it only tempauth tokens are accepted.</summary>
    public Nimbus.Platform.Auth.ITokenValidator? TokenValidator { get; init; }

    public KeystoneAuthSettings KeystoneAuth { get; init; } = new();
}

/// <summary>
/// A whole Swift-style cluster on one machine, as the all-in-one runs it: the rings (built on first
/// start, one device per node, each node its own zone so replicas land on different nodes), the
/// storage nodes (each its own listener and devices under <c>Root/nodes/N</c>), tempauth's users,
/// and the proxy pipeline in front.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    public const string DeviceName = "d1";

    private readonly BackendClient _backend;
    private readonly List<StorageNodeHost> _nodes;
    private readonly RequestDelegate _pipeline;

    private LocalCluster(BackendClient backend, List<StorageNodeHost> nodes, RequestDelegate pipeline, TempAuthStore users, RingSet rings)
    {
        _backend = backend;
        _nodes = nodes;
        _pipeline = pipeline;
        Users = users;
        Rings = rings;
    }

    public static string RingDirectoryIn(string root) => Path.Combine(root, "rings");

    public static string TempAuthPathIn(string root) => Path.Combine(root, "tempauth.json");

    public static string NodeRootIn(string root, int node) => Path.Combine(root, "nodes", node.ToString(CultureInfo.InvariantCulture));

    public IReadOnlyList<StorageNodeHost> Nodes => _nodes;

    /// <summary>tempauth's users as they are now (they change while running through <see cref="Users"/>).</summary>
    public TempAuthSettings Auth => Users.Current;

    /// <summary>tempauth's users file; changes made through it reach the proxy at once.</summary>
    public TempAuthStore Users { get; }

    public RingSet Rings { get; }

    public static async Task<LocalCluster> StartAsync(LocalClusterSettings settings, TimeProvider time, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var ringDirectory = RingDirectoryIn(settings.Root);
        Directory.CreateDirectory(ringDirectory);
        await EnsureRingsAsync(settings, time, cancellationToken);
        var users = await TempAuthStore.OpenAsync(TempAuthPathIn(settings.Root), cancellationToken);
        var rings = new RingSet(ringDirectory, time);
        var backend = new BackendClient(settings.ConnectTimeout, settings.NodeTimeout);
        var nodes = new List<StorageNodeHost>();
        try
        {
            foreach (var device in rings.Objects.Devices.OrderBy(d => d.Zone))
            {
                var node = device.Zone;
                Directory.CreateDirectory(Path.Combine(NodeRootIn(settings.Root, node), device.Device));
                var host = new StorageNodeHost(new StorageNodeSettings(node, device.Ip, device.Port, NodeRootIn(settings.Root, node), ringDirectory) { RunDaemons = settings.RunDaemons }, backend, time, loggerFactory);
                nodes.Add(host);
                await host.StartAsync(cancellationToken);
            }

            var info = new SwiftInfo();
            var tempAuth = new TempAuth(users.Current, time, info);
            users.Changed += changed => tempAuth.UseUsers(changed.Users);
            var proxy = new ProxyServer(rings, backend, time, new ProxySettings { InfoCacheTime = TimeSpan.FromSeconds(10) });
            IProxyMiddleware[] middlewares =
            [
                new CatchErrors(time, loggerFactory.CreateLogger<CatchErrors>()),
                new Healthcheck(),
                new Cors(proxy, settings.Cors),
                new Bulk(settings.Bulk, time, loggerFactory.CreateLogger<Bulk>(), info),
                new TempUrl(time, info),
                new FormPost(time, info),
                new RateLimit(settings.RateLimit, time, loggerFactory.CreateLogger<RateLimit>(), info),
                tempAuth,
                new KeystoneAuth(settings.KeystoneAuth, settings.TokenValidator, info),
                new StaticWeb(proxy, info),
                new ContainerQuotas(info),
                new AccountQuotas(info),
                new StaticLargeObject(new StaticLargeObjectSettings(), info),
                new DynamicLargeObject(new DynamicLargeObjectSettings(), info),
                new VersionedWrites(proxy, time, info),
            ];
            var pipeline = ProxyPipeline.Build(settings.Pipeline, middlewares, proxy, info);
            return new LocalCluster(backend, nodes, pipeline, users, rings);
        }
        catch
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            backend.Dispose();
            users.Dispose();
            throw;
        }
    }

    /// <summary>Serves one request of the Swift API (/v1, /auth, /info, /healthcheck) through the pipeline.</summary>
    public Task HandleAsync(HttpContext context)
    {
        // Objects are streamed, and a single PUT may carry up to 5 GiB.
        var bodySize = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (bodySize is { IsReadOnly: false })
        {
            bodySize.MaxRequestBodySize = null;
        }

        return _pipeline(context);
    }

    public StorageNodeHost Node(int node) =>
        _nodes.FirstOrDefault(n => n.Settings.Node == node)
        ?? throw new Platform.Errors.NotFoundException("objects.no_such_node", $"there is no storage node {node}; the nodes are {string.Join(", ", _nodes.Select(n => n.Settings.Node))}.");

    /// <summary>
    /// The OS_* variables an openrc (this one, or one from any other cloud) may leave behind and the swift client
    /// prefers over ST_*: the swiftrc clears them so that the client asks tempauth, not Identity.
    /// </summary>
    public static IReadOnlyList<string> OpenRcVariables { get; } =
    [
        "OS_AUTH_URL", "OS_AUTH_TYPE", "OS_AUTH_VERSION", "OS_IDENTITY_API_VERSION", "OS_CLOUD",
        "OS_USERNAME", "OS_USER_ID", "OS_PASSWORD", "OS_AUTH_TOKEN", "OS_TOKEN", "OS_STORAGE_URL",
        "OS_PROJECT_NAME", "OS_PROJECT_ID", "OS_TENANT_NAME", "OS_TENANT_ID",
        "OS_USER_DOMAIN_NAME", "OS_USER_DOMAIN_ID", "OS_PROJECT_DOMAIN_NAME", "OS_PROJECT_DOMAIN_ID",
        "OS_DOMAIN_NAME", "OS_DOMAIN_ID", "OS_REGION_NAME", "OS_INTERFACE", "OS_ENDPOINT_TYPE", "OS_SERVICE_TYPE",
    ];

    /// <summary>Writes a swiftrc with the admin user's credentials: <c>source</c> it and <c>swift stat</c> works.</summary>
    public async Task WriteSwiftRcAsync(string path, Uri apiUrl, CancellationToken cancellationToken)
    {
        var admin = Auth.Users.First(u => u.Account == TempAuthStore.AdminAccount && u.User == TempAuthStore.AdminUser);
        var text = new StringBuilder()
            .AppendLine("# Object storage credentials of this Nimbus all-in-one, for the swift client: source this file.")
            .AppendLine("# It stands alone: OS_* variables left by an openrc would make the swift client ask Identity instead.")
            .AppendLine(CultureInfo.InvariantCulture, $"unset {string.Join(' ', OpenRcVariables)}")
            .AppendLine("export ST_AUTH_VERSION=1.0")
            .AppendLine(CultureInfo.InvariantCulture, $"export ST_AUTH={apiUrl.GetLeftPart(UriPartial.Authority)}/auth/v1.0")
            .AppendLine(CultureInfo.InvariantCulture, $"export ST_USER={admin.Account}:{admin.User}")
            .AppendLine(CultureInfo.InvariantCulture, $"export ST_KEY={admin.Key}")
            .ToString();
        await AtomicFile.WriteAllTextAsync(path, text, AtomicFile.OwnerOnly, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        _backend.Dispose();
        Users.Dispose();
    }

    private static async Task EnsureRingsAsync(LocalClusterSettings settings, TimeProvider time, CancellationToken cancellationToken)
    {
        var directory = RingDirectoryIn(settings.Root);
        var names = (string[])[RingSet.AccountRing, RingSet.ContainerRing, RingSet.ObjectRing];
        var missing = names.Where(name => !File.Exists(RingSet.PathOf(directory, name))).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        // A ring already built (a first start cut short) fixes the ports for the rest, so all three agree.
        var built = names.Except(missing).Select(name => HashRing.Load(RingSet.PathOf(directory, name))).FirstOrDefault();
        var ports = built is not null
            ? built.Devices.ToDictionary(d => d.Zone, d => d.Port)
            : NodePorts(settings);
        foreach (var name in missing)
        {
            var builder = RingBuilder.Create(settings.PartPower, settings.Replicas, minPartHours: 1);
            foreach (var (node, port) in ports.OrderBy(p => p.Key))
            {
                builder.AddDevice(region: 1, zone: node, settings.Ip, port, DeviceName, weight: 100);
            }

            builder.Rebalance(time.GetUtcNow());
            await builder.SaveAsync(Path.Combine(directory, name + ".builder"), cancellationToken);
            await builder.WriteRingAsync(RingSet.PathOf(directory, name), cancellationToken);
        }
    }

    /// <summary>
    /// BasePort + N for node N when all are free, else (or when asked) ports the system picks: all
    /// held open until every node has one, so no two nodes get the same port.
    /// </summary>
    private static Dictionary<int, int> NodePorts(LocalClusterSettings settings)
    {
        var nodes = Enumerable.Range(1, settings.Nodes).ToList();
        var address = IPAddress.Parse(settings.Ip);
        if (!settings.AnyFreePorts && nodes.All(node => PortFree(address, settings.BasePort + node)))
        {
            return nodes.ToDictionary(node => node, node => settings.BasePort + node);
        }

        var held = new List<Socket>();
        try
        {
            var ports = new Dictionary<int, int>();
            foreach (var node in nodes)
            {
                var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                held.Add(socket);
                socket.Bind(new IPEndPoint(address, 0));
                ports[node] = ((IPEndPoint)socket.LocalEndPoint!).Port;
            }

            return ports;
        }
        finally
        {
            foreach (var socket in held)
            {
                socket.Dispose();
            }
        }
    }

    private static bool PortFree(IPAddress address, int port)
    {
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(address, port));
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return false;
        }
    }
}

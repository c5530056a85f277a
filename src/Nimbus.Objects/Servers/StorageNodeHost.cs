using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nimbus.Objects.Daemons;
using Nimbus.Objects.Http;
using Nimbus.Objects.Ring;
using Nimbus.Objects.Storage;

namespace Nimbus.Objects.Servers;

/// <summary>Where one storage node listens and keeps its devices.</summary>
public sealed record StorageNodeSettings(int Node, string Ip, int Port, string DevicesRoot, string RingDirectory)
{
    /// <summary>Whether the replicator, auditor, updaters and expirer run on their own; tests run passes by hand.</summary>
    public bool RunDaemons { get; init; } = true;
}

/// <summary>
/// One storage node: its own HTTP listener serving the object, container and account servers for
/// the devices under its root. Nodes of the all-in-one run side by side in one process and can be
/// stopped and started one by one, as separate machines would fail.
/// </summary>
public sealed class StorageNodeHost : IAsyncDisposable
{
    private readonly StorageNodeSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly BackendClient _backend;
    private readonly ILogger _logger;
    private WebApplication? _app;
    private CancellationTokenSource? _daemonsStop;
    private Task[] _daemonLoops = [];

    public StorageNodeHost(StorageNodeSettings settings, BackendClient backend, TimeProvider time, ILoggerFactory loggerFactory)
    {
        _settings = settings;
        _backend = backend;
        _time = time;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<StorageNodeHost>();
        Backend = new DiskObjectBackend(settings.DevicesRoot, time);
        Pending = new AsyncPendingStore(settings.DevicesRoot);
        Rings = new RingSet(settings.RingDirectory, time);
        Replicator = new ObjectReplicator(settings, Backend, Rings, backend, time, loggerFactory.CreateLogger<ObjectReplicator>());
        Auditor = new ObjectAuditor(settings.DevicesRoot, Backend, time, loggerFactory.CreateLogger<ObjectAuditor>());
        ObjectUpdater = new ObjectUpdater(settings.DevicesRoot, Pending, Rings, backend, time, loggerFactory.CreateLogger<ObjectUpdater>());
        ContainerUpdater = new ContainerUpdater(settings.DevicesRoot, Rings, backend, time, loggerFactory.CreateLogger<ContainerUpdater>());
        Expirer = new ObjectExpirer(settings, Backend, Rings, backend, time, loggerFactory.CreateLogger<ObjectExpirer>());
    }

    public RingSet Rings { get; }

    public ObjectReplicator Replicator { get; }

    public ObjectAuditor Auditor { get; }

    public ObjectUpdater ObjectUpdater { get; }

    public ContainerUpdater ContainerUpdater { get; }

    public ObjectExpirer Expirer { get; }

    /// <summary>The node's consistency daemons, in the order a full round runs them.</summary>
    public IReadOnlyList<StorageDaemon> Daemons => [Auditor, ObjectUpdater, ContainerUpdater, Replicator, Expirer];

    public StorageNodeSettings Settings => _settings;

    public IObjectBackend Backend { get; }

    public AsyncPendingStore Pending { get; }

    public bool Running => _app is not null;

    public string Url => BackendClient.ServerUrl(_settings.Ip, _settings.Port, string.Empty).TrimEnd('/');

    /// <summary>The address and port as people write them: <c>127.0.0.1:6201</c>, <c>[::1]:6201</c>.</summary>
    private string Endpoint => _settings.Ip.Contains(':', StringComparison.Ordinal) ? $"[{_settings.Ip}]:{_settings.Port}" : $"{_settings.Ip}:{_settings.Port}";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            return;
        }

        var server = new StorageServer(_settings.DevicesRoot, Backend, Pending, Rings, _backend, _time, _loggerFactory.CreateLogger<StorageServer>())
        {
            ContainerChanged = ContainerUpdater.Changed,
        };
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_loggerFactory);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
            // Header values travel as bytes (Swift's WSGI strings); Latin-1 keeps each byte as one char.
            kestrel.RequestHeaderEncodingSelector = _ => Encoding.Latin1;
            kestrel.ResponseHeaderEncodingSelector = _ => Encoding.Latin1;
            kestrel.Listen(IPAddress.Parse(_settings.Ip), _settings.Port);
        });
        var app = builder.Build();
        app.Run(server.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            await app.DisposeAsync();
            throw new Platform.Errors.ConflictException(
                "objects.node_port_in_use",
                $"storage node {_settings.Node} cannot listen on {Endpoint}: the port is already taken (the ring in {_settings.RingDirectory} puts the node there); stop what holds it, or run this all-in-one with another NIMBUS_HOME.",
                ex);
        }

        _app = app;
        if (_settings.RunDaemons)
        {
            _daemonsStop = new CancellationTokenSource();
            _daemonLoops = [.. Daemons.Select(d => Task.Run(() => d.RunForeverAsync(_daemonsStop.Token), CancellationToken.None))];
        }

        ObjectsLog.NodeStarted(_logger, _settings.Node, Url, _settings.DevicesRoot);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var app = _app;
        if (app is null)
        {
            return;
        }

        _app = null;
        if (_daemonsStop is not null)
        {
            await _daemonsStop.CancelAsync();
            await Task.WhenAll(_daemonLoops);
            _daemonsStop.Dispose();
            _daemonsStop = null;
        }

        await app.StopAsync(cancellationToken);
        await app.DisposeAsync();
        ObjectsLog.NodeStopped(_logger, _settings.Node);
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);
}

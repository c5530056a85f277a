namespace Nimbus.Daemon.Objects;

/// <summary>
/// Object storage: in the all-in-one the local cluster and the Swift API at /v1, /auth, /info and
/// /healthcheck (ahead of the OpenStack fault handling) with the nodes' local operator API; with
/// <c>--role storage</c>, one storage node of a cluster.
/// </summary>
internal sealed class ObjectsModule : IDaemonModule
{
    public IReadOnlyList<Type> OptionsTypes { get; } = [typeof(ObjectsOptions)];

    public bool RunsIn(DaemonRole role) => role is DaemonRole.All or DaemonRole.Storage;

    public void Validate(DaemonContext context) => context.Options<ObjectsOptions>();

    public void ConfigureServices(DaemonContext context, IServiceCollection services)
    {
        var options = context.Options<ObjectsOptions>();
        services.AddSingleton(options);
        if (context.Role == DaemonRole.Storage)
        {
            services.AddSingleton<StorageNodeService>();
            services.AddHostedService(provider => provider.GetRequiredService<StorageNodeService>());
        }
        else if (options.Enabled)
        {
            services.AddSingleton<ObjectsMetrics>();
            services.AddSingleton<ObjectStorage>();
            services.AddHostedService(provider => provider.GetRequiredService<ObjectStorage>());
        }
    }

    public void UseAheadOfPlatform(WebApplication app)
    {
        if (app.Services.GetService<ObjectStorage>() is { } storage)
        {
            app.UseSwiftProxy(storage);
        }
    }

    public void MapEndpoints(WebApplication app)
    {
        if (app.Services.GetService<ObjectStorage>() is not null)
        {
            app.MapObjectsAdmin();
        }
    }

    /// <summary>swiftrc before nimbus.env: nimbus.env appearing is the signal that everything is ready.</summary>
    public Task StartedAsync(DaemonStartup startup, CancellationToken cancellationToken) =>
        startup.Services.GetService<ObjectStorage>() is { } objects
            ? objects.WriteSwiftRcAsync(startup.Home, startup.Url, cancellationToken)
            : Task.CompletedTask;

    public IEnumerable<string> BannerLines(RunningDaemon daemon, string url) =>
        daemon.Services.GetService<ObjectStorage>() is null
            ? []
            : [$"  objects   {url}/v1  (swift client: source {ObjectStorage.SwiftRcPath(daemon.Home)})"];
}

using Nimbus.Platform.Data;
using Nimbus.Platform.Http;

namespace Nimbus.Daemon;

/// <summary>
/// What every nimbusd runs whatever its role: the daemon's own and the data layer's options, the
/// clock, health and metrics registries, the database factory, <c>/healthz</c> and <c>/metrics</c>.
/// </summary>
internal sealed class PlatformModule : IDaemonModule
{
    public IReadOnlyList<Type> OptionsTypes { get; } = [typeof(DaemonOptions), typeof(DataOptions)];

    public bool RunsIn(DaemonRole role) => true;

    public void Validate(DaemonContext context)
    {
        context.Options<DaemonOptions>();
        context.Options<DataOptions>();
    }

    public void ConfigureServices(DaemonContext context, IServiceCollection services)
    {
        var options = context.Daemon;
        var dataOptions = context.Options<DataOptions>();
        services.AddNimbusPlatform();
        services.AddSingleton(options);
        services.AddSingleton(dataOptions);
        services.AddSingleton<IDatabaseFactory>(_ => new DatabaseFactory(dataOptions, context.Home));
        services.AddSingleton(provider => new DaemonInfo(
            DaemonInfo.ProductVersion(),
            options.Role,
            context.Home,
            provider.GetRequiredService<TimeProvider>().GetUtcNow()));
    }

    public void MapEndpoints(WebApplication app)
    {
        app.MapHealth();
        app.MapNimbusMetrics();
    }

    public IEnumerable<string> BannerLines(RunningDaemon daemon, string url) =>
    [
        $"  API       {url}",
        $"  health    {url}/healthz",
        $"  metrics   {url}/metrics",
    ];
}

using Nimbus.Identity;
using Nimbus.Identity.Bootstrap;

namespace Nimbus.Daemon.Identity;

/// <summary>
/// Identity (Keystone v3) in the all-in-one: the API under <c>/identity</c>, key rotation on the
/// local socket, the schema and token keys before serving, and bootstrap once the address is known.
/// </summary>
internal sealed class IdentityModule : IDaemonModule
{
    public IReadOnlyList<Type> OptionsTypes { get; } = [typeof(IdentityOptions)];

    public bool RunsIn(DaemonRole role) => role == DaemonRole.All;

    public void Validate(DaemonContext context) => context.Options<IdentityOptions>();

    public void ConfigureServices(DaemonContext context, IServiceCollection services) =>
        services.AddNimbusIdentity(IdentityStartup.Settings(context.Options<IdentityOptions>(), context.Home));

    public void MapEndpoints(WebApplication app)
    {
        app.MapIdentity();
        app.MapIdentityAdmin();
    }

    /// <summary>Schemas, token keys and revocations before the first request; bootstrap needs the address.</summary>
    public Task PrepareAsync(DaemonContext context, IServiceProvider services, CancellationToken cancellationToken) =>
        services.PrepareIdentityAsync(cancellationToken);

    public async Task StartedAsync(DaemonStartup startup, CancellationToken cancellationToken) =>
        startup.GeneratedAdminPassword = await IdentityStartup.BootstrapAsync(startup.Services, startup.Context.Options<IdentityOptions>(), startup.Home, startup.Url, cancellationToken);

    public IEnumerable<string> BannerLines(RunningDaemon daemon, string url) =>
        [$"  identity  {url}/identity  (openstack client: source {Path.Combine(daemon.Home, ClientConfigFiles.OpenRcFileName)})"];
}

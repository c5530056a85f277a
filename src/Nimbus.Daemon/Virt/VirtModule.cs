using Nimbus.Virt;
using Nimbus.Virt.Qemu.Driver;
using Nimbus.Virt.Storage;

namespace Nimbus.Daemon.Virt;

/// <summary>
/// The virtualization layer: the hypervisor and storage drivers by URI, the connections they share
/// and the local API under <c>/virt/v1</c>; the all-in-one also settles KVM and autostarts domains.
/// </summary>
internal sealed class VirtModule : IDaemonModule
{
    public IReadOnlyList<Type> OptionsTypes { get; } = [typeof(VirtOptions)];

    public bool RunsIn(DaemonRole role) => true;

    public void Validate(DaemonContext context) => context.Options<VirtOptions>();

    public void ConfigureServices(DaemonContext context, IServiceCollection services)
    {
        var home = context.Home;
        services.AddSingleton(context.Options<VirtOptions>());
        services.AddSingleton<KvmAvailability>();
        if (context.Role == DaemonRole.All)
        {
            services.AddHostedService<KvmProbeService>();
        }

        services.AddSingleton(provider =>
        {
            var registry = new DriverRegistry(Path.Combine(home, "virt", "test-storage"));
            var qemu = new QemuDriverOptions
            {
                StateDirectory = Path.Combine(home, "virt", "qemu"),
                Emulator = KvmProbeService.Emulator,
                Kvm = provider.GetRequiredService<KvmAvailability>(),
                Clock = provider.GetRequiredService<TimeProvider>(),
            };
            registry.RegisterHypervisor("qemu", async (uri, ct) => uri.AbsolutePath == "/system"
                ? await QemuHypervisorDriver.OpenAsync(qemu, ct)
                : throw new VirtException(VirtErrorCode.NoConnect, $"the qemu driver serves qemu:///system, not '{uri}'"));
            registry.RegisterStorage("qemu", async (_, ct) => await StorageDriver.OpenAsync(Path.Combine(home, "virt", "storage"), ct));
            return registry;
        });
        if (context.Role == DaemonRole.All)
        {
            services.AddHostedService<VirtAutostart>();
        }

        services.AddSingleton<VirtConnections>();
        services.AddSingleton<VirtMetrics>();
    }

    public void MapEndpoints(WebApplication app)
    {
        // Created with the host so its scrape callback is in place before the first /metrics.
        app.Services.GetRequiredService<VirtMetrics>();
        app.MapVirt();
    }
}

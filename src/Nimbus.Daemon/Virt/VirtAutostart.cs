using Nimbus.Platform.Health;
using Nimbus.Virt;
using Nimbus.Virt.Drivers;

namespace Nimbus.Daemon.Virt;

/// <summary>
/// Opens qemu:///system when nimbusd starts, as libvirtd does: guests still running from before
/// are found again (none restarted), and domains marked autostart are started.
/// </summary>
internal sealed partial class VirtAutostart(VirtConnections connections, ServiceHealthRegistry health, ILogger<VirtAutostart> logger) : IHostedService
{
    private const string Service = "virt";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        health.Set(Service, ServiceState.Starting);
        try
        {
            var connection = await connections.GetAsync(VirtConnections.DefaultUri, cancellationToken);
            foreach (var domain in await connection.Hypervisor.ListDomainsAsync(ListFilter.Inactive, cancellationToken))
            {
                if (!domain.Autostart)
                {
                    continue;
                }

                try
                {
                    await connection.Hypervisor.StartDomainAsync(domain.Name, cancellationToken);
                    Log.Autostarted(logger, domain.Name);
                }
                catch (VirtException ex)
                {
                    Log.AutostartFailed(logger, domain.Name, ex.Message);
                }
            }

            health.Set(Service, ServiceState.Running);
        }
        catch (VirtException ex)
        {
            health.Set(Service, ServiceState.Failed, ex.Message);
            Log.OpenFailed(logger, ex.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Autostarted domain {Domain}")]
        public static partial void Autostarted(ILogger logger, string domain);

        [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Could not autostart domain {Domain}: {Reason}")]
        public static partial void AutostartFailed(ILogger logger, string domain, string reason);

        [LoggerMessage(EventId = 2102, Level = LogLevel.Error, Message = "Could not open qemu:///system: {Reason}")]
        public static partial void OpenFailed(ILogger logger, string reason);
    }
}

using Nimbus.Virt;
using Nimbus.Virt.Drivers;
using Prometheus;

namespace Nimbus.Daemon.Virt;

/// <summary>
/// Guests by state, read from every hypervisor connection this daemon holds open when /metrics is
/// scraped (a scrape never opens one). Every state is reported, zero included, so a series does
/// not vanish when its last guest leaves it.
/// </summary>
internal sealed class VirtMetrics
{
    private static readonly DomainState[] States = Enum.GetValues<DomainState>();

    private readonly VirtConnections _connections;
    private readonly Gauge _domains;

    public VirtMetrics(IMetricFactory factory, CollectorRegistry registry, VirtConnections connections)
    {
        _connections = connections;
        _domains = factory.CreateGauge("nimbus_virt_domains", "Domains (guests) defined or running, by hypervisor connection and state.", ["connection", "state"]);
        registry.AddBeforeCollectCallback(CollectAsync);
    }

    private async Task CollectAsync(CancellationToken cancellationToken)
    {
        foreach (var (uri, connection) in _connections.Open())
        {
            IReadOnlyList<DomainSummary> domains;
            try
            {
                domains = await connection.Hypervisor.ListDomainsAsync(ListFilter.All, cancellationToken);
            }
            catch (VirtException)
            {
                continue;
            }

            foreach (var state in States)
            {
                _domains.WithLabels(uri, StateName(state)).Set(domains.Count(d => d.Status.State == state));
            }
        }
    }

    /// <summary>libvirt's names, as the virt API's JSON writes them ("running", "shutoff", …).</summary>
    private static string StateName(DomainState state) => state.ToString().ToLowerInvariant();
}

using System.Globalization;
using Nimbus.Virt.Definitions;

namespace Nimbus.Virt.Qemu.Driver;

/// <summary>
/// Host tap devices for a guest's bridge interfaces, made and removed with iproute2: one per NIC,
/// named from the domain UUID so a restarted driver finds them, enslaved to the named bridge.
/// </summary>
internal static class TapDevices
{
    /// <summary>nt + 8 hex digits of the UUID + NIC index: under Linux's 15-character interface names.</summary>
    public static string Name(Guid domain, int index) => "nt" + domain.ToString("N")[..8] + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>Creates the taps of <paramref name="domain"/>'s bridge interfaces; returns them by MAC.</summary>
    public static async Task<Dictionary<string, string>> CreateAsync(DomainDefinition domain, CancellationToken cancellationToken)
    {
        var taps = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            for (var i = 0; i < domain.Interfaces.Count; i++)
            {
                var nic = domain.Interfaces[i];
                if (nic.Type == InterfaceType.Network)
                {
                    throw VirtException.NotSupported("qemu", $"interface {nic.Mac} of type 'network': virtual networks are not available yet; use type='bridge' with a host bridge, or type='user'");
                }

                if (nic.Type != InterfaceType.Bridge)
                {
                    continue;
                }

                if (!Directory.Exists($"/sys/class/net/{nic.Source}/bridge"))
                {
                    throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: interface {nic.Mac} wants bridge '{nic.Source}', which is not a bridge on this host; create it (ip link add {nic.Source} type bridge) or name another");
                }

                var tap = Name(domain.Uuid, i);
                await IpAsync(["link", "del", tap], ignoreFailure: true, cancellationToken);
                await IpAsync(["tuntap", "add", "dev", tap, "mode", "tap"], ignoreFailure: false, cancellationToken);
                taps[nic.Mac] = tap;
                await IpAsync(["link", "set", "dev", tap, "master", nic.Source!], ignoreFailure: false, cancellationToken);
                await IpAsync(["link", "set", "dev", tap, "up"], ignoreFailure: false, cancellationToken);
            }

            return taps;
        }
        catch
        {
            await RemoveAsync(taps.Values, CancellationToken.None);
            throw;
        }
    }

    public static async Task RemoveAsync(DomainDefinition domain, CancellationToken cancellationToken)
    {
        var names = domain.Interfaces.Select((nic, i) => (nic, i)).Where(x => x.nic.Type == InterfaceType.Bridge).Select(x => Name(domain.Uuid, x.i));
        await RemoveAsync(names, cancellationToken);
    }

    /// <summary>Counters from the tap, swapped to the guest's point of view as libvirt reports them.</summary>
    public static Drivers.InterfaceStats Stats(string tap, string device)
    {
        long Read(string counter) =>
            long.Parse(File.ReadAllText($"/sys/class/net/{tap}/statistics/{counter}").Trim(), CultureInfo.InvariantCulture);

        return new Drivers.InterfaceStats(
            device,
            RxBytes: Read("tx_bytes"),
            RxPackets: Read("tx_packets"),
            RxErrors: Read("tx_errors"),
            RxDrops: Read("tx_dropped"),
            TxBytes: Read("rx_bytes"),
            TxPackets: Read("rx_packets"),
            TxErrors: Read("rx_errors"),
            TxDrops: Read("rx_dropped"));
    }

    private static async Task RemoveAsync(IEnumerable<string> taps, CancellationToken cancellationToken)
    {
        foreach (var tap in taps)
        {
            await IpAsync(["link", "del", tap], ignoreFailure: true, cancellationToken);
        }
    }

    private static async Task IpAsync(string[] args, bool ignoreFailure, CancellationToken cancellationToken)
    {
        if (ignoreFailure)
        {
            await HostCommand.RunAsync("ip", args, "iproute2", cancellationToken);
        }
        else
        {
            await HostCommand.RunCheckedAsync("ip", args, "iproute2", cancellationToken);
        }
    }
}

namespace Nimbus.Virt.Drivers;

/// <summary>
/// What a hypervisor driver does for domains and its node (libvirt's virHypervisorDriver). A
/// domain is named by its name or UUID. Operations a driver cannot do throw
/// <see cref="VirtException.NotSupported"/>. Each method states the state it needs; others are
/// refused with <see cref="VirtErrorCode.OperationInvalid"/> and change nothing.
/// </summary>
public interface IHypervisorDriver : IAsyncDisposable
{
    /// <summary>"qemu", "test".</summary>
    string Name { get; }

    Task<NodeInfo> GetNodeInfoAsync(CancellationToken cancellationToken);

    /// <summary>The capabilities XML (host CPU, guest architectures, domain types).</summary>
    Task<string> GetCapabilitiesAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<DomainSummary>> ListDomainsAsync(ListFilter filter, CancellationToken cancellationToken);

    Task<DomainSummary> LookupDomainAsync(string nameOrUuid, CancellationToken cancellationToken);

    /// <summary>Defines a new persistent domain or replaces the configuration of one with the same name and UUID.</summary>
    Task<DomainSummary> DefineDomainAsync(string xml, CancellationToken cancellationToken);

    /// <summary>Removes the configuration; a running domain keeps running as a transient one until it stops.</summary>
    Task UndefineDomainAsync(string domain, UndefineOptions options, CancellationToken cancellationToken);

    Task<string> GetDomainXmlAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Shut off → running; restores the managed save image when there is one.</summary>
    Task StartDomainAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Asks the guest to power off (ACPI); returns once asked, not once off.</summary>
    Task ShutdownDomainAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Stops an active domain at once, like pulling the plug.</summary>
    Task DestroyDomainAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Asks the guest to reboot (ACPI power-off, then started again).</summary>
    Task RebootDomainAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Resets the virtual hardware at once, like the reset button.</summary>
    Task ResetDomainAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Running → paused.</summary>
    Task SuspendDomainAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Paused → running.</summary>
    Task ResumeDomainAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Saves the memory state to the driver's own place and stops the domain; the next start restores it.</summary>
    Task ManagedSaveDomainAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Saves the memory state to <paramref name="file"/> and stops the domain.</summary>
    Task SaveDomainAsync(string domain, string file, CancellationToken cancellationToken);

    /// <summary>Starts a domain from a file written by <see cref="SaveDomainAsync"/>.</summary>
    Task<DomainSummary> RestoreDomainAsync(string file, CancellationToken cancellationToken);

    Task SetAutostartAsync(string domain, bool autostart, CancellationToken cancellationToken);

    Task<DomainStatus> GetDomainStateAsync(string domain, CancellationToken cancellationToken);

    Task<DomainInfo> GetDomainInfoAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Counters of one disk (by target dev, e.g. vda) of a running domain.</summary>
    Task<BlockStats> GetBlockStatsAsync(string domain, string device, CancellationToken cancellationToken);

    /// <summary>Counters of one interface (by MAC or host device name) of a running domain.</summary>
    Task<InterfaceStats> GetInterfaceStatsAsync(string domain, string device, CancellationToken cancellationToken);

    /// <summary>
    /// The guest's serial console (port 0) as a read/write stream: what the guest prints, and what
    /// it reads as keyboard input. One caller at a time.
    /// </summary>
    Task<Stream> OpenConsoleAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Writes the guest's screen to <paramref name="output"/>; returns its MIME type.</summary>
    Task<string> ScreenshotAsync(string domain, Stream output, CancellationToken cancellationToken);
}

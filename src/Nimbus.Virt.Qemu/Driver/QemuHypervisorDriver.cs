using System.Globalization;
using Nimbus.Shared;
using Nimbus.Virt.Definitions;
using Nimbus.Virt.Drivers;

namespace Nimbus.Virt.Qemu.Driver;

/// <summary>
/// Real guests in qemu-system-x86_64 processes (<c>qemu:///system</c>). Each guest runs detached
/// (-daemonize) so it outlives nimbusd; its pidfile, QMP socket and live definition under run/
/// let a new driver find it again. QEMU runs with -no-shutdown: a guest power-off stops the VM and
/// the driver decides what follows (quit, or reset for a reboot), as libvirt does.
/// </summary>
public sealed partial class QemuHypervisorDriver : IHypervisorDriver
{
    private readonly QemuDriverOptions _options;
    private readonly QemuPaths _paths;
    private readonly DomainList<QemuRuntime> _domains = new();
    private readonly KeyedJobs _jobs = new();
    private readonly CancellationTokenSource _closing = new();

    private QemuHypervisorDriver(QemuDriverOptions options)
    {
        _options = options;
        _paths = new QemuPaths(options.StateDirectory);
    }

    public string Name => "qemu";

    /// <summary>Opens the driver: loads definitions and reconnects to guests still running from before.</summary>
    public static async Task<QemuHypervisorDriver> OpenAsync(QemuDriverOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var driver = new QemuHypervisorDriver(options);
        driver._paths.Create();
        driver.LoadDefinitions();
        await driver.ReconnectAsync(cancellationToken);
        return driver;
    }

    public Task<NodeInfo> GetNodeInfoAsync(CancellationToken cancellationToken)
    {
        var cpuinfo = File.ReadAllLines("/proc/cpuinfo");
        var model = cpuinfo.FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "x86_64";
        var mhz = cpuinfo.FirstOrDefault(l => l.StartsWith("cpu MHz", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        var memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var cpus = Environment.ProcessorCount;
        return Task.FromResult(new NodeInfo(
            model,
            ulong.Parse(memory, CultureInfo.InvariantCulture),
            cpus,
            mhz is null ? 0 : (int)double.Parse(mhz, CultureInfo.InvariantCulture),
            1,
            1,
            cpus,
            1));
    }

    public Task<string> GetCapabilitiesAsync(CancellationToken cancellationToken) =>
        Task.FromResult(CapabilitiesXml.Format(_options.Emulator, _options.Kvm.Usable ? [DomainType.Qemu, DomainType.Kvm] : [DomainType.Qemu]));

    public Task<IReadOnlyList<DomainSummary>> ListDomainsAsync(ListFilter filter, CancellationToken cancellationToken) =>
        Task.FromResult(_domains.List(filter));

    public Task<DomainSummary> LookupDomainAsync(string nameOrUuid, CancellationToken cancellationToken) =>
        Task.FromResult(_domains.Find(nameOrUuid).Summary());

    public async Task<DomainSummary> DefineDomainAsync(string xml, CancellationToken cancellationToken)
    {
        var definition = DomainXml.Parse(xml);
        DomainPreflight.CheckSources(definition);
        while (true)
        {
            var (domain, added) = _domains.AddOrMatch(definition);

            // A domain this call added leaves the list only through its own job, so that wait is not cancelled.
            var summary = await _jobs.RunAsync(domain.Uuid, async () =>
            {
                if (domain.Removed)
                {
                    // Undefined while this define waited: define it afresh.
                    return null;
                }

                try
                {
                    await AtomicFile.WriteAllTextAsync(_paths.Config(definition.Name), DomainXml.Format(definition), cancellationToken);
                }
                catch when (added)
                {
                    ForgetUnwritten(domain);
                    throw;
                }

                domain.Definition = definition;
                domain.Persistent = true;
                return domain.Summary();
            }, added ? CancellationToken.None : cancellationToken);
            if (summary is not null)
            {
                return summary;
            }
        }
    }

    public Task UndefineDomainAsync(string domain, UndefineOptions options, CancellationToken cancellationToken) =>
        WithDomainAsync(domain, d =>
        {
            if (d.HasManagedSave && !options.HasFlag(UndefineOptions.ManagedSave))
            {
                throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: domain '{d.Name}' has a managed save image; remove it with --managed-save");
            }

            File.Delete(_paths.ManagedSave(d.Name));
            File.Delete(_paths.AutostartMarker(d.Name));
            File.Delete(_paths.Config(d.Name));
            AtomicFile.SyncDirectory(_paths.ConfigDirectory);
            d.HasManagedSave = false;
            d.Autostart = false;
            if (d.Status.IsActive)
            {
                d.Persistent = false;
            }
            else
            {
                _domains.Remove(d);
            }

            return Task.CompletedTask;
        }, cancellationToken);

    public Task<string> GetDomainXmlAsync(string domain, CancellationToken cancellationToken)
    {
        var d = _domains.Find(domain);
        return Task.FromResult(DomainXml.Format(d.Live ?? d.Definition));
    }

    public Task StartDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithDomainAsync(domain, async d =>
        {
            d.EnsureInactive();
            DomainPreflight.CheckSources(d.Definition);
            var managedSave = d.HasManagedSave ? _paths.ManagedSave(d.Name) : null;
            string? incoming = null;
            long offset = 0;
            var definition = d.Definition;
            if (managedSave is not null)
            {
                (var xml, offset) = await SaveImage.ReadHeaderAsync(managedSave, cancellationToken);
                definition = DomainXml.Parse(xml);
                incoming = managedSave;
            }

            var runtime = await LaunchAsync(definition, incoming, offset, cancellationToken);
            Attach(d, definition, runtime, managedSave is null ? DomainStatus.Booted : new DomainStatus(DomainState.Running, "restored"));
            if (managedSave is not null)
            {
                File.Delete(managedSave);
                d.HasManagedSave = false;
            }
        }, cancellationToken);

    public Task ShutdownDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithRuntimeAsync(domain, async (d, runtime) =>
        {
            runtime.ExpectedExit = "shutdown";
            await QmpAsync(() => runtime.Qmp.SystemPowerdownAsync(cancellationToken), "system_powerdown");
        }, cancellationToken);

    public Task DestroyDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithRuntimeAsync(domain, async (d, runtime) => await StopAsync(d, runtime, "destroyed"), cancellationToken);

    public Task RebootDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithRuntimeAsync(domain, async (d, runtime) =>
        {
            d.EnsureState(DomainState.Running, "only a running domain can reboot");
            // The guest powers off on the ACPI button; the SHUTDOWN handler then resets it instead of quitting.
            runtime.RebootRequested = true;
            await QmpAsync(() => runtime.Qmp.SystemPowerdownAsync(cancellationToken), "system_powerdown");
        }, cancellationToken);

    public Task ResetDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithRuntimeAsync(domain, (d, runtime) => QmpAsync(() => runtime.Qmp.SystemResetAsync(cancellationToken), "system_reset"), cancellationToken);

    public Task SuspendDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithRuntimeAsync(domain, async (d, runtime) =>
        {
            if (d.Status.State == DomainState.Running)
            {
                await QmpAsync(() => runtime.Qmp.StopAsync(cancellationToken), "stop");
                d.Status = new DomainStatus(DomainState.Paused, "user");
            }
        }, cancellationToken);

    public Task ResumeDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithRuntimeAsync(domain, async (d, runtime) =>
        {
            d.EnsureState(DomainState.Paused, "only a paused domain can be resumed");
            await QmpAsync(() => runtime.Qmp.ContAsync(cancellationToken), "cont");
            d.Status = new DomainStatus(DomainState.Running, "unpaused");
        }, cancellationToken);

    public Task ManagedSaveDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithRuntimeAsync(domain, async (d, runtime) =>
        {
            if (!d.Persistent)
            {
                throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: cannot do managed save for transient domain '{d.Name}'");
            }

            await SaveToAsync(d, runtime, _paths.ManagedSave(d.Name), cancellationToken);
            d.HasManagedSave = true;
        }, cancellationToken);

    public Task SaveDomainAsync(string domain, string file, CancellationToken cancellationToken) =>
        WithRuntimeAsync(domain, (d, runtime) => SaveToAsync(d, runtime, Path.GetFullPath(file), cancellationToken), cancellationToken);

    public async Task<DomainSummary> RestoreDomainAsync(string file, CancellationToken cancellationToken)
    {
        var (xml, offset) = await SaveImage.ReadHeaderAsync(file, cancellationToken);
        var definition = DomainXml.Parse(xml);
        while (true)
        {
            var (domain, added) = _domains.AddOrMatch(definition);
            var summary = await _jobs.RunAsync(domain.Uuid, async () =>
            {
                if (domain.Removed)
                {
                    return null;
                }

                try
                {
                    if (added)
                    {
                        domain.Persistent = false;
                    }

                    domain.EnsureInactive();

                    var runtime = await LaunchAsync(definition, file, offset, cancellationToken);
                    Attach(domain, definition, runtime, new DomainStatus(DomainState.Running, "restored"));
                    return domain.Summary();
                }
                catch when (added)
                {
                    ForgetUnwritten(domain);
                    throw;
                }
            }, added ? CancellationToken.None : cancellationToken);
            if (summary is not null)
            {
                return summary;
            }
        }
    }

    public Task SetAutostartAsync(string domain, bool autostart, CancellationToken cancellationToken) =>
        WithDomainAsync(domain, async d =>
        {
            if (!d.Persistent)
            {
                throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: cannot set autostart for transient domain '{d.Name}'");
            }

            await AtomicFile.SetMarkerAsync(_paths.AutostartMarker(d.Name), autostart, cancellationToken);
            d.Autostart = autostart;
        }, cancellationToken);

    public Task<DomainStatus> GetDomainStateAsync(string domain, CancellationToken cancellationToken) =>
        Task.FromResult(_domains.Find(domain).Status);

    public Task<DomainInfo> GetDomainInfoAsync(string domain, CancellationToken cancellationToken)
    {
        var d = _domains.Find(domain);
        var definition = d.Live ?? d.Definition;
        var cpu = d.Runtime is { } runtime ? QemuProcess.CpuTime(runtime.Pid) : TimeSpan.Zero;
        var memory = d.Status.IsActive ? definition.CurrentMemoryKiB : definition.MemoryKiB;
        return Task.FromResult(new DomainInfo(d.Summary(), definition.MemoryKiB, memory, definition.CurrentVcpus ?? definition.Vcpus, cpu, definition.Os.Type));
    }

    public async Task<BlockStats> GetBlockStatsAsync(string domain, string device, CancellationToken cancellationToken)
    {
        var d = _domains.Find(domain);
        var runtime = RuntimeOf(d);
        var disk = d.Live!.Disks.FirstOrDefault(x => x.TargetDev == device || x.Source == device)
            ?? throw new VirtException(VirtErrorCode.InvalidArgument, $"invalid argument: invalid path: {device}; the disks of '{d.Name}' are {string.Join(", ", d.Live.Disks.Select(x => x.TargetDev))}");
        var stats = await QmpAsync(() => runtime.Qmp.QueryBlockStatsAsync(cancellationToken), "query-blockstats");
        var match = stats.FirstOrDefault(s => s.Device == $"drive-{disk.TargetDev}" || (s.QdevPath?.Contains(disk.TargetDev, StringComparison.Ordinal) ?? false))
            ?? throw new VirtException(VirtErrorCode.OperationFailed, $"operation failed: QEMU reports no statistics for {disk.TargetDev}");
        return new BlockStats(disk.TargetDev, match.ReadOperations, match.ReadBytes, match.WriteOperations, match.WriteBytes, 0);
    }

    public Task<InterfaceStats> GetInterfaceStatsAsync(string domain, string device, CancellationToken cancellationToken)
    {
        var d = _domains.Find(domain);
        _ = RuntimeOf(d);
        var live = d.Live!;
        var index = live.Interfaces.ToList().FindIndex(x => string.Equals(x.Mac, device, StringComparison.OrdinalIgnoreCase) || TapDevices.Name(d.Uuid, live.Interfaces.ToList().IndexOf(x)) == device);
        if (index < 0)
        {
            throw new VirtException(VirtErrorCode.InvalidArgument, $"invalid argument: invalid path, '{device}' is not a known interface of '{d.Name}'");
        }

        var nic = live.Interfaces[index];
        if (nic.Type != InterfaceType.Bridge)
        {
            throw VirtException.NotSupported("qemu", $"statistics of interface {nic.Mac}: they are read from its host tap device, and a {StrictElement.XmlName(nic.Type)} interface has none");
        }

        return Task.FromResult(TapDevices.Stats(TapDevices.Name(d.Uuid, index), nic.Mac));
    }

    public async Task<string> ScreenshotAsync(string domain, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var d = _domains.Find(domain);
        var runtime = RuntimeOf(d);
        DomainPreflight.CheckScreen(d.Name, d.Live!);
        var file = Path.Combine(_paths.RunDirectory, $"{d.Uuid:N}.screen.ppm");
        try
        {
            await QmpAsync(() => runtime.Qmp.ScreendumpAsync(file, cancellationToken), "screendump");
            await using var image = File.OpenRead(file);
            await image.CopyToAsync(output, cancellationToken);
            return "image/x-portable-pixmap";
        }
        finally
        {
            File.Delete(file);
        }
    }

    public async Task<Stream> OpenConsoleAsync(string domain, CancellationToken cancellationToken)
    {
        var d = _domains.Find(domain);
        var runtime = RuntimeOf(d);
        var chardevs = await QmpAsync(() => runtime.Qmp.ExecuteAsync("query-chardev", null, cancellationToken), "query-chardev");
        var serial = chardevs?.AsArray().FirstOrDefault(c => c?["label"]?.GetValue<string>() == "charserial0")?["filename"]?.GetValue<string>();
        if (serial is null || !serial.StartsWith("pty:", StringComparison.Ordinal))
        {
            throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: domain '{d.Name}' has no console to attach to; give it <serial type='pty'/> (its serial port 0 is {(serial is null ? "missing" : "not a pty")})");
        }

        if (Interlocked.CompareExchange(ref runtime.ConsoleAttached, 1, 0) != 0)
        {
            throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: the console of '{d.Name}' is in use by another session");
        }

        try
        {
            return ConsoleStream.Open(serial["pty:".Length..], () => Interlocked.Exchange(ref runtime.ConsoleAttached, 0));
        }
        catch
        {
            Interlocked.Exchange(ref runtime.ConsoleAttached, 0);
            throw;
        }
    }

    /// <summary>Closes the QMP connections; the guests keep running and a new driver finds them.</summary>
    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        foreach (var domain in _domains.Snapshot())
        {
            if (domain.Runtime is { } runtime)
            {
                runtime.Detached = true;
                await runtime.Qmp.DisposeAsync();
            }
        }

        _closing.Dispose();
    }
}

using System.Globalization;
using System.Text;
using Nimbus.Virt.Definitions;
using Nimbus.Virt.Drivers;

namespace Nimbus.Virt.TestDriver;

/// <summary>
/// An in-memory hypervisor with the qemu driver's validation and state machine and no guests, as
/// libvirt's test driver: for fast tests and benchmarks. <c>test:///default</c> starts with one
/// running domain named "test", as libvirt's does.
/// </summary>
public sealed class TestHypervisorDriver : IHypervisorDriver
{
    /// <summary>The save-image header; a file without it is not a saved domain.</summary>
    internal const string SaveImageMagic = "NimbusTestSave\n";

    private readonly DomainList<TestRuntime> _domains = new();
    private readonly KeyedJobs _jobs = new();
    private readonly TimeProvider _clock;

    public TestHypervisorDriver(TimeProvider? clock = null, bool withDefaultDomain = false)
    {
        _clock = clock ?? TimeProvider.System;
        if (withDefaultDomain)
        {
            var (test, _) = _domains.AddOrMatch(DefaultDomain());
            Boot(test, DomainStatus.Booted);
        }
    }

    public string Name => "test";

    public static Task<IHypervisorDriver> OpenAsync(Uri uri, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uri);
        cancellationToken.ThrowIfCancellationRequested();
        return uri.AbsolutePath switch
        {
            "/default" => Task.FromResult<IHypervisorDriver>(new TestHypervisorDriver(withDefaultDomain: true)),
            "/empty" => Task.FromResult<IHypervisorDriver>(new TestHypervisorDriver()),
            _ => throw new VirtException(VirtErrorCode.NoConnect, $"test driver paths are /default and /empty, not '{uri.AbsolutePath}'"),
        };
    }

    public Task<NodeInfo> GetNodeInfoAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new NodeInfo("i686", 3 * 1024 * 1024, 16, 1400, 2, 2, 2, 2));

    public Task<string> GetCapabilitiesAsync(CancellationToken cancellationToken) =>
        Task.FromResult(CapabilitiesXml.Format("/usr/bin/test-hv", [DomainType.Qemu, DomainType.Kvm]));

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
            if (added)
            {
                return domain.Summary();
            }

            var summary = await _jobs.RunAsync(domain.Uuid, () =>
            {
                if (domain.Removed)
                {
                    // Undefined while this define waited: define it afresh.
                    return Task.FromResult<DomainSummary?>(null);
                }

                domain.Definition = definition;
                domain.Persistent = true;
                return Task.FromResult<DomainSummary?>(domain.Summary());
            }, cancellationToken);
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
        }, cancellationToken);

    public Task<string> GetDomainXmlAsync(string domain, CancellationToken cancellationToken)
    {
        var d = _domains.Find(domain);
        return Task.FromResult(DomainXml.Format(d.Live ?? d.Definition));
    }

    public Task StartDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithDomainAsync(domain, d =>
        {
            d.EnsureInactive();
            DomainPreflight.CheckSources(d.Definition);
            var restored = d.HasManagedSave;
            d.HasManagedSave = false;
            Boot(d, restored ? new DomainStatus(DomainState.Running, "restored") : DomainStatus.Booted);
        }, cancellationToken);

    public Task ShutdownDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithDomainAsync(domain, d =>
        {
            d.EnsureActive();
            // The test guest answers ACPI at once.
            PowerOff(d, "shutdown");
        }, cancellationToken);

    public Task DestroyDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithDomainAsync(domain, d =>
        {
            d.EnsureActive();
            PowerOff(d, "destroyed");
        }, cancellationToken);

    public Task RebootDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithDomainAsync(domain, d =>
        {
            d.EnsureState(DomainState.Running, "only a running domain can reboot");
            d.Status = DomainStatus.Booted;
        }, cancellationToken);

    public Task ResetDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithDomainAsync(domain, d => d.EnsureActive(), cancellationToken);

    public Task SuspendDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithDomainAsync(domain, d =>
        {
            d.EnsureActive();
            if (d.Status.State == DomainState.Running)
            {
                AccountCpu(d);
                d.Status = new DomainStatus(DomainState.Paused, "user");
            }
        }, cancellationToken);

    public Task ResumeDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithDomainAsync(domain, d =>
        {
            d.EnsureState(DomainState.Paused, "only a paused domain can be resumed");
            d.Runtime!.RunningSince = _clock.GetUtcNow();
            d.Status = new DomainStatus(DomainState.Running, "unpaused");
        }, cancellationToken);

    public Task ManagedSaveDomainAsync(string domain, CancellationToken cancellationToken) =>
        WithDomainAsync(domain, d =>
        {
            d.EnsureActive();
            if (!d.Persistent)
            {
                throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: cannot do managed save for transient domain '{d.Name}'");
            }

            PowerOff(d, "saved");
            d.HasManagedSave = true;
        }, cancellationToken);

    public Task SaveDomainAsync(string domain, string file, CancellationToken cancellationToken) =>
        WithDomainAsync(domain, async d =>
        {
            d.EnsureActive();
            var image = SaveImageMagic + DomainXml.Format(d.Live ?? d.Definition);
            await File.WriteAllTextAsync(file, image, Encoding.UTF8, cancellationToken);
            PowerOff(d, "saved");
        }, cancellationToken);

    public async Task<DomainSummary> RestoreDomainAsync(string file, CancellationToken cancellationToken)
    {
        string image;
        try
        {
            image = await File.ReadAllTextAsync(file, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VirtException(VirtErrorCode.OperationFailed, $"operation failed: cannot read save image '{file}': {ex.Message}", ex);
        }

        if (!image.StartsWith(SaveImageMagic, StringComparison.Ordinal))
        {
            throw new VirtException(VirtErrorCode.OperationFailed, $"operation failed: '{file}' is not a saved domain image");
        }

        var definition = DomainXml.Parse(image[SaveImageMagic.Length..]);
        while (true)
        {
            var (domain, added) = _domains.AddOrMatch(definition);
            var summary = await _jobs.RunAsync(domain.Uuid, () =>
            {
                if (domain.Removed)
                {
                    return Task.FromResult<DomainSummary?>(null);
                }

                if (added)
                {
                    domain.Persistent = false;
                }

                domain.EnsureInactive();

                Boot(domain, new DomainStatus(DomainState.Running, "restored"));
                return Task.FromResult<DomainSummary?>(domain.Summary());
            }, added ? CancellationToken.None : cancellationToken);
            if (summary is not null)
            {
                return summary;
            }
        }
    }

    public Task SetAutostartAsync(string domain, bool autostart, CancellationToken cancellationToken) =>
        WithDomainAsync(domain, d =>
        {
            if (!d.Persistent)
            {
                throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: cannot set autostart for transient domain '{d.Name}'");
            }

            d.Autostart = autostart;
        }, cancellationToken);

    public Task<DomainStatus> GetDomainStateAsync(string domain, CancellationToken cancellationToken) =>
        Task.FromResult(_domains.Find(domain).Status);

    public Task<DomainInfo> GetDomainInfoAsync(string domain, CancellationToken cancellationToken)
    {
        var d = _domains.Find(domain);
        var definition = d.Live ?? d.Definition;
        var cpu = d.Runtime is { } runtime ? runtime.CpuTime + (d.Status.State == DomainState.Running ? (_clock.GetUtcNow() - runtime.RunningSince) * definition.Vcpus : TimeSpan.Zero) : TimeSpan.Zero;
        var memory = d.Status.IsActive ? definition.CurrentMemoryKiB : definition.MemoryKiB;
        return Task.FromResult(new DomainInfo(d.Summary(), definition.MemoryKiB, memory, definition.CurrentVcpus ?? definition.Vcpus, cpu, definition.Os.Type));
    }

    public Task<BlockStats> GetBlockStatsAsync(string domain, string device, CancellationToken cancellationToken)
    {
        var d = _domains.Find(domain);
        d.EnsureActive();
        var disk = d.Live!.Disks.FirstOrDefault(x => x.TargetDev == device || x.Source == device)
            ?? throw new VirtException(VirtErrorCode.InvalidArgument, $"invalid argument: invalid path: {device}; the disks of '{d.Name}' are {string.Join(", ", d.Live.Disks.Select(x => x.TargetDev))}");
        return Task.FromResult(new BlockStats(disk.TargetDev, 0, 0, 0, 0, 0));
    }

    public Task<InterfaceStats> GetInterfaceStatsAsync(string domain, string device, CancellationToken cancellationToken)
    {
        var d = _domains.Find(domain);
        d.EnsureActive();
        var nic = d.Live!.Interfaces.FirstOrDefault(x => string.Equals(x.Mac, device, StringComparison.OrdinalIgnoreCase))
            ?? throw new VirtException(VirtErrorCode.InvalidArgument, $"invalid argument: invalid path, '{device}' is not a known interface of '{d.Name}'");
        return Task.FromResult(new InterfaceStats(nic.Mac, 0, 0, 0, 0, 0, 0, 0, 0));
    }

    public async Task<string> ScreenshotAsync(string domain, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var d = _domains.Find(domain);
        d.EnsureActive();
        DomainPreflight.CheckScreen(d.Name, d.Live!);
        // A 1×1 black PPM: the test guest has no screen, but the caller gets a valid image.
        await output.WriteAsync(Encoding.ASCII.GetBytes("P6\n1 1\n255\n\0\0\0"), cancellationToken);
        return "image/x-portable-pixmap";
    }

    public Task<Stream> OpenConsoleAsync(string domain, CancellationToken cancellationToken)
    {
        _domains.Find(domain).EnsureActive();
        throw VirtException.NotSupported("test", "consoles: the test driver's guests have no serial port");
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task WithDomainAsync(string name, Action<DomainObject<TestRuntime>> action, CancellationToken cancellationToken) =>
        WithDomainAsync(name, d =>
        {
            action(d);
            return Task.CompletedTask;
        }, cancellationToken);

    private Task WithDomainAsync(string name, Func<DomainObject<TestRuntime>, Task> action, CancellationToken cancellationToken) =>
        _domains.RunJobAsync(_jobs, name, action, cancellationToken);

    private void Boot(DomainObject<TestRuntime> domain, DomainStatus status)
    {
        domain.Live = domain.Definition;
        domain.Id = _domains.NextId();
        domain.Runtime = new TestRuntime { RunningSince = _clock.GetUtcNow() };
        domain.Status = status;
    }

    private void PowerOff(DomainObject<TestRuntime> domain, string reason)
    {
        domain.Status = new DomainStatus(DomainState.Shutoff, reason);
        domain.Live = null;
        domain.Id = null;
        domain.Runtime = null;
        if (!domain.Persistent)
        {
            _domains.Remove(domain);
        }
    }

    private void AccountCpu(DomainObject<TestRuntime> domain)
    {
        var runtime = domain.Runtime!;
        runtime.CpuTime += (_clock.GetUtcNow() - runtime.RunningSince) * (domain.Live ?? domain.Definition).Vcpus;
    }

    private static DomainDefinition DefaultDomain() => new()
    {
        Type = DomainType.Qemu,
        Name = "test",
        Uuid = Guid.Parse("6695eb01-f6a4-8304-79aa-97f2502e193f", CultureInfo.InvariantCulture),
        MemoryKiB = 8 * 1024 * 1024,
        CurrentMemoryKiB = 2 * 1024 * 1024,
        Vcpus = 2,
        Os = new OsDefinition { Boot = [BootDevice.Hd] },
    };

    /// <summary>What the test driver tracks of a running domain: CPU time, accounted while running.</summary>
    internal sealed class TestRuntime
    {
        public DateTimeOffset RunningSince { get; set; }

        public TimeSpan CpuTime { get; set; }
    }
}

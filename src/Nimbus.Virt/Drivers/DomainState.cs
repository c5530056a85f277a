namespace Nimbus.Virt.Drivers;

/// <summary>libvirt's virDomainState.</summary>
public enum DomainState
{
    NoState,
    Running,
    Blocked,
    Paused,
    Shutdown,
    Shutoff,
    Crashed,
    PmSuspended,
}

/// <summary>A domain's state and why it is in it, with libvirt's reason names ("booted", "destroyed", …).</summary>
public sealed record DomainStatus(DomainState State, string Reason)
{
    public bool IsActive => State is not (DomainState.Shutoff or DomainState.NoState);

    /// <summary>virsh's words: "running", "shut off", "paused"…</summary>
    public string StateText => State switch
    {
        DomainState.NoState => "no state",
        DomainState.Running => "running",
        DomainState.Blocked => "idle",
        DomainState.Paused => "paused",
        DomainState.Shutdown => "in shutdown",
        DomainState.Shutoff => "shut off",
        DomainState.Crashed => "crashed",
        DomainState.PmSuspended => "pmsuspended",
        _ => "unknown",
    };

    public override string ToString() => $"{StateText} ({Reason})";

    public static DomainStatus Booted { get; } = new(DomainState.Running, "booted");

    public static DomainStatus NeverStarted { get; } = new(DomainState.Shutoff, "unknown");
}

/// <summary>One line of <c>list</c>: identity and state, no configuration.</summary>
public sealed record DomainSummary(string Name, Guid Uuid, int? Id, DomainStatus Status, bool Persistent, bool Autostart, bool HasManagedSave);

/// <summary>virDomainInfo: what <c>dominfo</c> shows.</summary>
public sealed record DomainInfo(
    DomainSummary Summary,
    ulong MaxMemoryKiB,
    ulong MemoryKiB,
    int Vcpus,
    TimeSpan CpuTime,
    string OsType);

public sealed record BlockStats(string Device, long ReadRequests, long ReadBytes, long WriteRequests, long WriteBytes, long Errors);

public sealed record InterfaceStats(string Device, long RxBytes, long RxPackets, long RxErrors, long RxDrops, long TxBytes, long TxPackets, long TxErrors, long TxDrops);

/// <summary>virNodeInfo: the host as the hypervisor sees it.</summary>
public sealed record NodeInfo(string CpuModel, ulong MemoryKiB, int Cpus, int MhZ, int Nodes, int Sockets, int CoresPerSocket, int ThreadsPerCore);

/// <summary>Which domains <c>list</c> returns.</summary>
[Flags]
public enum ListFilter
{
    Active = 1,
    Inactive = 2,
    All = Active | Inactive,
}

[Flags]
public enum UndefineOptions
{
    None = 0,

    /// <summary>Also delete the managed save image, which otherwise blocks undefine.</summary>
    ManagedSave = 1,
}

namespace Nimbus.Virt.Qemu.Qmp;

/// <summary>
/// The reply to <c>query-status</c>: whether vCPUs run, and QEMU's run state — one of
/// <see cref="QmpRunState"/>'s values, or another state a newer QEMU reports.
/// </summary>
internal sealed record QmpStatus(bool Running, string Status);

/// <summary>QEMU's <c>RunState</c> names as <c>query-status</c> reports them (qapi/run-state.json).</summary>
internal static class QmpRunState
{
    public const string Debug = "debug";
    public const string InMigrate = "inmigrate";
    public const string InternalError = "internal-error";
    public const string IOError = "io-error";
    public const string Paused = "paused";
    public const string PostMigrate = "postmigrate";
    public const string Prelaunch = "prelaunch";
    public const string FinishMigrate = "finish-migrate";
    public const string RestoreVM = "restore-vm";
    public const string Running = "running";
    public const string SaveVM = "save-vm";
    public const string Shutdown = "shutdown";
    public const string Suspended = "suspended";
    public const string Watchdog = "watchdog";
    public const string GuestPanicked = "guest-panicked";
    public const string Colo = "colo";
}

/// <summary>
/// One entry of <c>query-blockstats</c>: <c>device</c> (null for a node with no drive),
/// <c>node-name</c>, <c>qdev</c> and the counters from its <c>stats</c> member.
/// </summary>
internal sealed record QmpBlockStats(
    string? Device,
    string? NodeName,
    string? QdevPath,
    long ReadBytes,
    long WriteBytes,
    long ReadOperations,
    long WriteOperations,
    long FlushOperations);

/// <summary>One vCPU from <c>query-cpus-fast</c>: its index, the host thread running it and its QOM path.</summary>
internal sealed record QmpCpu(int CpuIndex, long ThreadId, string QomPath, string? Target);

/// <summary>
/// The reply to <c>query-migrate</c>. Every member is null before any migration was started
/// (QEMU then replies <c>{}</c>); <see cref="Status"/> is <c>setup</c>, <c>active</c>, <c>completed</c>,
/// <c>failed</c>, <c>cancelled</c>….
/// </summary>
internal sealed record QmpMigrationInfo(
    string? Status,
    long? TotalTimeMilliseconds,
    long? RamTransferredBytes,
    long? RamRemainingBytes,
    long? RamTotalBytes,
    string? ErrorDescription);

using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Nimbus.Virt.Qemu.Qmp;

// Typed wrappers for the commands the virt layer uses; each follows its entry in QEMU's qapi schema.
internal sealed partial class QmpClient
{
    /// <summary><c>query-status</c>: the VM's run state.</summary>
    public async Task<QmpStatus> QueryStatusAsync(CancellationToken cancellationToken)
    {
        var reply = QmpJson.Object(await ExecuteAsync("query-status", null, cancellationToken), "query-status");
        return new QmpStatus(
            QmpJson.RequiredBool(reply, "running", "query-status reply"),
            QmpJson.RequiredString(reply, "status", "query-status reply"));
    }

    /// <summary><c>stop</c>: pauses all vCPUs (QEMU emits <c>STOP</c>).</summary>
    public Task StopAsync(CancellationToken cancellationToken) => ExecuteAsync("stop", null, cancellationToken);

    /// <summary><c>cont</c>: resumes the vCPUs, or starts a VM launched with <c>-S</c> (QEMU emits <c>RESUME</c>).</summary>
    public Task ContAsync(CancellationToken cancellationToken) => ExecuteAsync("cont", null, cancellationToken);

    /// <summary><c>system_powerdown</c>: presses the ACPI power button; the guest decides whether to shut down.</summary>
    public Task SystemPowerdownAsync(CancellationToken cancellationToken) => ExecuteAsync("system_powerdown", null, cancellationToken);

    /// <summary><c>system_reset</c>: hard-resets the machine (QEMU emits <c>RESET</c>).</summary>
    public Task SystemResetAsync(CancellationToken cancellationToken) => ExecuteAsync("system_reset", null, cancellationToken);

    /// <summary>
    /// <c>quit</c>: QEMU exits at once. Returns when QEMU has closed the socket; the reply itself may never
    /// arrive if the process goes first, which counts as success.
    /// </summary>
    public async Task QuitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ExecuteAsync("quit", null, cancellationToken);
        }
        catch (QmpConnectionClosedException e) when (e.Reason == QmpDisconnectReason.ServerClosed)
        {
            // QEMU exited before its reply was read: that is what quit asked for.
        }

        await Disconnected.WaitAsync(cancellationToken);
    }

    /// <summary><c>screendump</c>: writes the primary console as a PPM file at <paramref name="filename"/> (a path on QEMU's host).</summary>
    public Task ScreendumpAsync(string filename, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(filename);
        return ExecuteAsync("screendump", new JsonObject { ["filename"] = filename }, cancellationToken);
    }

    /// <summary><c>query-blockstats</c>: I/O counters per block device.</summary>
    public async Task<IReadOnlyList<QmpBlockStats>> QueryBlockStatsAsync(CancellationToken cancellationToken)
    {
        const string What = "query-blockstats entry";
        var reply = QmpJson.Array(await ExecuteAsync("query-blockstats", null, cancellationToken), "query-blockstats");
        var result = new List<QmpBlockStats>(reply.Count);
        foreach (var node in reply)
        {
            var entry = QmpJson.Object(node, What);
            var stats = QmpJson.Object(entry["stats"], What + " stats");
            result.Add(new QmpBlockStats(
                NullIfEmpty(QmpJson.OptionalString(entry, "device")),
                QmpJson.OptionalString(entry, "node-name"),
                QmpJson.OptionalString(entry, "qdev"),
                QmpJson.RequiredLong(stats, "rd_bytes", What),
                QmpJson.RequiredLong(stats, "wr_bytes", What),
                QmpJson.RequiredLong(stats, "rd_operations", What),
                QmpJson.RequiredLong(stats, "wr_operations", What),
                QmpJson.OptionalLong(stats, "flush_operations") ?? 0));
        }

        return result;
    }

    /// <summary>
    /// <c>human-monitor-command</c>: runs an HMP command line and returns its text output. Only for what has
    /// no QMP equivalent; HMP output is meant for people and may change between QEMU releases.
    /// </summary>
    public async Task<string> HumanMonitorCommandAsync(string commandLine, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commandLine);
        var reply = await ExecuteAsync("human-monitor-command", new JsonObject { ["command-line"] = commandLine }, cancellationToken);
        return reply is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw new QmpProtocolException("QMP human-monitor-command reply is not a string.");
    }

    /// <summary><c>query-cpus-fast</c>: the vCPUs and the host threads that run them, without interrupting the guest.</summary>
    public async Task<IReadOnlyList<QmpCpu>> QueryCpusFastAsync(CancellationToken cancellationToken)
    {
        const string What = "query-cpus-fast entry";
        var reply = QmpJson.Array(await ExecuteAsync("query-cpus-fast", null, cancellationToken), "query-cpus-fast");
        var result = new List<QmpCpu>(reply.Count);
        foreach (var node in reply)
        {
            var entry = QmpJson.Object(node, What);
            result.Add(new QmpCpu(
                QmpJson.RequiredInt(entry, "cpu-index", What),
                QmpJson.RequiredLong(entry, "thread-id", What),
                QmpJson.RequiredString(entry, "qom-path", What),
                QmpJson.OptionalString(entry, "target")));
        }

        return result;
    }

    /// <summary>
    /// <c>migrate</c>: starts migrating to <paramref name="uri"/> (<c>tcp:host:port</c>, <c>unix:path</c>,
    /// <c>fd:NAME</c>) and returns once it has started; follow it with <see cref="QueryMigrateAsync"/>.
    /// </summary>
    public Task MigrateAsync(string uri, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        return ExecuteAsync("migrate", new JsonObject { ["uri"] = uri }, cancellationToken);
    }

    /// <summary>
    /// <c>getfd</c>: hands QEMU an open descriptor under <paramref name="name"/>, for a later
    /// <c>fd:NAME</c> migration URI, so that no path or shell command is ever given to QEMU.
    /// </summary>
    public Task GetFdAsync(string name, SafeHandle fd, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(fd);
        return ExecuteAsync("getfd", new JsonObject { ["fdname"] = name }, fd, cancellationToken);
    }

    /// <summary><c>closefd</c>: drops a descriptor passed with <see cref="GetFdAsync"/> that no command consumed.</summary>
    public Task CloseFdAsync(string name, CancellationToken cancellationToken) =>
        ExecuteAsync("closefd", new JsonObject { ["fdname"] = name }, cancellationToken);

    /// <summary><c>migrate-incoming</c>: loads the state from <paramref name="uri"/> into a QEMU started with <c>-incoming defer</c>.</summary>
    public Task MigrateIncomingAsync(string uri, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        return ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = uri }, cancellationToken);
    }

    /// <summary><c>query-migrate</c>: the state and progress of the current or last outgoing migration.</summary>
    public async Task<QmpMigrationInfo> QueryMigrateAsync(CancellationToken cancellationToken)
    {
        var reply = QmpJson.Object(await ExecuteAsync("query-migrate", null, cancellationToken), "query-migrate");
        var ram = reply["ram"] as JsonObject;
        return new QmpMigrationInfo(
            QmpJson.OptionalString(reply, "status"),
            QmpJson.OptionalLong(reply, "total-time"),
            ram is null ? null : QmpJson.OptionalLong(ram, "transferred"),
            ram is null ? null : QmpJson.OptionalLong(ram, "remaining"),
            ram is null ? null : QmpJson.OptionalLong(ram, "total"),
            QmpJson.OptionalString(reply, "error-desc"));
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

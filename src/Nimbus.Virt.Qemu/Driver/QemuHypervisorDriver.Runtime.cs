using System.Net.Sockets;
using Nimbus.Shared;
using Nimbus.Virt.Definitions;
using Nimbus.Virt.Drivers;
using Nimbus.Virt.Qemu.CommandLine;
using Nimbus.Virt.Qemu.Qmp;

namespace Nimbus.Virt.Qemu.Driver;

/// <summary>What the driver holds of one running QEMU: its process, its monitor and how it is expected to end.</summary>
public sealed class QemuRuntime
{
    internal QemuRuntime(int pid, QmpClient qmp)
    {
        Pid = pid;
        Qmp = qmp;
    }

    public int Pid { get; }

    internal QmpClient Qmp { get; }

    /// <summary>The shut-off reason to record when the process ends: set by whoever asked it to end.</summary>
    internal string? ExpectedExit { get; set; }

    /// <summary>The next guest power-off is a reboot: reset and continue instead of quitting.</summary>
    internal bool RebootRequested { get; set; }

    /// <summary>The driver is closing: the guest keeps running, nothing is recorded.</summary>
    internal bool Detached { get; set; }

    /// <summary>1 while a console session holds the serial port.</summary>
    internal int ConsoleAttached;
}

/// <summary>
/// The pty of a guest's serial port; disposing it frees the console for the next session. Reads and
/// writes go through the runtime's epoll-driven socket engine, which also drives non-socket
/// descriptors: a read waits without holding a thread and a cancelled one ends at once, leaving no
/// blocked read() behind to swallow what the guest writes next.
/// </summary>
internal sealed class ConsoleStream : Stream
{
    private readonly Socket _pty;
    private readonly Action _released;
    private int _disposed;

    private ConsoleStream(Socket pty, Action released)
    {
        _pty = pty;
        _released = released;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public static ConsoleStream Open(string path, Action released)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        var socket = new Socket(new SafeSocketHandle(file.DangerousGetHandle(), ownsHandle: true));
        file.SetHandleAsInvalid();
        return new ConsoleStream(socket, released);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return _pty.Receive(buffer, SocketFlags.None);
        }
        catch (SocketException ex)
        {
            throw Closed(ex);
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _pty.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        }
        catch (SocketException ex)
        {
            throw Closed(ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        try
        {
            while (!buffer.IsEmpty)
            {
                buffer = buffer[_pty.Send(buffer, SocketFlags.None)..];
            }
        }
        catch (SocketException ex)
        {
            throw Closed(ex);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            while (!buffer.IsEmpty)
            {
                buffer = buffer[await _pty.SendAsync(buffer, SocketFlags.None, cancellationToken)..];
            }
        }
        catch (SocketException ex)
        {
            throw Closed(ex);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _pty.Dispose();
            _released();
        }

        base.Dispose(disposing);
    }

    /// <summary>The pty fails (EIO) once QEMU has gone: the session ends as a stream's I/O error.</summary>
    private static IOException Closed(SocketException error) => new($"the guest's console closed: {error.Message}", error);
}

public sealed partial class QemuHypervisorDriver
{
    /// <summary>The name under which a save image's descriptor is handed to QEMU (getfd).</summary>
    private const string MigrationFd = "nimbus-migration";

    private void LoadDefinitions()
    {
        foreach (var file in Directory.GetFiles(_paths.ConfigDirectory, "*.xml").Order(StringComparer.Ordinal))
        {
            var definition = DomainXml.Parse(File.ReadAllText(file));
            var (domain, _) = _domains.AddOrMatch(definition);
            domain.Autostart = File.Exists(_paths.AutostartMarker(definition.Name));
            domain.HasManagedSave = File.Exists(_paths.ManagedSave(definition.Name));
        }
    }

    /// <summary>Finds guests that ran before this driver opened: alive ones are watched again, dead ones are recorded as crashed.</summary>
    private async Task ReconnectAsync(CancellationToken cancellationToken)
    {
        foreach (var file in Directory.GetFiles(_paths.RunDirectory, "*.xml"))
        {
            var definition = DomainXml.Parse(await File.ReadAllTextAsync(file, cancellationToken));
            var (domain, added) = _domains.AddOrMatch(definition);
            if (added)
            {
                domain.Persistent = false;
            }

            var pid = QemuProcess.ReadPid(_paths.PidFile(definition.Uuid));
            if (pid is { } alive && QemuProcess.IsRunning(alive, definition.Uuid))
            {
                var qmp = await QmpClient.ConnectAsync(_paths.Monitor(definition.Uuid), _options.Qmp, cancellationToken);
                var status = await qmp.QueryStatusAsync(cancellationToken);
                var state = status.Running ? new DomainStatus(DomainState.Running, "unknown") : new DomainStatus(DomainState.Paused, "unknown");
                Attach(domain, definition, new QemuRuntime(alive, qmp), state);
            }
            else
            {
                domain.Live = definition;
                await DetachAsync(domain, "crashed");
            }
        }
    }

    /// <summary>
    /// Starts QEMU for <paramref name="definition"/>, paused, detached; connects QMP; restores the
    /// save image when there is one; then lets the guest run. Every step is undone if a later one fails.
    /// </summary>
    private async Task<QemuRuntime> LaunchAsync(DomainDefinition definition, string? incoming, long incomingOffset, CancellationToken cancellationToken)
    {
        var uuid = definition.Uuid;
        var undo = new Stack<Func<ValueTask>>();
        try
        {
            _paths.RemoveRunFiles(uuid);
            await AtomicFile.WriteAllTextAsync(_paths.LiveDefinition(uuid), DomainXml.Format(definition), cancellationToken);
            undo.Push(() =>
            {
                _paths.RemoveRunFiles(uuid);
                return ValueTask.CompletedTask;
            });

            var taps = await TapDevices.CreateAsync(definition, cancellationToken);
            undo.Push(async () => await TapDevices.RemoveAsync(definition, CancellationToken.None));

            var accelerator = definition.Type == DomainType.Kvm
                ? _options.Kvm.Usable ? "kvm" : throw new VirtException(VirtErrorCode.NoSupport, $"KVM is not usable on this host ({_options.Kvm.Current.Reason}), so domain '{definition.Name}' of type 'kvm' cannot start; use <domain type='qemu'> to run it under TCG, or set Virt:Kvm=on if you know better")
                : "tcg";
            var plan = new QemuLaunchPlan
            {
                Emulator = definition.Emulator ?? _options.Emulator,
                Accelerator = accelerator,
                MonitorSocket = _paths.Monitor(uuid),
                PidFile = _paths.PidFile(uuid),
                ConsoleLog = _paths.ConsoleLog(definition.Name),
                VncDisplay = definition.Graphics is [{ AutoPort: true } vnc, ..] ? QemuProcess.FreeVncDisplay(vnc.Listen) : null,
                Incoming = incoming is not null,
                TapByMac = taps,
            };
            await QemuProcess.LaunchAsync(QemuCommandLine.Build(definition, plan), _options.StartTimeout, cancellationToken);
            var pid = QemuProcess.ReadPid(plan.PidFile)
                ?? throw new VirtException(VirtErrorCode.OperationFailed, "operation failed: QEMU started but wrote no pidfile");
            undo.Push(() =>
            {
                QemuProcess.Kill(pid);
                return ValueTask.CompletedTask;
            });

            var qmp = await QmpClient.ConnectAsync(plan.MonitorSocket, _options.Qmp, cancellationToken);
            undo.Push(qmp.DisposeAsync);
            if (incoming is not null)
            {
                await RestoreFromAsync(qmp, incoming, incomingOffset, cancellationToken);
            }

            await qmp.ContAsync(cancellationToken);
            return new QemuRuntime(pid, qmp);
        }
        catch (Exception ex)
        {
            while (undo.TryPop(out var step))
            {
                await step();
            }

            throw Translate(ex, "start");
        }
    }

    /// <summary>
    /// Hands QEMU (started with -incoming defer) the save image as an open descriptor positioned after
    /// the header, and waits until it has loaded the state: it leaves "inmigrate" only then.
    /// </summary>
    private async Task RestoreFromAsync(QmpClient qmp, string file, long offset, CancellationToken cancellationToken)
    {
        using (var image = File.OpenHandle(file, FileMode.Open, FileAccess.Read))
        {
            UnixFd.Seek(image, offset);
            await qmp.GetFdAsync(MigrationFd, image, cancellationToken);
        }

        await qmp.MigrateIncomingAsync($"fd:{MigrationFd}", cancellationToken);
        var deadline = _options.Clock.GetUtcNow() + _options.StartTimeout;
        while ((await qmp.QueryStatusAsync(cancellationToken)).Status == QmpRunState.InMigrate)
        {
            if (_options.Clock.GetUtcNow() > deadline)
            {
                throw new VirtException(VirtErrorCode.OperationTimeout, $"operation timed out: restoring the saved state took longer than {_options.StartTimeout.TotalSeconds:0} s");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    private void Attach(DomainObject<QemuRuntime> domain, DomainDefinition live, QemuRuntime runtime, DomainStatus status)
    {
        domain.Live = live;
        domain.Id = _domains.NextId();
        domain.Runtime = runtime;
        domain.Status = status;
        _ = WatchAsync(domain, runtime);
    }

    private async Task DetachAsync(DomainObject<QemuRuntime> domain, string reason)
    {
        if (domain.Live is { } live)
        {
            await TapDevices.RemoveAsync(live, CancellationToken.None);
        }

        domain.Status = new DomainStatus(DomainState.Shutoff, reason);
        domain.Live = null;
        domain.Id = null;
        domain.Runtime = null;
        _paths.RemoveRunFiles(domain.Uuid);
        if (!domain.Persistent)
        {
            _domains.Remove(domain);
        }
    }

    /// <summary>
    /// Follows one QEMU until its monitor closes: a guest power-off ends the process (or resets it for
    /// a reboot); when the process is gone the domain is recorded shut off with the expected reason,
    /// or "crashed" when nobody asked for it to end.
    /// </summary>
    private async Task WatchAsync(DomainObject<QemuRuntime> domain, QemuRuntime runtime)
    {
        using (var events = runtime.Qmp.SubscribeEvents("SHUTDOWN"))
        {
            await foreach (var shutdown in events.Reader.ReadAllAsync(CancellationToken.None))
            {
                var byGuest = shutdown.Data?["guest"]?.GetValue<bool>() ?? false;
                try
                {
                    if (byGuest && runtime.RebootRequested)
                    {
                        runtime.RebootRequested = false;
                        await runtime.Qmp.SystemResetAsync(_closing.Token);
                        await runtime.Qmp.ContAsync(_closing.Token);
                        continue;
                    }

                    runtime.ExpectedExit ??= byGuest ? "shutdown" : "destroyed";
                    await runtime.Qmp.QuitAsync(_closing.Token);
                }
                catch (Exception ex) when (ex is QmpException or QmpConnectionException or OperationCanceledException)
                {
                    // The process is going away already; the disconnect below records it.
                }
            }
        }

        if (runtime.Detached)
        {
            return;
        }

        await QemuProcess.WaitForExitAsync(runtime.Pid, domain.Uuid, TimeSpan.FromSeconds(10), _options.Clock);
        await _jobs.RunAsync(domain.Uuid, async () =>
        {
            if (ReferenceEquals(domain.Runtime, runtime))
            {
                await DetachAsync(domain, runtime.ExpectedExit ?? "crashed");
            }
        }, CancellationToken.None);
    }

    /// <summary>Ends QEMU now (quit, or SIGKILL when it does not answer) and records the domain shut off.</summary>
    private async Task StopAsync(DomainObject<QemuRuntime> domain, QemuRuntime runtime, string reason)
    {
        runtime.ExpectedExit = reason;
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await runtime.Qmp.QuitAsync(limit.Token);
        }
        catch (Exception ex) when (ex is QmpException or QmpConnectionException or OperationCanceledException)
        {
            QemuProcess.Kill(runtime.Pid);
        }

        await QemuProcess.WaitForExitAsync(runtime.Pid, domain.Uuid, TimeSpan.FromSeconds(10), _options.Clock);
        await DetachAsync(domain, reason);
    }

    /// <summary>
    /// Pauses the guest and streams its state into <paramref name="file"/> after the header, through a
    /// descriptor handed to QEMU (getfd, then migrate fd:NAME) as libvirt does, then stops it.
    /// </summary>
    private async Task SaveToAsync(DomainObject<QemuRuntime> domain, QemuRuntime runtime, string file, CancellationToken cancellationToken)
    {
        try
        {
            await using (var image = await SaveImage.CreateAsync(file, DomainXml.Format(domain.Live!), cancellationToken))
            {
                await runtime.Qmp.StopAsync(cancellationToken);
                await runtime.Qmp.GetFdAsync(MigrationFd, image.SafeFileHandle, cancellationToken);
                try
                {
                    await runtime.Qmp.MigrateAsync($"fd:{MigrationFd}", cancellationToken);
                }
                catch (QmpException)
                {
                    await runtime.Qmp.CloseFdAsync(MigrationFd, CancellationToken.None);
                    throw;
                }

                while (true)
                {
                    var migration = await runtime.Qmp.QueryMigrateAsync(cancellationToken);
                    if (migration.Status == "completed")
                    {
                        break;
                    }

                    if (migration.Status is "failed" or "cancelled")
                    {
                        throw new VirtException(VirtErrorCode.OperationFailed, $"operation failed: saving the state of '{domain.Name}' failed: {migration.ErrorDescription ?? migration.Status}");
                    }

                    await Task.Delay(50, cancellationToken);
                }

                image.Flush(flushToDisk: true);
            }
        }
        catch (Exception ex)
        {
            File.Delete(file);
            if (domain.Status.State == DomainState.Running)
            {
                await runtime.Qmp.ContAsync(CancellationToken.None);
            }

            throw Translate(ex, "save");
        }

        await StopAsync(domain, runtime, "saved");
    }

    /// <summary>Runs <paramref name="action"/> in the domain's job, refusing a domain removed while it waited.</summary>
    private Task WithDomainAsync(string name, Func<DomainObject<QemuRuntime>, Task> action, CancellationToken cancellationToken) =>
        _domains.RunJobAsync(_jobs, name, async domain =>
        {
            try
            {
                await action(domain);
            }
            catch (Exception ex) when (ex is QmpException or QmpConnectionException)
            {
                throw Translate(ex, "change");
            }
        }, cancellationToken);

    /// <summary>Takes a domain this call added back out of the list when its definition could not be kept; one that got started meanwhile stays, transient.</summary>
    private void ForgetUnwritten(DomainObject<QemuRuntime> domain)
    {
        if (domain.Status.IsActive)
        {
            domain.Persistent = false;
        }
        else
        {
            _domains.Remove(domain);
        }
    }

    private Task WithRuntimeAsync(string name, Func<DomainObject<QemuRuntime>, QemuRuntime, Task> action, CancellationToken cancellationToken) =>
        WithDomainAsync(name, d => action(d, RuntimeOf(d)), cancellationToken);

    private static QemuRuntime RuntimeOf(DomainObject<QemuRuntime> domain)
    {
        domain.EnsureActive();
        return domain.Runtime ?? throw new VirtException(VirtErrorCode.InternalError, $"internal error: domain '{domain.Name}' is active but has no QEMU process");
    }

    private static async Task QmpAsync(Func<Task> command, string name)
    {
        try
        {
            await command();
        }
        catch (Exception ex) when (ex is QmpException or QmpConnectionException)
        {
            throw Translate(ex, name);
        }
    }

    private static async Task<T> QmpAsync<T>(Func<Task<T>> command, string name)
    {
        try
        {
            return await command();
        }
        catch (Exception ex) when (ex is QmpException or QmpConnectionException)
        {
            throw Translate(ex, name);
        }
    }

    private static Exception Translate(Exception error, string operation) => error switch
    {
        VirtException or OperationCanceledException => error,
        QmpException qmp => new VirtException(VirtErrorCode.OperationFailed, $"operation failed: QEMU refused {operation}: {qmp.Description}", qmp),
        QmpConnectionException closed => new VirtException(VirtErrorCode.OperationFailed, $"operation failed: the QEMU process went away during {operation}: {closed.Message}", closed),
        IOException io => new VirtException(VirtErrorCode.OperationFailed, $"operation failed: {operation}: {io.Message}", io),
        _ => error,
    };
}

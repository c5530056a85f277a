using System.Diagnostics;
using System.Text;

namespace Nimbus.Virt.Qemu.Tests.Qmp;

/// <summary>
/// A real <c>qemu-system-x86_64</c> with a QMP socket in a temporary directory, started as a child of the
/// test so its exit can be awaited. The socket uses <c>wait=on</c>: QEMU prints "QEMU waiting for connection"
/// once it listens and then blocks until a client connects, so the test connects exactly when it can.
/// </summary>
internal sealed class QemuProcess : IAsyncDisposable
{
    public const string Executable = "qemu-system-x86_64";

    private readonly Process _process;
    private readonly ShortTempDirectory _directory;
    private readonly StringBuilder _stderr;
    private readonly Task _stderrDrain;

    private QemuProcess(Process process, ShortTempDirectory directory, string socketPath, StringBuilder stderr)
    {
        _process = process;
        _directory = directory;
        SocketPath = socketPath;
        _stderr = stderr;
        _stderrDrain = DrainAsync(process.StandardError, stderr);
    }

    public string SocketPath { get; }

    public int ProcessId => _process.Id;

    public ShortTempDirectory Directory => _directory;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>A machine with nothing in it: enough for the monitor itself.</summary>
    public static Task<QemuProcess> StartEmptyAsync(CancellationToken cancellationToken) =>
        StartAsync(["-machine", "none", "-accel", "tcg"], cancellationToken);

    /// <summary>
    /// A pc machine held before its first instruction (-S), emulated with TCG: /dev/kvm exists on these
    /// hosts but KVM guests hang, so KVM is never used here.
    /// </summary>
    public static Task<QemuProcess> StartPausedPcAsync(CancellationToken cancellationToken, params string[] extra) =>
        StartAsync(["-machine", "pc", "-accel", "tcg", "-m", "64", "-S", .. extra], cancellationToken);

    public static async Task<QemuProcess> StartAsync(IReadOnlyList<string> machineArguments, CancellationToken cancellationToken)
    {
        var executable = FindOnPath(Executable)
            ?? throw new InvalidOperationException($"{Executable} is not installed (./test.sh installs qemu-system-x86); the QEMU integration tests need it.");
        var directory = new ShortTempDirectory();
        var socketPath = directory.Combine("qmp.sock");
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = false,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["-nodefaults", "-no-user-config", "-display", "none", .. machineArguments, "-qmp", $"unix:{socketPath},server=on,wait=on"])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start.");
        var stderr = new StringBuilder();
        try
        {
            while (true)
            {
                var line = await process.StandardError.ReadLineAsync(cancellationToken)
                    ?? throw new InvalidOperationException($"{Executable} exited before opening its QMP socket: {stderr}");
                stderr.AppendLine(line);
                if (line.Contains("waiting for connection", StringComparison.Ordinal))
                {
                    return new QemuProcess(process, directory, socketPath, stderr);
                }
            }
        }
        catch (OperationCanceledException e)
        {
            Kill(process);
            process.Dispose();
            directory.Dispose();
            throw new TimeoutException($"{Executable} did not open its QMP socket in time. Its stderr: {stderr}", e);
        }
        catch
        {
            Kill(process);
            process.Dispose();
            directory.Dispose();
            throw;
        }
    }

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        return _process.ExitCode;
    }

    public void Kill() => Kill(_process);

    public async ValueTask DisposeAsync()
    {
        Kill(_process);
        await _process.WaitForExitAsync();
        await _stderrDrain;
        _process.Dispose();
        _directory.Dispose();
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    private static async Task DrainAsync(StreamReader stderr, StringBuilder into)
    {
        while (await stderr.ReadLineAsync() is { } line)
        {
            lock (into)
            {
                into.AppendLine(line);
            }
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}

using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Nimbus.TestSupport;

namespace Nimbus.Acceptance;

/// <summary>The published <c>bin/nimbusd</c> and <c>bin/nimbus</c> of this checkout, as a user runs them.</summary>
internal static partial class Executables
{
    public static string Daemon => Existing(Path.Combine(LocalMachine.RepositoryRoot, "bin", "nimbusd"));

    public static string Cli => Existing(Path.Combine(LocalMachine.RepositoryRoot, "bin", "nimbus"));

    public static Process Start(string path, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        HostProcess.Start(Info(path, args, environment));

    /// <summary>Runs a program to completion and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string path, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? limit = null)
    {
        var result = await HostProcess.RunAsync(Info(path, args, environment), limit ?? TimeSpan.FromMinutes(2));
        return (result.ExitCode, result.Output, result.Error);
    }

    private static ProcessStartInfo Info(string path, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var info = HostProcess.Info(path, args);

        // The test's own settings (and any OpenStack credentials of the shell) must not leak into the programs under test.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("NIMBUS", StringComparison.Ordinal) || k.StartsWith("OS_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return info;
    }

    public static void Signal(Process process, int signal) => Signal(process.Id, signal);

    public static void Signal(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public const int SigInt = 2;
    public const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private static string Existing(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: run ./test.sh (or ./run.sh), which publishes the executables to bin/.");
}

/// <summary>A nimbusd started from bin/, its output collected, killed on dispose if still running.</summary>
internal sealed class DaemonProcess : IDisposable
{
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private DaemonProcess(Process process, string home, int port)
    {
        Process = process;
        Home = home;
        Port = port;
        process.OutputDataReceived += (_, e) => Append(_output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_error, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Home { get; }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}");

    public string EnvFile => Path.Combine(Home, "nimbus.env");

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>Starts bin/nimbusd; its storage nodes get free ports of their own unless the environment names them.</summary>
    public static DaemonProcess Start(string home, int port, IReadOnlyDictionary<string, string>? environment = null)
    {
        var withPorts = new Dictionary<string, string>(environment ?? new Dictionary<string, string>());
        withPorts.TryAdd("NIMBUS__Objects__BasePort", LocalMachine.FreePortRange(4).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new(Executables.Start(Executables.Daemon, ["--home", home, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], withPorts), home, port);
    }

    /// <summary>Waits until nimbus.env names this daemon's URL — nimbusd writes it once it serves.</summary>
    public async Task WaitUntilReadyAsync()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!File.Exists(EnvFile) || !(await File.ReadAllTextAsync(EnvFile, limit.Token)).Contains($"NIMBUS_URL={Url.GetLeftPart(UriPartial.Authority)}", StringComparison.Ordinal))
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"nimbusd exited with {Process.ExitCode} before it was ready: {Error}");
            }

            await Task.Delay(50, limit.Token);
        }
    }

    public async Task<int> WaitForExitAsync()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Process.WaitForExitAsync(limit.Token);
        return Process.ExitCode;
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
        }

        Process.Dispose();
    }

    private static void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (target)
        {
            target.AppendLine(line);
        }
    }
}

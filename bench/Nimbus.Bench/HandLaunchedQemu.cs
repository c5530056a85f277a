using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Nimbus.Bench;

/// <summary>
/// The floor under any manager: the QEMU command line nimbusd uses for a guest, launched by hand
/// with its own disk, monitor socket and pidfile, then resumed over a minimal QMP exchange
/// (greeting, qmp_capabilities, cont, query-status) — no definitions, no state, no HTTP.
/// </summary>
internal sealed class HandLaunchedQemu
{
    private readonly IReadOnlyList<string> _argv;
    private int? _pid;

    private HandLaunchedQemu(IReadOnlyList<string> argv, string monitorSocket, string pidFile)
    {
        _argv = argv;
        MonitorSocket = monitorSocket;
        PidFile = pidFile;
    }

    public IReadOnlyList<string> Argv => _argv;

    public string MonitorSocket { get; }

    public string PidFile { get; }

    /// <summary>
    /// Rewrites the argv of a QEMU that nimbusd started: every argument has each key of
    /// <paramref name="replacements"/> replaced by its value, and none may still mention
    /// <paramref name="mustNotMention"/> (nimbusd's state directory) afterwards.
    /// </summary>
    public static HandLaunchedQemu FromNimbusArgv(IReadOnlyList<string> nimbusArgv, IReadOnlyDictionary<string, string> replacements, string mustNotMention)
    {
        var argv = nimbusArgv.Select(arg => replacements.Aggregate(arg, (a, r) => a.Replace(r.Key, r.Value, StringComparison.Ordinal))).ToList();
        if (argv.FirstOrDefault(a => a.Contains(mustNotMention, StringComparison.Ordinal)) is { } leftover)
        {
            throw new InvalidOperationException($"the QEMU command line of nimbusd's guest still names nimbusd's state after rewriting: {leftover}");
        }

        var pidFileAt = argv.IndexOf("-pidfile");
        if (!argv.Contains("-S") || !argv.Contains("-daemonize") || pidFileAt < 0 || pidFileAt == argv.Count - 1)
        {
            throw new InvalidOperationException("nimbusd's QEMU command line no longer has -S, -daemonize and -pidfile, which the hand launch relies on: " + string.Join(' ', argv));
        }

        var pidFile = argv[pidFileAt + 1];
        var monitor = argv.FirstOrDefault(a => a.Contains("id=charmonitor", StringComparison.Ordinal))?
            .Split(',').FirstOrDefault(o => o.StartsWith("path=", StringComparison.Ordinal))?["path=".Length..]
            ?? throw new InvalidOperationException("nimbusd's QEMU command line has no charmonitor socket path");
        return new HandLaunchedQemu(argv, monitor, pidFile);
    }

    /// <summary>Launches QEMU and returns the milliseconds until query-status says running.</summary>
    public async Task<double> StartAsync()
    {
        if (_pid is not null)
        {
            throw new InvalidOperationException("the hand-launched QEMU is already running");
        }

        File.Delete(MonitorSocket);
        File.Delete(PidFile);
        var started = Stopwatch.GetTimestamp();
        var run = await BenchProcess.RunAsync(_argv[0], _argv.Skip(1));
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"the hand-launched QEMU failed with exit code {run.ExitCode}: {run.Error.Trim()}");
        }

        _pid = BenchProcess.ReadPidFile(PidFile);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(MonitorSocket));
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        await using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };

        (await ReadUntilAsync(reader, "QMP")).Dispose();
        (await ExecuteAsync(reader, writer, "qmp_capabilities")).Dispose();
        (await ExecuteAsync(reader, writer, "cont")).Dispose();
        using var status = await ExecuteAsync(reader, writer, "query-status");
        var state = status.RootElement.GetProperty("return").GetProperty("status").GetString();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (state != "running")
        {
            throw new InvalidOperationException($"the hand-launched QEMU is '{state}' after cont, not running");
        }

        return elapsed;
    }

    /// <summary>Ends the QEMU (SIGTERM, as libvirt's destroy) and waits until it has gone.</summary>
    public async Task StopAsync()
    {
        if (_pid is { } pid)
        {
            await BenchProcess.TerminateAsync(pid, TimeSpan.FromSeconds(10));
            _pid = null;
        }
    }

    private static async Task<JsonDocument> ExecuteAsync(StreamReader reader, StreamWriter writer, string command)
    {
        await writer.WriteLineAsync($"{{\"execute\":\"{command}\"}}");
        var answer = await ReadUntilAsync(reader, "return", "error");
        if (answer.RootElement.TryGetProperty("error", out var error))
        {
            answer.Dispose();
            throw new InvalidOperationException($"QMP {command} failed: {error}");
        }

        return answer;
    }

    /// <summary>Reads QMP messages until one with one of <paramref name="keys"/>; events in between are skipped.</summary>
    private static async Task<JsonDocument> ReadUntilAsync(StreamReader reader, params string[] keys)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            var message = JsonDocument.Parse(line);
            if (keys.Any(k => message.RootElement.TryGetProperty(k, out _)))
            {
                return message;
            }

            message.Dispose();
        }

        throw new InvalidOperationException("QEMU closed its monitor");
    }
}

using System.Diagnostics;
using System.Globalization;

namespace Nimbus.Bench;

/// <summary>How a command ended, and its wall time from just before it was started until it exited.</summary>
internal sealed record ProcessRun(int ExitCode, string Output, string Error, double Milliseconds);

/// <summary>Running commands and looking at processes through /proc, for the virt benchmarks.</summary>
internal static class BenchProcess
{
    public static async Task<ProcessRun> RunAsync(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var started = Stopwatch.GetTimestamp();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return new ProcessRun(process.ExitCode, await output, await error, elapsed);
    }

    /// <summary>Runs a command that must succeed; a failure throws with its standard error.</summary>
    public static async Task<ProcessRun> RunCheckedAsync(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var argv = args.ToList();
        var run = await RunAsync(file, argv, environment);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', argv)} failed with exit code {run.ExitCode}: {(run.Error + run.Output).Trim()}");
        }

        return run;
    }

    /// <summary>A field of /proc/PID/status in KiB (VmRSS, VmHWM…), or null when the process is gone.</summary>
    public static long? StatusKiB(int pid, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Whether the process has ended (no /proc entry, or a zombie waiting for its parent).</summary>
    public static bool IsGone(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Sends SIGTERM to one process by id, then SIGKILL if it has not ended within <paramref name="grace"/>.</summary>
    public static async Task TerminateAsync(int pid, TimeSpan grace)
    {
        if (IsGone(pid))
        {
            return;
        }

        await RunAsync("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]);
        var deadline = Stopwatch.GetTimestamp() + (long)(grace.TotalSeconds * Stopwatch.Frequency);
        while (!IsGone(pid))
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                await RunAsync("kill", ["-KILL", pid.ToString(CultureInfo.InvariantCulture)]);
                return;
            }

            await Task.Delay(20);
        }
    }

    /// <summary>The live processes one of whose arguments contains <paramref name="text"/> (e.g. a temporary directory of ours).</summary>
    public static IReadOnlyList<int> WithArgumentContaining(string text)
    {
        var found = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(entry, "cmdline")).Split('\0').Any(a => a.Contains(text, StringComparison.Ordinal)) && !IsGone(pid))
                {
                    found.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Ended while we looked.
            }
        }

        return found;
    }

    /// <summary>The argument vector of a live process, from /proc/PID/cmdline.</summary>
    public static IReadOnlyList<string> CommandLine(int pid) =>
        File.ReadAllText($"/proc/{pid}/cmdline").TrimEnd('\0').Split('\0');

    public static int ReadPidFile(string path) =>
        int.Parse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
}

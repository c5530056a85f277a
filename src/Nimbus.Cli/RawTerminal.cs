using System.Diagnostics;

namespace Nimbus.Cli;

/// <summary>
/// Puts the terminal in raw mode (every key straight through, no echo, Ctrl+C to the guest) and puts
/// back what it was, as virsh console does; stty reads and restores the settings.
/// </summary>
internal sealed class RawTerminal : IDisposable
{
    private string? _saved;

    private RawTerminal(string? saved)
    {
        _saved = saved;
    }

    public static RawTerminal Enter(bool isTerminal)
    {
        if (!isTerminal)
        {
            return new RawTerminal(null);
        }

        var saved = Stty("-g")?.Trim();
        Stty("raw", "-echo");
        return new RawTerminal(saved);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _saved, null) is { } saved)
        {
            Stty(saved);
        }
    }

    private static string? Stty(params string[] args)
    {
        var info = new ProcessStartInfo("stty") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}

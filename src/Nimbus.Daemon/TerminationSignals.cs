using System.Runtime.InteropServices;

namespace Nimbus.Daemon;

/// <summary>
/// Makes SIGINT and SIGTERM reach the host's shutdown whatever disposition nimbusd inherited. A shell
/// starts a background job of a non-interactive script (<c>nimbusd &amp;</c>) with SIGINT ignored, and
/// <c>nohup</c> or a service manager may ignore more; exec keeps SIG_IGN, and .NET installs no handler
/// for a signal it finds ignored, so such a daemon would never hear Ctrl-C's signal (POSIX.1-2017,
/// "Shell Command Language", 2.11 and exec's "Signals set to be ignored … shall be set to be ignored").
/// </summary>
internal static partial class TerminationSignals
{
    private const int SigInt = 2;
    private const int SigTerm = 15;
    private const nint SigIgn = 1;
    private const nint SigDfl = 0;

    /// <summary>
    /// Gives an ignored SIGINT or SIGTERM its default disposition back; call it first thing in Main, before
    /// the runtime's signal handling is set up, so that the host's handlers are installed for both.
    /// </summary>
    public static void RestoreIgnored()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        foreach (var signal in (int[])[SigInt, SigTerm])
        {
            if (IsIgnored(signal))
            {
                _ = Signal(signal, SigDfl);
            }
        }
    }

    /// <summary>Whether <paramref name="signal"/> is ignored in this process, read without changing it.</summary>
    public static bool IsIgnored(int signal)
    {
        // struct sigaction begins with sa_handler on Linux (glibc and musl); the rest is not read.
        var action = new byte[256];
        return Sigaction(signal, 0, action) == 0 && BitConverter.ToInt64(action, 0) == SigIgn;
    }

    [LibraryImport("libc", EntryPoint = "sigaction", SetLastError = true)]
    private static partial int Sigaction(int signal, nint action, [Out] byte[] oldAction);

    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial nint Signal(int signal, nint handler);
}

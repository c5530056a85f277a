using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Nimbus.Virt.Qemu.Driver;

/// <summary>A QEMU process the driver started: found by pid, recognised by the domain UUID on its command line.</summary>
internal static class QemuProcess
{
    /// <summary>Runs QEMU with -daemonize: the command returns once the guest is set up, the guest outlives us.</summary>
    public static async Task LaunchAsync(IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var result = await HostCommand.RunAsync(argv[0], argv.Skip(1), "qemu-system-x86", cancellationToken, timeout);
        if (result.ExitCode != 0)
        {
            var message = result.Error.Trim();
            throw new VirtException(VirtErrorCode.OperationFailed, $"operation failed: QEMU refused to start the guest: {(message.Length == 0 ? $"exit code {result.ExitCode}" : message)}");
        }
    }

    public static int? ReadPid(string pidFile)
    {
        try
        {
            return int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="pid"/> is a live (not zombie) QEMU of the domain <paramref name="uuid"/>.</summary>
    public static bool IsRunning(int pid, Guid uuid)
    {
        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            return cmdline.Contains(uuid.ToString("D"), StringComparison.OrdinalIgnoreCase) && !IsZombie(pid);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static async Task WaitForExitAsync(int pid, Guid uuid, TimeSpan limit, TimeProvider clock)
    {
        var deadline = clock.GetUtcNow() + limit;
        while (IsRunning(pid, uuid))
        {
            if (clock.GetUtcNow() > deadline)
            {
                Kill(pid);
                return;
            }

            await Task.Delay(20);
        }
    }

    public static void Kill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    /// <summary>User plus system CPU time of the process (/proc/PID/stat fields 14 and 15, in clock ticks of 10 ms).</summary>
    public static TimeSpan CpuTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromMilliseconds(ticks * 10);
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>A free VNC display (port 5900 + n) on the listen address.</summary>
    public static int FreeVncDisplay(string listen)
    {
        var address = IPAddress.Parse(listen);
        for (var display = 0; display < 100; display++)
        {
            try
            {
                using var probe = new TcpListener(address, 5900 + display);
                probe.Start();
                return display;
            }
            catch (SocketException)
            {
            }
        }

        throw new VirtException(VirtErrorCode.OperationFailed, "operation failed: no free VNC port between 5900 and 5999");
    }

    private static bool IsZombie(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var state = stat[(stat.LastIndexOf(')') + 2)..];
        return state.StartsWith('Z');
    }
}

using System.Diagnostics;
using System.Globalization;

namespace Nimbus.Bench;

/// <summary>
/// libvirtd and virtlogd (Debian 12's libvirt 9.0 is monolithic: no virtqemud) started by hand,
/// without systemd, in a private mount namespace: there our own directories are bind-mounted over
/// /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt, so the
/// daemons read a configuration of ours and keep their state in our temporary directory, and the
/// host's files are not touched. The client socket is in our directory too, reached with
/// <c>qemu:///system?socket=PATH</c>. Everything else is libvirt's packaged default.
/// </summary>
internal sealed class PrivateLibvirt : IAsyncDisposable
{
    /// <summary>Host directories shadowed inside the namespace, and the subdirectory of ours that replaces each.</summary>
    private static readonly (string Host, string Ours)[] Shadowed =
    [
        ("/etc/libvirt", "etc"),
        ("/run/libvirt", "run"),
        ("/var/lib/libvirt", "lib"),
        ("/var/log/libvirt", "log"),
        ("/var/cache/libvirt", "cache"),
    ];

    private readonly bool _createdRunDirectory;
    private int? _libvirtd;
    private int? _virtlogd;

    private PrivateLibvirt(string root, bool createdRunDirectory)
    {
        Root = root;
        _createdRunDirectory = createdRunDirectory;
    }

    public string Root { get; }

    public string SocketPath => Path.Combine(Root, "sock", "libvirt-sock");

    public string Uri => $"qemu:///system?socket={SocketPath}";

    public string LogFile => Path.Combine(Root, "libvirtd.log");

    public int? LibvirtdPid => _libvirtd;

    public int? VirtlogdPid => _virtlogd;

    /// <summary>The milliseconds from starting the daemons until <c>virsh version</c> answered (libvirtd probes QEMU's capabilities first).</summary>
    public double ReadyMilliseconds { get; private set; }

    public static async Task<PrivateLibvirt> StartAsync(string root)
    {
        foreach (var (host, ours) in Shadowed)
        {
            Directory.CreateDirectory(Path.Combine(root, ours));
            if (host != "/run/libvirt" && !Directory.Exists(host))
            {
                throw new InvalidOperationException($"{host} does not exist: install libvirt-daemon-system (bench/run.sh virt-start does)");
            }
        }

        Directory.CreateDirectory(Path.Combine(root, "sock"));

        // /run/libvirt is made by systemd-tmpfiles, which does not run here; the bind mount needs a mount point.
        var createdRunDirectory = !Directory.Exists("/run/libvirt");
        Directory.CreateDirectory("/run/libvirt");
        var libvirt = new PrivateLibvirt(root, createdRunDirectory);

        await File.WriteAllTextAsync(Path.Combine(root, "etc", "libvirtd.conf"), $"""
            # Written by bench/Nimbus.Bench (virt-start): the client socket in the benchmark's directory,
            # no polkit (nothing runs it here; the socket is root-only anyway), log to a file.
            unix_sock_dir = "{Path.Combine(root, "sock")}"
            unix_sock_rw_perms = "0700"
            auth_unix_rw = "none"
            auth_unix_ro = "none"
            log_outputs = "3:file:{libvirt.LogFile}"

            """);
        await File.WriteAllTextAsync(Path.Combine(root, "etc", "virtlogd.conf"), $"""
            log_outputs = "3:file:{Path.Combine(root, "virtlogd.log")}"

            """);
        await File.WriteAllTextAsync(Path.Combine(root, "etc", "qemu.conf"), """
            # Written by bench/Nimbus.Bench (virt-start). QEMU runs as root, as under nimbusd: the
            # benchmark's disks are in a 0700 temporary directory that libvirt-qemu cannot enter.
            # Everything else (namespaces, cgroups, security driver, virtlogd) is the packaged default.
            user = "root"
            group = "root"

            """);

        var mounts = string.Join('\n', Shadowed.Select(s => $"mount --bind '{Path.Combine(root, s.Ours)}' '{s.Host}'"));
        var script = Path.Combine(root, "start-daemons.sh");
        await File.WriteAllTextAsync(script, $"""
            set -e
            {mounts}
            virtlogd --daemon --config /etc/libvirt/virtlogd.conf --pid-file '{Path.Combine(root, "virtlogd.pid")}'
            libvirtd --daemon --config /etc/libvirt/libvirtd.conf --pid-file '{Path.Combine(root, "libvirtd.pid")}'

            """);

        var started = Stopwatch.GetTimestamp();
        try
        {
            await BenchProcess.RunCheckedAsync("unshare", ["--mount", "--propagation", "private", "sh", script]);
            libvirt._virtlogd = await ReadPidAsync(Path.Combine(root, "virtlogd.pid"));
            libvirt._libvirtd = await ReadPidAsync(Path.Combine(root, "libvirtd.pid"));
            for (var attempt = 0; !File.Exists(libvirt.SocketPath); attempt++)
            {
                if (attempt == 300 || libvirt._libvirtd is not { } pid || BenchProcess.IsGone(pid))
                {
                    throw new InvalidOperationException($"libvirtd did not open {libvirt.SocketPath}; its log says: {libvirt.LogTail()}");
                }

                await Task.Delay(100);
            }

            var version = await libvirt.VirshAsync("version");
            if (version.ExitCode != 0)
            {
                throw new InvalidOperationException($"virsh version failed: {version.Error.Trim()}; libvirtd's log says: {libvirt.LogTail()}");
            }

            libvirt.ReadyMilliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return libvirt;
        }
        catch
        {
            await libvirt.DisposeAsync();
            throw;
        }
    }

    public Task<ProcessRun> VirshAsync(params string[] args) => BenchProcess.RunAsync("virsh", ["-c", Uri, .. args]);

    public async Task<ProcessRun> VirshCheckedAsync(params string[] args)
    {
        var run = await VirshAsync(args);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"virsh {string.Join(' ', args)} failed: {run.Error.Trim()}; libvirtd's log says: {LogTail()}");
        }

        return run;
    }

    /// <summary>The last lines of libvirtd's log, for error messages.</summary>
    public string LogTail()
    {
        try
        {
            return string.Join(" | ", File.ReadLines(LogFile).TakeLast(5));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    public async ValueTask DisposeAsync()
    {
        // libvirtd first: it keeps its guests' logs open in virtlogd. The mount namespace ends with its last process.
        foreach (var pid in new[] { _libvirtd, _virtlogd })
        {
            if (pid is { } id)
            {
                await BenchProcess.TerminateAsync(id, TimeSpan.FromSeconds(10));
            }
        }

        _libvirtd = null;
        _virtlogd = null;
        if (_createdRunDirectory && Directory.Exists("/run/libvirt") && !Directory.EnumerateFileSystemEntries("/run/libvirt").Any())
        {
            Directory.Delete("/run/libvirt");
        }
    }

    private static async Task<int?> ReadPidAsync(string path)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (File.Exists(path) && int.TryParse((await File.ReadAllTextAsync(path)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                return pid;
            }

            await Task.Delay(50);
        }

        return null;
    }
}

using System.Globalization;
using Nimbus.Platform.Health;
using Nimbus.Shared;
using Nimbus.Virt.Qemu.Driver;

namespace Nimbus.Daemon.Virt;

/// <summary>
/// Settles whether KVM may be used, in the background so start-up never waits on it: the operator's
/// Virt:Kvm, else a cached probe result for this QEMU, kernel and guest image, else a probe boot.
/// </summary>
internal sealed partial class KvmProbeService(
    VirtOptions options,
    KvmAvailability availability,
    DaemonInfo daemon,
    ServiceHealthRegistry health,
    ILogger<KvmProbeService> logger) : BackgroundService
{
    public const string Emulator = "/usr/bin/qemu-system-x86_64";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var result = options.Kvm switch
        {
            KvmMode.On => new KvmProbeResult(true, "turned on by Virt:Kvm=on"),
            KvmMode.Off => new KvmProbeResult(false, "turned off by Virt:Kvm=off"),
            _ => await ProbeOrCachedAsync(stoppingToken),
        };
        availability.Set(result);
        health.Set("kvm", ServiceState.Running, (result.Usable ? "usable: " : "not usable: ") + result.Reason);
        Log.Decided(logger, result.Usable, result.Reason);
    }

    private async Task<KvmProbeResult> ProbeOrCachedAsync(CancellationToken cancellationToken)
    {
        var image = Path.Combine(daemon.Home, "images", "nimbus-tiny.qcow2");
        var cache = Path.Combine(daemon.Home, "virt", "kvm-probe");
        var key = CacheKey(image);
        if (File.Exists(cache) && await File.ReadAllLinesAsync(cache, cancellationToken) is [var cachedKey, var usable, var reason] && cachedKey == key)
        {
            return new KvmProbeResult(usable == "yes", reason + " (cached)");
        }

        health.Set("kvm", ServiceState.Running, "probing");
        var result = await KvmProbe.RunAsync(Emulator, image, TimeSpan.FromSeconds(options.KvmProbeTimeoutSeconds), cancellationToken);
        if (File.Exists(image))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(cache)!);
            await AtomicFile.WriteAllTextAsync(cache, $"{key}\n{(result.Usable ? "yes" : "no")}\n{result.Reason}\n", cancellationToken);
        }

        return result;
    }

    /// <summary>A new QEMU, kernel or guest image invalidates the answer.</summary>
    private static string CacheKey(string image)
    {
        static string Stamp(string path) => File.Exists(path)
            ? string.Create(CultureInfo.InvariantCulture, $"{new FileInfo(path).Length}@{File.GetLastWriteTimeUtc(path).Ticks}")
            : "missing";

        var kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : "unknown";
        return $"qemu={Stamp(Emulator)};kernel={kernel};image={Stamp(image)}";
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2110, Level = LogLevel.Information, Message = "KVM usable: {Usable} ({Reason})")]
        public static partial void Decided(ILogger logger, bool usable, string reason);
    }
}

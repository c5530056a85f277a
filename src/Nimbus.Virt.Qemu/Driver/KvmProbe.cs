using System.Diagnostics;
using System.Text;

namespace Nimbus.Virt.Qemu.Driver;

/// <summary>Whether guests may run under KVM on this node, and why.</summary>
public sealed record KvmProbeResult(bool Usable, string Reason);

/// <summary>
/// Decides whether KVM works by booting the tiny guest under it until it reports
/// <c>nimbus-guest: up</c>. /dev/kvm can exist while nested guests fail: a boot sector in real
/// mode runs fine there, and the guest then dies in protected mode ("KVM internal error") or
/// hangs; only a whole boot proves it.
/// </summary>
public static class KvmProbe
{
    public const string UpMarker = "nimbus-guest: up";

    public static async Task<KvmProbeResult> RunAsync(string emulator, string guestImage, TimeSpan timeout, CancellationToken cancellationToken, string accelerator = "kvm")
    {
        if (accelerator == "kvm" && !File.Exists("/dev/kvm"))
        {
            return new KvmProbeResult(false, "/dev/kvm does not exist (no hardware virtualization, or the kvm module is not loaded)");
        }

        if (!File.Exists(guestImage))
        {
            return new KvmProbeResult(false, $"not probed: the probe boots the guest image {guestImage}, which does not exist yet (images/build.sh makes it)");
        }

        var directory = Directory.CreateTempSubdirectory("nimbus-kvm-probe-");
        try
        {
            var overlay = Path.Combine(directory.FullName, "probe.qcow2");
            var serial = Path.Combine(directory.FullName, "serial.log");
            await HostCommand.RunCheckedAsync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", guestImage, overlay], "qemu-utils", cancellationToken);
            var info = new ProcessStartInfo(emulator) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var arg in new[]
            {
                "-accel", accelerator, "-cpu", accelerator == "kvm" ? "host" : "max", "-m", "128",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-drive", $"file={overlay},format=qcow2,if=virtio",
                "-serial", $"file:{serial}",
            })
            {
                info.ArgumentList.Add(arg);
            }

            using var process = Process.Start(info)!;
            var errors = new StringBuilder();
            process.ErrorDataReceived += (_, e) =>
            {
                lock (errors)
                {
                    errors.AppendLine(e.Data);
                }
            };
            process.BeginErrorReadLine();
            var deadline = Stopwatch.StartNew();
            try
            {
                while (deadline.Elapsed < timeout)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (File.Exists(serial) && (await File.ReadAllTextAsync(serial, cancellationToken)).Contains(UpMarker, StringComparison.Ordinal))
                    {
                        return new KvmProbeResult(true, $"a probe guest booted under {accelerator} in {deadline.Elapsed.TotalSeconds:0.0} s");
                    }

                    string failure;
                    lock (errors)
                    {
                        failure = errors.ToString();
                    }

                    if (failure.Contains("internal error", StringComparison.OrdinalIgnoreCase) || process.HasExited)
                    {
                        var firstLine = failure.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "QEMU exited";
                        return new KvmProbeResult(false, $"a probe guest failed under {accelerator}: {firstLine}");
                    }

                    await Task.Delay(100, cancellationToken);
                }

                return new KvmProbeResult(false, $"a probe guest did not boot within {timeout.TotalSeconds:0} s under {accelerator} (as when nested virtualization hangs)");
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(CancellationToken.None);
                }
            }
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new KvmProbeResult(false, $"cannot run the probe: {ex.Message}");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}

/// <summary>What the driver knows about KVM right now: not usable until a probe (or the operator) says otherwise.</summary>
public sealed class KvmAvailability
{
    private volatile KvmProbeResult _current = new(false, "not probed yet");

    public KvmProbeResult Current => _current;

    public bool Usable => _current.Usable;

    public void Set(KvmProbeResult result) => _current = result ?? throw new ArgumentNullException(nameof(result));
}

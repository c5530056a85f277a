using Nimbus.TestSupport;
using Nimbus.Virt.Drivers;
using Nimbus.Virt.Qemu.Driver;
using Nimbus.Virt.Tests;

namespace Nimbus.Virt.Qemu.Tests.Driver;

/// <summary>The driver conformance suite against real QEMU guests (TCG) booting the tiny guest image.</summary>
public sealed class QemuDriverConformanceTests(GuestImage image) : HypervisorDriverConformance, IClassFixture<GuestImage>
{
    private string? _stateDirectory;

    protected override TimeSpan ShutdownGrace => TimeSpan.FromMinutes(2);

    protected override async Task<IHypervisorDriver> CreateDriverAsync(string stateDirectory)
    {
        _stateDirectory = stateDirectory;
        return await QemuHypervisorDriver.OpenAsync(new QemuDriverOptions { StateDirectory = stateDirectory }, CancellationToken.None);
    }

    protected override string BootableDomainXml(string name) => QemuGuests.Xml(name, image.Overlay(Scratch, name));

    protected override int RacePairs => 4;

    /// <summary>Every QEMU started from this state directory (found in /proc) has a pidfile, and every pidfile belongs to a listed running domain.</summary>
    protected override async Task AssertNoGuestOutsideTheListAsync()
    {
        var run = Path.Combine(_stateDirectory!, "run");
        var running = (await Driver.ListDomainsAsync(ListFilter.Active, default)).Select(d => d.Uuid.ToString("N")).ToHashSet();
        var pidFiles = Directory.GetFiles(run, "*.pid").ToDictionary(f => int.Parse(File.ReadAllText(f).Trim(), System.Globalization.CultureInfo.InvariantCulture), f => Path.GetFileNameWithoutExtension(f));
        foreach (var (pid, uuid) in pidFiles)
        {
            Assert.True(running.Contains(uuid) || !Directory.Exists($"/proc/{pid}"), $"QEMU {pid} runs for domain {uuid}, which no list shows");
        }

        foreach (var process in Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)))
        {
            string cmdline;
            try
            {
                cmdline = File.ReadAllText($"/proc/{process}/cmdline").Replace('\0', ' ');
            }
            catch (IOException)
            {
                continue;
            }

            if (cmdline.Contains($"-pidfile {run}/", StringComparison.Ordinal))
            {
                var pid = int.Parse(process!, System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(pidFiles.TryGetValue(pid, out var uuid) && running.Contains(uuid), $"QEMU {pid} of this driver belongs to no listed domain: {cmdline}");
            }
        }
    }

    protected override Task WaitUntilGuestIsUpAsync(string domain) =>
        QemuGuests.WaitForConsoleAsync(Path.Combine(_stateDirectory!, "log", domain + ".console.log"), "nimbus-guest: up", TimeSpan.FromMinutes(2));
}

internal static class QemuGuests
{
    public static string Xml(string name, string disk) => TinyGuest.DomainXml(name, disk);

    /// <summary>Waits until the console log has a line starting with <paramref name="marker"/>.</summary>
    public static async Task WaitForConsoleAsync(string log, string marker, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        while (!File.Exists(log) || !(await File.ReadAllTextAsync(log, timeout.Token)).Contains(marker, StringComparison.Ordinal))
        {
            try
            {
                await Task.Delay(200, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"'{marker}' did not appear in {log} within {limit.TotalSeconds:0} s:\n{(File.Exists(log) ? await File.ReadAllTextAsync(log) : "(no log)")}");
            }
        }
    }
}

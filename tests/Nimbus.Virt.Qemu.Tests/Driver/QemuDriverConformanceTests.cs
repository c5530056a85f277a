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

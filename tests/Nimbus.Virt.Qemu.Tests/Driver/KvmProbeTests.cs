using Nimbus.TestSupport;
using Nimbus.Virt.Qemu.Driver;

namespace Nimbus.Virt.Qemu.Tests.Driver;

public sealed class KvmProbeTests(GuestImage image) : IClassFixture<GuestImage>
{
    private const string Emulator = "/usr/bin/qemu-system-x86_64";

    [Fact]
    public async Task Probe_boot_of_the_tiny_guest_proves_an_accelerator_that_works()
    {
        // TCG always works, so it proves the probe itself: a boot all the way to "nimbus-guest: up".
        var result = await KvmProbe.RunAsync(Emulator, image.Path, TimeSpan.FromMinutes(2), default, accelerator: "tcg");

        Assert.True(result.Usable, result.Reason);
        Assert.Contains("booted under tcg", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_without_the_guest_image_leaves_kvm_unproven_and_says_how_to_fix_it()
    {
        using var directory = new TempDirectory();

        var result = await KvmProbe.RunAsync(Emulator, directory.Combine("absent.qcow2"), TimeSpan.FromSeconds(30), default, accelerator: "tcg");

        Assert.False(result.Usable);
        Assert.Contains("images/build.sh", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_under_kvm_gives_a_verdict_with_its_reason_within_the_timeout()
    {
        // /dev/kvm exists on these machines but nested guests fail: whatever the verdict, it must come with a reason.
        var result = await KvmProbe.RunAsync(Emulator, image.Path, TimeSpan.FromSeconds(60), default);

        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
    }
}

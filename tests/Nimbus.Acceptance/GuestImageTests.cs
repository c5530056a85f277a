using Nimbus.TestSupport;

namespace Nimbus.Acceptance;

/// <summary>The guest image every VM test boots: built offline from Debian packages, booted under TCG.</summary>
public sealed class GuestImageTests
{
    [Fact]
    public async Task Guest_image_builds_and_boots_to_nimbus_guest_up_with_its_config_drive_and_acpi_power_off()
    {
        var build = Path.Combine(LocalMachine.RepositoryRoot, "images", "build.sh");
        var boot = Path.Combine(LocalMachine.RepositoryRoot, "images", "test-boot.sh");

        var (buildExit, image, buildError) = await Executables.RunAsync(build, ["--no-install"]);
        Assert.True(buildExit == 0, buildError);
        Assert.True(File.Exists(image.Trim()), $"images/build.sh printed '{image}' on stdout, which is not the image's path");
        // test-boot.sh bounds each of its waits (two boots, SSH, two power-offs) itself; on busy cores they add up past two minutes.
        var (bootExit, bootOutput, bootError) = await Executables.RunAsync(boot, ["--no-install", image.Trim()], limit: TimeSpan.FromMinutes(10));

        Assert.True(bootExit == 0, bootOutput + bootError);
        Assert.Contains("test-boot: ok", bootOutput + bootError, StringComparison.Ordinal);
    }
}

using Nimbus.TestSupport;
using Nimbus.Virt.Drivers;
using Nimbus.Virt.Qemu.Driver;

namespace Nimbus.Virt.Qemu.Tests.Driver;

/// <summary>What only a driver of real processes must do: outlive its own restart, notice guests dying.</summary>
public sealed class QemuDriverTests(GuestImage image) : IClassFixture<GuestImage>
{
    [Fact]
    public async Task Guest_boots_to_nimbus_guest_up_on_its_serial_console()
    {
        using var directory = new TempDirectory();
        await using var driver = await OpenAsync(directory);
        await driver.DefineDomainAsync(QemuGuests.Xml("boot", image.Overlay(directory.Path, "boot")), default);

        await driver.StartDomainAsync("boot", default);

        await QemuGuests.WaitForConsoleAsync(directory.Combine("state", "log", "boot.console.log"), "nimbus-guest: up", TimeSpan.FromMinutes(2));
        await driver.DestroyDomainAsync("boot", default);
    }

    [Fact]
    public async Task Running_guest_is_found_again_with_the_same_process_when_the_driver_reopens()
    {
        using var directory = new TempDirectory();
        int pid;
        await using (var first = await OpenAsync(directory))
        {
            await first.DefineDomainAsync(QemuGuests.Xml("survivor", image.Overlay(directory.Path, "survivor")), default);
            await first.StartDomainAsync("survivor", default);
            pid = int.Parse(await File.ReadAllTextAsync(PidFile(directory, first, "survivor")), System.Globalization.CultureInfo.InvariantCulture);
        }

        await using var second = await OpenAsync(directory);
        var found = await second.LookupDomainAsync("survivor", default);
        var pidAfter = int.Parse(await File.ReadAllTextAsync(PidFile(directory, second, "survivor")), System.Globalization.CultureInfo.InvariantCulture);
        await second.DestroyDomainAsync("survivor", default);

        Assert.Equal(DomainState.Running, found.Status.State);
        Assert.Equal(pid, pidAfter);
        Assert.Equal(new DomainStatus(DomainState.Shutoff, "destroyed"), await second.GetDomainStateAsync("survivor", default));
    }

    [Fact]
    public async Task Guest_killed_from_outside_is_reported_shut_off_crashed()
    {
        using var directory = new TempDirectory();
        await using var driver = await OpenAsync(directory);
        await driver.DefineDomainAsync(QemuGuests.Xml("victim", image.Overlay(directory.Path, "victim")), default);
        await driver.StartDomainAsync("victim", default);
        var pid = int.Parse(await File.ReadAllTextAsync(PidFile(directory, driver, "victim")), System.Globalization.CultureInfo.InvariantCulture);

        System.Diagnostics.Process.GetProcessById(pid).Kill();

        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while ((await driver.GetDomainStateAsync("victim", default)).State != DomainState.Shutoff)
        {
            await Task.Delay(50, limit.Token);
        }

        Assert.Equal(new DomainStatus(DomainState.Shutoff, "crashed"), await driver.GetDomainStateAsync("victim", default));
    }

    [Fact]
    public async Task Guest_that_died_while_the_driver_was_closed_is_reported_crashed_when_it_reopens()
    {
        using var directory = new TempDirectory();
        int pid;
        await using (var first = await OpenAsync(directory))
        {
            await first.DefineDomainAsync(QemuGuests.Xml("ghost", image.Overlay(directory.Path, "ghost")), default);
            await first.StartDomainAsync("ghost", default);
            pid = int.Parse(await File.ReadAllTextAsync(PidFile(directory, first, "ghost")), System.Globalization.CultureInfo.InvariantCulture);
        }

        using (var process = System.Diagnostics.Process.GetProcessById(pid))
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        await using var second = await OpenAsync(directory);

        Assert.Equal(new DomainStatus(DomainState.Shutoff, "crashed"), await second.GetDomainStateAsync("ghost", default));
    }

    [Fact]
    public async Task Kvm_domain_is_refused_while_kvm_is_not_proven_usable()
    {
        using var directory = new TempDirectory();
        await using var driver = await OpenAsync(directory);
        var xml = QemuGuests.Xml("fast", image.Overlay(directory.Path, "fast")).Replace("type='qemu'", "type='kvm'", StringComparison.Ordinal);
        await driver.DefineDomainAsync(xml, default);

        var error = await Assert.ThrowsAsync<VirtException>(() => driver.StartDomainAsync("fast", default));

        Assert.Equal(VirtErrorCode.NoSupport, error.Code);
        Assert.Contains("type='qemu'", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(directory.Combine("state", "run")));
    }

    [Fact]
    public async Task Bridge_interface_gets_a_tap_on_the_bridge_that_goes_away_with_the_guest()
    {
        using var directory = new TempDirectory();
        var bridge = "nbt" + Guid.NewGuid().ToString("N")[..8];
        await IpAsync("link", "add", bridge, "type", "bridge");
        try
        {
            await using var driver = await OpenAsync(directory);
            var xml = QemuGuests.Xml("bridged", image.Overlay(directory.Path, "bridged"))
                .Replace("<interface type='user'><model type='virtio'/></interface>", $"<interface type='bridge'><mac address='52:54:00:aa:bb:01'/><source bridge='{bridge}'/></interface>", StringComparison.Ordinal);
            await driver.DefineDomainAsync(xml, default);

            await driver.StartDomainAsync("bridged", default);
            var members = Directory.GetFileSystemEntries($"/sys/class/net/{bridge}/brif").Select(Path.GetFileName).ToList();
            var stats = await driver.GetInterfaceStatsAsync("bridged", "52:54:00:aa:bb:01", default);
            await driver.DestroyDomainAsync("bridged", default);

            var tap = Assert.Single(members);
            Assert.Equal("52:54:00:aa:bb:01", stats.Device);
            Assert.False(Directory.Exists($"/sys/class/net/{tap}"), $"tap {tap} outlived its guest");
        }
        finally
        {
            await IpAsync("link", "del", bridge);
        }
    }

    [Fact]
    public async Task Interface_on_a_bridge_that_does_not_exist_is_refused_before_qemu_starts()
    {
        using var directory = new TempDirectory();
        await using var driver = await OpenAsync(directory);
        var xml = QemuGuests.Xml("lost", image.Overlay(directory.Path, "lost"))
            .Replace("<interface type='user'><model type='virtio'/></interface>", "<interface type='bridge'><source bridge='nosuchbr0'/></interface>", StringComparison.Ordinal);
        await driver.DefineDomainAsync(xml, default);

        var error = await Assert.ThrowsAsync<VirtException>(() => driver.StartDomainAsync("lost", default));

        Assert.Contains("'nosuchbr0', which is not a bridge", error.Message, StringComparison.Ordinal);
        Assert.Equal(DomainState.Shutoff, (await driver.GetDomainStateAsync("lost", default)).State);
        Assert.Empty(Directory.GetFiles(directory.Combine("state", "run")));
    }

    [Fact]
    public async Task Network_interfaces_are_refused_as_not_supported_yet()
    {
        using var directory = new TempDirectory();
        await using var driver = await OpenAsync(directory);
        var xml = QemuGuests.Xml("netted", image.Overlay(directory.Path, "netted"))
            .Replace("<interface type='user'><model type='virtio'/></interface>", "<interface type='network'><source network='default'/></interface>", StringComparison.Ordinal);
        await driver.DefineDomainAsync(xml, default);

        var error = await Assert.ThrowsAsync<VirtException>(() => driver.StartDomainAsync("netted", default));

        Assert.Equal(VirtErrorCode.NoSupport, error.Code);
    }

    [Fact]
    public async Task Save_and_restore_through_a_path_with_quotes_spaces_and_a_command_hand_qemu_descriptors_not_paths()
    {
        using var directory = new TempDirectory();
        var sent = new System.Collections.Concurrent.ConcurrentQueue<(string Command, bool WithFd)>();
        var options = new QemuDriverOptions
        {
            StateDirectory = directory.Combine("state"),
            Qmp = Nimbus.Virt.Qemu.Qmp.QmpClientOptions.Default with { CommandSent = (command, withFd) => sent.Enqueue((command, withFd)) },
        };
        await using var driver = await QemuHypervisorDriver.OpenAsync(options, CancellationToken.None);
        await driver.DefineDomainAsync(QemuGuests.Xml("keeper", image.Overlay(directory.Path, "keeper")), default);
        await driver.StartDomainAsync("keeper", default);
        var file = directory.Combine("it's a $(touch pwned) `id` save.img");

        await driver.SaveDomainAsync("keeper", file, default);
        var saved = await driver.GetDomainStateAsync("keeper", default);
        var restored = await driver.RestoreDomainAsync(file, default);
        var pid = int.Parse(await File.ReadAllTextAsync(PidFile(directory, driver, "keeper")), System.Globalization.CultureInfo.InvariantCulture);
        var argv = (await File.ReadAllTextAsync($"/proc/{pid}/cmdline")).Split('\0');
        await driver.DestroyDomainAsync("keeper", default);

        Assert.Equal(new DomainStatus(DomainState.Shutoff, "saved"), saved);
        Assert.Equal(new DomainStatus(DomainState.Running, "restored"), restored.Status);
        Assert.True(new FileInfo(file).Length > 1 << 20, "the save image holds the guest's memory");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Contains("-incoming", argv);
        Assert.Equal("defer", argv[Array.IndexOf(argv, "-incoming") + 1]);
        Assert.DoesNotContain(argv, a => a.Contains(file, StringComparison.Ordinal));
        Assert.Equal(2, sent.Count(c => c.WithFd && c.Command.Contains("\"execute\":\"getfd\"", StringComparison.Ordinal)));
        Assert.Contains(sent, c => c.Command.Contains("\"execute\":\"migrate\",\"arguments\":{\"uri\":\"fd:nimbus-migration\"}", StringComparison.Ordinal));
        Assert.Contains(sent, c => c.Command.Contains("\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"fd:nimbus-migration\"}", StringComparison.Ordinal));
        Assert.DoesNotContain(sent, c => c.Command.Contains("exec:", StringComparison.Ordinal) || c.Command.Contains(directory.Path, StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(directory.Path, "pwned", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Cancelling_a_console_read_ends_it_at_once_and_leaves_no_reader_thread_behind()
    {
        using var directory = new TempDirectory();
        await using var driver = await OpenAsync(directory);
        await driver.DefineDomainAsync(QemuGuests.Xml("quiet", image.Overlay(directory.Path, "quiet")), default);
        await driver.StartDomainAsync("quiet", default);

        // A paused guest writes nothing, so the read below can only end by being cancelled.
        await driver.SuspendDomainAsync("quiet", default);
        var readersBefore = LongRunningThreads();
        await using (var console = await driver.OpenConsoleAsync("quiet", default))
        {
            using var cancel = new CancellationTokenSource();
            var read = console.ReadAsync(new byte[256], cancel.Token).AsTask();
            await cancel.CancelAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal(readersBefore, LongRunningThreads());
        }

        // The console is free again for the next session.
        await using var again = await driver.OpenConsoleAsync("quiet", default);
        await driver.DestroyDomainAsync("quiet", default);
    }

    /// <summary>Threads the runtime started for long-running tasks (a blocking read per console read used one each).</summary>
    private static int LongRunningThreads() =>
        Directory.GetDirectories("/proc/self/task").Count(task =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Long Run", StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false;
            }
        });

    private static async Task IpAsync(params string[] args)
    {
        var result = await HostProcess.RunAsync("ip", args);
        Assert.True(result.ExitCode == 0, result.Error);
    }

    private static Task<QemuHypervisorDriver> OpenAsync(TempDirectory directory) =>
        QemuHypervisorDriver.OpenAsync(new QemuDriverOptions { StateDirectory = directory.Combine("state") }, CancellationToken.None);

    private static string PidFile(TempDirectory directory, QemuHypervisorDriver driver, string domain)
    {
        var uuid = driver.LookupDomainAsync(domain, default).Result.Uuid;
        return directory.Combine("state", "run", $"{uuid:N}.pid");
    }
}

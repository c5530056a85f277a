using System.Text.Json.Nodes;
using Nimbus.Virt.Qemu.Qmp;

namespace Nimbus.Virt.Qemu.Tests.Qmp;

/// <summary>
/// Integration tests against a real qemu-system-x86_64 (TCG only, no guest image). They fail, not skip,
/// when QEMU is missing: ./test.sh installs it.
/// </summary>
public sealed class QemuQmpIntegrationTests
{
    private static CancellationTokenSource Timeout() => new(TimeSpan.FromSeconds(30));

    [Fact]
    public async Task Greeting_reports_the_running_QEMU_version_and_commands_work_on_an_empty_machine()
    {
        using var timeout = Timeout();
        await using var qemu = await QemuProcess.StartEmptyAsync(timeout.Token);
        await using var client = await QmpClient.ConnectAsync(qemu.SocketPath, timeout.Token);

        var status = await client.QueryStatusAsync(timeout.Token);
        var version = await client.HumanMonitorCommandAsync("info version", timeout.Token);

        Assert.True(client.Version.Major >= 7, $"QEMU {client.Version} is older than the 7.x this client is written against");
        Assert.Contains("oob", client.Capabilities);
        Assert.StartsWith(client.Version.ToString(), version, StringComparison.Ordinal);
        Assert.Equal(new QmpStatus(true, QmpRunState.Running), status);
        Assert.Empty(await client.QueryCpusFastAsync(timeout.Token));
    }

    [Fact]
    public async Task Paused_machine_starts_in_prelaunch_and_cont_stop_and_reset_change_it_with_events()
    {
        using var timeout = Timeout();
        await using var qemu = await QemuProcess.StartPausedPcAsync(timeout.Token);
        await using var client = await QmpClient.ConnectAsync(qemu.SocketPath, timeout.Token);
        using var events = client.SubscribeEvents("RESUME", "STOP", "RESET");

        Assert.Equal(new QmpStatus(false, QmpRunState.Prelaunch), await client.QueryStatusAsync(timeout.Token));

        await client.ContAsync(timeout.Token);
        Assert.Equal("RESUME", (await events.Reader.ReadAsync(timeout.Token)).Name);
        Assert.Equal(new QmpStatus(true, QmpRunState.Running), await client.QueryStatusAsync(timeout.Token));

        await client.StopAsync(timeout.Token);
        Assert.Equal("STOP", (await events.Reader.ReadAsync(timeout.Token)).Name);
        Assert.Equal(new QmpStatus(false, QmpRunState.Paused), await client.QueryStatusAsync(timeout.Token));

        await client.SystemResetAsync(timeout.Token);
        var reset = await events.WaitForEventAsync("RESET", timeout.Token);
        Assert.Equal("host-qmp-system-reset", (string?)reset.Data?["reason"]);
        Assert.False((await client.QueryStatusAsync(timeout.Token)).Running, "a reset must not resume a paused machine");
    }

    [Fact]
    public async Task Unknown_command_fails_with_CommandNotFound_and_the_connection_stays_usable()
    {
        using var timeout = Timeout();
        await using var qemu = await QemuProcess.StartEmptyAsync(timeout.Token);
        await using var client = await QmpClient.ConnectAsync(qemu.SocketPath, timeout.Token);

        var error = await Assert.ThrowsAsync<QmpException>(() => client.ExecuteAsync("no-such-command", null, timeout.Token));
        var badArgument = await Assert.ThrowsAsync<QmpException>(
            () => client.ExecuteAsync("query-status", new JsonObject { ["bogus"] = 1 }, timeout.Token));

        Assert.Equal("CommandNotFound", error.Class);
        Assert.Contains("no-such-command", error.Description, StringComparison.Ordinal);
        Assert.Equal("GenericError", badArgument.Class);
        Assert.True((await client.QueryStatusAsync(timeout.Token)).Running);
    }

    [Fact]
    public async Task Many_concurrent_commands_each_get_their_own_reply()
    {
        using var timeout = Timeout();
        await using var qemu = await QemuProcess.StartPausedPcAsync(timeout.Token);
        await using var client = await QmpClient.ConnectAsync(qemu.SocketPath, timeout.Token);

        var statuses = Enumerable.Range(0, 25).Select(_ => Task.Run(() => client.QueryStatusAsync(timeout.Token)));
        var versions = Enumerable.Range(0, 25).Select(_ => Task.Run(() => client.HumanMonitorCommandAsync("info version", timeout.Token)));
        var statusResults = await Task.WhenAll(statuses);
        var versionResults = await Task.WhenAll(versions);

        Assert.All(statusResults, status => Assert.Equal(QmpRunState.Prelaunch, status.Status));
        Assert.All(versionResults, version => Assert.StartsWith(client.Version.ToString(), version, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Query_cpus_fast_returns_threads_of_the_qemu_process()
    {
        using var timeout = Timeout();
        await using var qemu = await QemuProcess.StartPausedPcAsync(timeout.Token, "-smp", "2");
        await using var client = await QmpClient.ConnectAsync(qemu.SocketPath, timeout.Token);

        var cpus = await client.QueryCpusFastAsync(timeout.Token);

        Assert.Equal([0, 1], cpus.Select(c => c.CpuIndex));
        Assert.All(cpus, cpu => Assert.True(
            Directory.Exists($"/proc/{qemu.ProcessId}/task/{cpu.ThreadId}"),
            $"vCPU {cpu.CpuIndex} reports thread {cpu.ThreadId}, which is not a thread of QEMU (pid {qemu.ProcessId})"));
        Assert.All(cpus, cpu => Assert.Equal("x86_64", cpu.Target));
    }

    [Fact]
    public async Task Query_blockstats_lists_the_attached_drive()
    {
        using var timeout = Timeout();
        await using var qemu = await QemuProcess.StartPausedPcAsync(
            timeout.Token, "-drive", "if=none,id=drive0,driver=null-co", "-device", "virtio-blk-pci,drive=drive0");
        await using var client = await QmpClient.ConnectAsync(qemu.SocketPath, timeout.Token);

        var stats = Assert.Single(await client.QueryBlockStatsAsync(timeout.Token));

        Assert.Equal("drive0", stats.Device);
        Assert.NotNull(stats.NodeName);
        Assert.EndsWith("virtio-backend", stats.QdevPath, StringComparison.Ordinal);
        Assert.Equal(0, stats.WriteBytes);
        Assert.Equal(0, stats.WriteOperations);
    }

    [Fact]
    public async Task Screendump_writes_a_ppm_of_the_vga_console()
    {
        using var timeout = Timeout();
        await using var qemu = await QemuProcess.StartPausedPcAsync(timeout.Token, "-device", "VGA");
        await using var client = await QmpClient.ConnectAsync(qemu.SocketPath, timeout.Token);
        var file = qemu.Directory.Combine("screen.ppm");

        await client.ScreendumpAsync(file, timeout.Token);

        var header = new byte[2];
        await using (var stream = File.OpenRead(file))
        {
            await stream.ReadExactlyAsync(header, timeout.Token);
        }

        Assert.Equal("P6"u8.ToArray(), header);
    }

    [Fact]
    public async Task Screendump_without_a_display_device_fails_with_QEMUs_reason()
    {
        using var timeout = Timeout();
        await using var qemu = await QemuProcess.StartEmptyAsync(timeout.Token);
        await using var client = await QmpClient.ConnectAsync(qemu.SocketPath, timeout.Token);

        var error = await Assert.ThrowsAsync<QmpException>(() => client.ScreendumpAsync(qemu.Directory.Combine("screen.ppm"), timeout.Token));

        Assert.Equal("screendump", error.Command);
        Assert.Equal("GenericError", error.Class);
        Assert.Contains("console", error.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migration_to_a_file_completes_and_leaves_the_source_in_postmigrate()
    {
        using var timeout = Timeout();
        await using var qemu = await QemuProcess.StartPausedPcAsync(timeout.Token);
        await using var client = await QmpClient.ConnectAsync(qemu.SocketPath, timeout.Token);
        var target = qemu.Directory.Combine("state.mig");
        Assert.Null((await client.QueryMigrateAsync(timeout.Token)).Status);

        await client.ExecuteAsync(
            "migrate-set-capabilities",
            new JsonObject { ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "events", ["state"] = true }) },
            timeout.Token);
        using var migration = client.SubscribeEvents("MIGRATION");
        // exec: runs the command through /bin/sh in QEMU; the test chooses it, so no quoting is needed.
        await client.MigrateAsync($"exec:cat > {target}", timeout.Token);
        QmpEvent progress;
        do
        {
            progress = await migration.WaitForEventAsync("MIGRATION", timeout.Token);
        }
        while ((string?)progress.Data?["status"] is not ("completed" or "failed"));

        var info = await client.QueryMigrateAsync(timeout.Token);
        Assert.Equal("completed", info.Status);
        Assert.Null(info.ErrorDescription);
        Assert.True(info.RamTotalBytes > 0);
        Assert.True(info.RamTransferredBytes > 0);
        Assert.True(new FileInfo(target).Length > 0);
        Assert.Equal(new QmpStatus(false, QmpRunState.PostMigrate), await client.QueryStatusAsync(timeout.Token));
    }

    [Fact]
    public async Task Quit_ends_the_QEMU_process_and_the_client_sees_the_disconnect()
    {
        using var timeout = Timeout();
        await using var qemu = await QemuProcess.StartPausedPcAsync(timeout.Token);
        await using var client = await QmpClient.ConnectAsync(qemu.SocketPath, timeout.Token);
        using var events = client.SubscribeEvents();

        await client.QuitAsync(timeout.Token);

        var disconnect = await client.Disconnected.WaitAsync(timeout.Token);
        Assert.Equal(QmpDisconnectReason.ServerClosed, disconnect.Reason);
        Assert.Equal(0, await qemu.WaitForExitAsync(timeout.Token));
        var shutdown = await events.WaitForEventAsync("SHUTDOWN", timeout.Token);
        Assert.Equal("host-qmp-quit", (string?)shutdown.Data?["reason"]);
        var error = await Assert.ThrowsAsync<QmpConnectionClosedException>(() => client.QueryStatusAsync(timeout.Token));
        Assert.Contains("QEMU process went away", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Killing_QEMU_completes_Disconnected_and_fails_later_commands()
    {
        using var timeout = Timeout();
        await using var qemu = await QemuProcess.StartPausedPcAsync(timeout.Token);
        await using var client = await QmpClient.ConnectAsync(qemu.SocketPath, timeout.Token);
        using var events = client.SubscribeEvents();

        qemu.Kill();

        Assert.Equal(QmpDisconnectReason.ServerClosed, (await client.Disconnected.WaitAsync(timeout.Token)).Reason);
        await events.Reader.Completion.WaitAsync(timeout.Token);
        await Assert.ThrowsAsync<QmpConnectionClosedException>(() => client.ContAsync(timeout.Token));
    }
}

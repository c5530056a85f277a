using System.Globalization;
using System.Text.Json;
using Nimbus.TestSupport;

namespace Nimbus.Acceptance;

/// <summary>nimbus virt against real QEMU guests (TCG), through the published nimbusd, as a libvirt user works.</summary>
public sealed class VirtQemuTests
{
    [Fact]
    public async Task Guest_boots_survives_a_nimbusd_restart_shuts_down_by_acpi_and_restores_a_saved_state()
    {
        using var home = new TempDirectory();
        var env = new Dictionary<string, string> { ["NIMBUS_HOME"] = home.Path };
        var (buildExit, image, buildError) = await Executables.RunAsync(Path.Combine(LocalMachine.RepositoryRoot, "images", "build.sh"), ["--no-install"]);
        Assert.True(buildExit == 0, buildError);
        Assert.True(File.Exists(image.Trim()), $"images/build.sh printed '{image}' on stdout, which is not the image's path");
        var disk = home.Combine("web.qcow2");
        var (overlayExit, _, overlayError) = await Executables.RunAsync("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", image.Trim(), disk]);
        Assert.True(overlayExit == 0, overlayError);
        var xml = home.Combine("web.xml");
        await File.WriteAllTextAsync(xml, TinyGuest.DomainXml("web", disk));

        var first = DaemonProcess.Start(home.Path, LocalMachine.FreePort());
        await first.WaitUntilReadyAsync();
        Assert.Equal("Domain 'web' defined from web.xml\n", await VirshAsync(env, "define", xml));
        Assert.Equal("Domain 'web' started\n", await VirshAsync(env, "start", "web"));
        await WaitForConsoleAsync(Path.Combine(home.Path, "virt", "qemu", "log", "web.console.log"), "nimbus-guest: up");
        var pid = await GuestPidAsync(env, home.Path);
        Assert.Contains("Linux", await ConsoleSessionAsync(env, "web", ("root\n", ":~# "), ("uname -s\n", "Linux")), StringComparison.Ordinal);

        Executables.Signal(first.Process, Executables.SigTerm);
        Assert.Equal(0, await first.WaitForExitAsync());
        first.Dispose();
        using var second = DaemonProcess.Start(home.Path, LocalMachine.FreePort());
        await second.WaitUntilReadyAsync();

        Assert.Equal("running\n", await VirshAsync(env, "domstate", "web"));
        Assert.Equal(pid, await GuestPidAsync(env, home.Path));
        Assert.Equal("Domain 'web' is being shutdown\n", await VirshAsync(env, "shutdown", "web"));
        await WaitForStateAsync(env, "shut off (shutdown)\n");
        Assert.Equal("Domain 'web' started\n", await VirshAsync(env, "start", "web"));
        Assert.Equal("Domain 'web' state saved by nimbusd\n", await VirshAsync(env, "managedsave", "web"));
        Assert.Equal("shut off (saved)\n", await VirshAsync(env, "domstate", "web", "--reason"));
        Assert.Equal("Domain 'web' started\n", await VirshAsync(env, "start", "web"));
        Assert.Equal("running (restored)\n", await VirshAsync(env, "domstate", "web", "--reason"));
        Assert.Equal("Domain 'web' destroyed\n", await VirshAsync(env, "destroy", "web"));
        Assert.Equal("shut off (destroyed)\n", await VirshAsync(env, "domstate", "web", "--reason"));
    }

    /// <summary>
    /// Types each step's input into the guest's console through nimbus virt console until its expected
    /// text shows (typing it again every few seconds: a getty that was respawning drops what it missed),
    /// then detaches with Ctrl+].
    /// </summary>
    private static async Task<string> ConsoleSessionAsync(Dictionary<string, string> env, string domain, params (string Input, string Expected)[] steps)
    {
        using var process = Executables.Start(Executables.Cli, ["virt", "console", domain], env);
        var output = new System.Text.StringBuilder();
        var reading = Task.Run(async () =>
        {
            var buffer = new char[1024];
            int read;
            while ((read = await process.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (output)
                {
                    output.Append(buffer, 0, read);
                }
            }
        });
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        foreach (var (input, expected) in steps)
        {
            var from = Snapshot().Length;
            while (!Snapshot()[from..].Contains(expected, StringComparison.Ordinal))
            {
                await process.StandardInput.WriteAsync(input);
                await process.StandardInput.FlushAsync(limit.Token);
                for (var poll = 0; poll < 50 && !Snapshot()[from..].Contains(expected, StringComparison.Ordinal); poll++)
                {
                    await Task.Delay(100, limit.Token);
                }
            }
        }

        await process.StandardInput.WriteAsync('\u001d');
        await process.StandardInput.FlushAsync(CancellationToken.None);
        await process.WaitForExitAsync(limit.Token);
        await reading;
        Assert.True(process.ExitCode == 0, await error);
        Assert.Contains($"Connected to domain '{domain}'", await error, StringComparison.Ordinal);
        return Snapshot();

        string Snapshot()
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    private static async Task<string> VirshAsync(Dictionary<string, string> env, params string[] args)
    {
        var (exitCode, output, error) = await Executables.RunAsync(Executables.Cli, ["virt", .. args], env);
        Assert.True(exitCode == 0, $"nimbus virt {string.Join(' ', args)} exited {exitCode}: {error}");
        return output;
    }

    private static async Task<int> GuestPidAsync(Dictionary<string, string> env, string home)
    {
        using var info = JsonDocument.Parse(await VirshAsync(env, "dominfo", "web", "--json"));
        var uuid = Guid.Parse(info.RootElement.GetProperty("summary").GetProperty("uuid").GetString()!);
        var pid = int.Parse(await File.ReadAllTextAsync(Path.Combine(home, "virt", "qemu", "run", $"{uuid:N}.pid")), CultureInfo.InvariantCulture);
        Assert.True(File.Exists($"/proc/{pid}/cmdline"), $"QEMU process {pid} is not running");
        return pid;
    }

    private static async Task WaitForStateAsync(Dictionary<string, string> env, string expected)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var state = string.Empty;
        while (!limit.IsCancellationRequested && (state = await VirshAsync(env, "domstate", "web", "--reason")) != expected)
        {
            await Task.Delay(250, CancellationToken.None);
        }

        Assert.Equal(expected, state);
    }

    private static async Task WaitForConsoleAsync(string log, string marker)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!limit.IsCancellationRequested && !(File.Exists(log) && (await File.ReadAllTextAsync(log, CancellationToken.None)).Contains(marker, StringComparison.Ordinal)))
        {
            await Task.Delay(250, CancellationToken.None);
        }

        Assert.True(File.Exists(log) && (await File.ReadAllTextAsync(log)).Contains(marker, StringComparison.Ordinal), $"'{marker}' never appeared in {log}");
    }
}

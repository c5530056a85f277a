using System.Net;
using System.Text.Json;
using Nimbus.TestSupport;

namespace Nimbus.Acceptance;

public sealed class DaemonLifecycleTests
{
    private static Dictionary<string, string> HomeEnvironment(string home) => new() { ["NIMBUS_HOME"] = home };

    [Fact]
    public async Task Nimbusd_from_bin_serves_healthz_and_nimbus_status_reports_it()
    {
        using var home = new TempDirectory();
        using var daemon = DaemonProcess.Start(home.Path, LocalMachine.FreePort());
        await daemon.WaitUntilReadyAsync();

        using var http = new HttpClient();
        using var health = await http.GetAsync(new Uri(daemon.Url, "/healthz"));
        var (exitCode, output, error) = await Executables.RunAsync(Executables.Cli, ["status"], HomeEnvironment(home.Path));
        var (jsonExit, json, _) = await Executables.RunAsync(Executables.Cli, ["status", "--json"], HomeEnvironment(home.Path));

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.True(exitCode == 0, error);
        Assert.Contains("is running", output, StringComparison.Ordinal);
        Assert.Equal(0, jsonExit);
        using var document = JsonDocument.Parse(json);
        Assert.Equal("ok", document.RootElement.GetProperty("health").GetProperty("status").GetString());
        Assert.Contains($"API       {daemon.Url.GetLeftPart(UriPartial.Authority)}", daemon.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Second_nimbusd_on_a_taken_port_exits_with_one_clear_line_and_the_first_keeps_serving()
    {
        using var home = new TempDirectory();
        using var otherHome = new TempDirectory();
        var port = LocalMachine.FreePort();
        using var first = DaemonProcess.Start(home.Path, port);
        await first.WaitUntilReadyAsync();

        var (exitCode, output, error) = await Executables.RunAsync(Executables.Daemon, ["--home", otherHome.Path, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

        Assert.Equal(5, exitCode);
        Assert.Empty(output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"127.0.0.1:{port}", line, StringComparison.Ordinal);
        Assert.Contains("already taken", line, StringComparison.Ordinal);
        using var http = new HttpClient();
        using var stillServing = await http.GetAsync(new Uri(first.Url, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, stillServing.StatusCode);
        Assert.False(first.Process.HasExited);
    }

    [Theory]
    [InlineData(Executables.SigTerm)]
    [InlineData(Executables.SigInt)]
    public async Task Signal_stops_nimbusd_cleanly_and_removes_its_env_file(int signal)
    {
        using var home = new TempDirectory();
        using var daemon = DaemonProcess.Start(home.Path, LocalMachine.FreePort());
        await daemon.WaitUntilReadyAsync();

        Executables.Signal(daemon.Process, signal);
        var exitCode = await daemon.WaitForExitAsync();

        Assert.Equal(0, exitCode);
        Assert.False(File.Exists(daemon.EnvFile));
        Assert.Contains("nimbusd stopped", daemon.Output, StringComparison.Ordinal);
        var (statusExit, _, statusError) = await Executables.RunAsync(Executables.Cli, ["status"], HomeEnvironment(home.Path));
        Assert.Equal(10, statusExit);
        Assert.Contains("no nimbusd is running", statusError, StringComparison.Ordinal);
    }

    /// <summary>
    /// A background job of a non-interactive shell starts with SIGINT ignored (and under nohup-like wrappers
    /// SIGTERM may be too); the signal must still stop nimbusd cleanly.
    /// </summary>
    [Theory]
    [InlineData(Executables.SigInt, "")]
    [InlineData(Executables.SigTerm, "trap '' TERM; ")]
    public async Task Signal_stops_nimbusd_started_with_that_signal_ignored(int signal, string ignoreFirst)
    {
        using var home = new TempDirectory();
        var port = LocalMachine.FreePort();
        var environment = new Dictionary<string, string> { ["NIMBUS__Objects__BasePort"] = LocalMachine.FreePortRange(4).ToString(System.Globalization.CultureInfo.InvariantCulture) };
        using var shell = Executables.Start(
            "/bin/bash",
            ["-c", ignoreFirst + "\"$0\" --home \"$1\" --port \"$2\" & wait $!", Executables.Daemon, home.Path, port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            environment);
        var output = shell.StandardOutput.ReadToEndAsync();
        var error = shell.StandardError.ReadToEndAsync();
        var pid = 0;
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            var envFile = Path.Combine(home.Path, "nimbus.env");
            while (!File.Exists(envFile) && !shell.HasExited)
            {
                await Task.Delay(50, limit.Token);
            }

            Assert.True(File.Exists(envFile), $"nimbusd did not start: {(shell.HasExited ? await error : "still starting")}");
            // The background job is the shell's only child: nimbusd itself.
            pid = int.Parse(File.ReadAllText($"/proc/{shell.Id}/task/{shell.Id}/children").Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Executables.Signal(pid, signal);
            await shell.WaitForExitAsync(limit.Token);
            Assert.False(File.Exists(envFile));
        }
        finally
        {
            if (!shell.HasExited)
            {
                // Left running by a failed test: it must not outlive it.
                if (pid != 0)
                {
                    Executables.Signal(pid, 9);
                }

                shell.Kill(entireProcessTree: true);
            }
        }

        Assert.True(shell.ExitCode == 0, $"nimbusd exited {shell.ExitCode}: {await error}");
        Assert.Contains("nimbusd stopped", await output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_kill_9_status_says_nothing_answers_and_a_new_nimbusd_takes_over_the_state_directory()
    {
        using var home = new TempDirectory();
        using (var crashed = DaemonProcess.Start(home.Path, LocalMachine.FreePort()))
        {
            await crashed.WaitUntilReadyAsync();
            crashed.Process.Kill();
            await crashed.WaitForExitAsync();
        }

        var (statusExit, _, statusError) = await Executables.RunAsync(Executables.Cli, ["status"], HomeEnvironment(home.Path));
        using var successor = DaemonProcess.Start(home.Path, LocalMachine.FreePort());
        await successor.WaitUntilReadyAsync();
        var (afterExit, afterOutput, _) = await Executables.RunAsync(Executables.Cli, ["status"], HomeEnvironment(home.Path));

        Assert.Equal(10, statusExit);
        Assert.Contains("nothing answers", statusError, StringComparison.Ordinal);
        Assert.Equal(0, afterExit);
        Assert.Contains(successor.Url.GetLeftPart(UriPartial.Authority), afterOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NIMBUS__Daemon__Port", "abc", "'Daemon:Port'")]
    [InlineData("NIMBUS__Daemon__Prot", "9000", "did you mean 'Daemon:Port'")]
    [InlineData("NIMBUS__Compute__Workers", "4", "there is no section 'Compute'")]
    public async Task Bad_configuration_stops_nimbusd_with_one_line_and_no_stack_trace(string variable, string value, string expected)
    {
        using var home = new TempDirectory();

        var (exitCode, output, error) = await Executables.RunAsync(Executables.Daemon, ["--home", home.Path], new Dictionary<string, string> { [variable] = value });

        Assert.Equal(3, exitCode);
        Assert.Empty(output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Contains(variable, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unwritable_state_directory_stops_nimbusd_with_one_line()
    {
        using var parent = new TempDirectory();
        var file = parent.Combine("file");
        await File.WriteAllTextAsync(file, "x");

        var (exitCode, _, error) = await Executables.RunAsync(Executables.Daemon, ["--port", "0"], new Dictionary<string, string> { ["NIMBUS_HOME"] = Path.Combine(file, "home") });

        Assert.Equal(3, exitCode);
        Assert.Contains("is not writable", Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_log_format_writes_one_json_object_per_line_with_stable_event_ids()
    {
        using var home = new TempDirectory();
        using var daemon = DaemonProcess.Start(home.Path, LocalMachine.FreePort(), new Dictionary<string, string> { ["NIMBUS__Logging__Console__FormatterName"] = "json" });
        await daemon.WaitUntilReadyAsync();

        Executables.Signal(daemon.Process, Executables.SigTerm);
        await daemon.WaitForExitAsync();

        var events = daemon.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.StartsWith('{'))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .ToList();
        var ready = Assert.Single(events, e => e.GetProperty("EventId").GetInt32() == 2000);
        Assert.Equal(home.Path, ready.GetProperty("State").GetProperty("Home").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", ready.GetProperty("Timestamp").GetString());
        Assert.Contains(events, e => e.GetProperty("EventId").GetInt32() == 2002);
    }

    [Fact]
    public async Task Unknown_flag_is_a_usage_error()
    {
        var (exitCode, _, error) = await Executables.RunAsync(Executables.Daemon, ["--prot", "9000"]);

        Assert.Equal(2, exitCode);
        Assert.Contains("--prot", error, StringComparison.Ordinal);
        Assert.Contains("nimbusd --help", error, StringComparison.Ordinal);
    }
}

using System.Net;
using System.Net.Sockets;
using Nimbus.Platform.Storage;
using Nimbus.TestSupport;

namespace Nimbus.Daemon.Tests;

public sealed class StartupTests
{
    private static DaemonLaunch Launch(string home, IReadOnlyDictionary<string, string?>? settings = null, IReadOnlyDictionary<string, string?>? environment = null, string? configFile = null) =>
        new(home, configFile, settings ?? new Dictionary<string, string?> { ["Daemon:Port"] = "0" }, environment ?? new Dictionary<string, string?>());

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(DaemonLaunch launch)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await NimbusDaemon.RunAsync(launch, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static string OneLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return Assert.Single(lines);
    }

    [Fact]
    public async Task Env_file_appears_once_serving_and_is_removed_on_stop()
    {
        using var home = new TempDirectory();
        var envFile = RuntimeEnvFile.PathIn(home.Path);

        var daemon = await TestDaemon.StartAsync(home.Path);
        Assert.Equal(daemon.Url.GetLeftPart(UriPartial.Authority), RuntimeEnvFile.ReadUrl(envFile));
        await daemon.DisposeAsync();

        Assert.False(File.Exists(envFile));
    }

    [Fact]
    public async Task Port_already_taken_is_refused_in_one_line_and_the_first_daemon_keeps_serving()
    {
        await using var first = await TestDaemon.StartAsync();
        using var otherHome = new TempDirectory();
        var envBefore = await File.ReadAllTextAsync(RuntimeEnvFile.PathIn(first.Home));

        var (exitCode, _, error) = await RunAsync(Launch(otherHome.Path, new Dictionary<string, string?> { ["Daemon:Port"] = first.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) }));

        Assert.Equal(5, exitCode);
        Assert.Contains($"127.0.0.1:{first.Url.Port}", OneLine(error), StringComparison.Ordinal);
        Assert.Contains("already taken", error, StringComparison.Ordinal);
        Assert.False(File.Exists(RuntimeEnvFile.PathIn(otherHome.Path)));
        Assert.Equal(envBefore, await File.ReadAllTextAsync(RuntimeEnvFile.PathIn(first.Home)));
        using var stillServing = await first.Http.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, stillServing.StatusCode);
    }

    [Fact]
    public async Task Port_held_by_another_program_is_refused()
    {
        using var home = new TempDirectory();
        using var other = new TcpListener(IPAddress.Loopback, 0);
        other.Start();
        var port = ((IPEndPoint)other.LocalEndpoint).Port;

        var (exitCode, _, error) = await RunAsync(Launch(home.Path, new Dictionary<string, string?> { ["Daemon:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) }));

        Assert.Equal(5, exitCode);
        Assert.Contains("already taken", OneLine(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Second_daemon_on_the_same_state_directory_is_refused()
    {
        await using var first = await TestDaemon.StartAsync();

        var (exitCode, _, error) = await RunAsync(Launch(first.Home));

        Assert.Equal(5, exitCode);
        Assert.Contains("already using the state directory", OneLine(error), StringComparison.Ordinal);
        Assert.True(File.Exists(RuntimeEnvFile.PathIn(first.Home)));
    }

    [Fact]
    public async Task Unknown_key_from_the_environment_stops_startup_before_anything_is_created()
    {
        using var parent = new TempDirectory();
        var home = parent.Combine("home");

        var (exitCode, output, error) = await RunAsync(Launch(home, environment: new Dictionary<string, string?> { ["NIMBUS__Daemon__Prot"] = "9000" }));

        Assert.Equal(3, exitCode);
        var line = OneLine(error);
        Assert.StartsWith("nimbusd: ", line, StringComparison.Ordinal);
        Assert.Contains("NIMBUS__Daemon__Prot", line, StringComparison.Ordinal);
        Assert.Contains("did you mean 'Daemon:Port'", line, StringComparison.Ordinal);
        Assert.Empty(output);
        Assert.False(Directory.Exists(home));
    }

    [Fact]
    public async Task Wrong_type_in_the_json_file_stops_startup_naming_key_and_file()
    {
        using var home = new TempDirectory();
        var config = home.Combine("nimbus.json");
        await File.WriteAllTextAsync(config, """{ "Daemon": { "Port": "eighty" } }""");

        var (exitCode, _, error) = await RunAsync(Launch(home.Path, settings: new Dictionary<string, string?>()));

        Assert.Equal(3, exitCode);
        var line = OneLine(error);
        Assert.Contains("'Daemon:Port'", line, StringComparison.Ordinal);
        Assert.Contains(config, line, StringComparison.Ordinal);
        Assert.Contains("from 0 to 65535", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listen_address_that_is_not_an_ip_is_refused()
    {
        using var home = new TempDirectory();

        var (exitCode, _, error) = await RunAsync(Launch(home.Path, new Dictionary<string, string?> { ["Daemon:Listen"] = "localhost:80", ["Daemon:Port"] = "0" }));

        Assert.Equal(3, exitCode);
        Assert.Contains("'Daemon:Listen'", OneLine(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_role_is_refused_listing_the_roles()
    {
        using var home = new TempDirectory();

        var (exitCode, _, error) = await RunAsync(Launch(home.Path, new Dictionary<string, string?> { ["Daemon:Role"] = "compute", ["Daemon:Port"] = "0" }));

        Assert.Equal(3, exitCode);
        Assert.Contains("one of: all", OneLine(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unwritable_state_directory_stops_startup_with_the_fix()
    {
        using var parent = new TempDirectory();
        var file = parent.Combine("not-a-directory");
        await File.WriteAllTextAsync(file, "x");

        var (exitCode, _, error) = await RunAsync(Launch(Path.Combine(file, "home")));

        Assert.Equal(3, exitCode);
        var line = OneLine(error);
        Assert.Contains("is not writable", line, StringComparison.Ordinal);
        Assert.Contains("NIMBUS_HOME", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Named_config_file_that_does_not_exist_is_refused()
    {
        using var home = new TempDirectory();

        var (exitCode, _, error) = await RunAsync(Launch(home.Path, configFile: home.Combine("missing.json")));

        Assert.Equal(3, exitCode);
        Assert.Contains("missing.json", OneLine(error), StringComparison.Ordinal);
    }
}

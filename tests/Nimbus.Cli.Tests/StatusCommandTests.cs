using System.Text.Json;
using Nimbus.Cli.Commands;
using Nimbus.TestSupport;

namespace Nimbus.Cli.Tests;

public sealed class StatusCommandTests
{
    [Fact]
    public async Task Status_finds_the_daemon_through_its_env_file_and_shows_each_service()
    {
        await using var daemon = await TestDaemon.StartAsync();

        var result = await CliRunner.RunAsync(new Dictionary<string, string?> { ["NIMBUS_HOME"] = daemon.Home }, "status");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"at {daemon.Url} is running", result.Output, StringComparison.Ordinal);
        Assert.Contains("SERVICE", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"api\s+│\s+running", result.Output);
        Assert.Empty(result.Error);
    }

    [Fact]
    public async Task Status_json_carries_the_health_report()
    {
        await using var daemon = await TestDaemon.StartAsync();
        daemon.Clock.Advance(TimeSpan.FromMinutes(3));

        var result = await CliRunner.RunAsync(new Dictionary<string, string?>(), "status", "--json", "--url", daemon.Url.ToString());
        using var json = JsonDocument.Parse(result.Output);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("--url", json.RootElement.GetProperty("found_by").GetString());
        var health = json.RootElement.GetProperty("health");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(180, health.GetProperty("uptime_seconds").GetDouble());
        Assert.Equal("running", health.GetProperty("services").GetProperty("api").GetProperty("state").GetString());
    }

    [Fact]
    public async Task Nimbus_url_variable_wins_over_the_env_file()
    {
        await using var daemon = await TestDaemon.StartAsync();
        using var emptyHome = new TempDirectory();

        var result = await CliRunner.RunAsync(
            new Dictionary<string, string?> { ["NIMBUS_URL"] = daemon.Url.ToString(), ["NIMBUS_HOME"] = emptyHome.Path },
            "status");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("found by NIMBUS_URL", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_without_a_daemon_says_how_to_start_one_and_exits_unavailable()
    {
        using var home = new TempDirectory();

        var result = await CliRunner.RunAsync(new Dictionary<string, string?> { ["NIMBUS_HOME"] = home.Path }, "status");

        Assert.Equal(10, result.ExitCode);
        Assert.Empty(result.Output);
        Assert.Contains("no nimbusd is running", result.Error, StringComparison.Ordinal);
        Assert.Contains("./run.sh", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_of_a_daemon_that_died_says_nothing_answers()
    {
        string url;
        await using (var daemon = await TestDaemon.StartAsync())
        {
            url = daemon.Url.ToString();
        }

        var result = await CliRunner.RunAsync(new Dictionary<string, string?>(), "status", "--url", url);

        Assert.Equal(10, result.ExitCode);
        Assert.Contains($"nothing answers at {url}", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_without_a_daemon_names_the_env_file_it_tried_and_that_NIMBUS_URL_is_unset()
    {
        using var home = new TempDirectory();

        var result = await CliRunner.RunAsync(new Dictionary<string, string?> { ["NIMBUS_HOME"] = home.Path }, "status");

        Assert.Equal(10, result.ExitCode);
        Assert.Contains($"tried {Path.Combine(home.Path, "nimbus.env")}, which does not exist", result.Error, StringComparison.Ordinal);
        Assert.Contains("NIMBUS_URL is not set", result.Error, StringComparison.Ordinal);
        Assert.Contains("from NIMBUS_HOME", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_through_an_env_file_left_by_a_dead_daemon_names_the_url_and_the_file()
    {
        using var home = new TempDirectory();
        var envFile = Path.Combine(home.Path, "nimbus.env");
        var url = $"http://127.0.0.1:{LocalMachine.FreePort()}";
        await File.WriteAllTextAsync(envFile, $"export NIMBUS_URL={url}\n");

        var result = await CliRunner.RunAsync(new Dictionary<string, string?> { ["NIMBUS_HOME"] = home.Path }, "status");

        Assert.Equal(10, result.ExitCode);
        Assert.Contains($"nothing answers at {url}/ (the URL from {envFile})", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failure_under_json_is_a_json_error_on_stderr()
    {
        using var home = new TempDirectory();

        var result = await CliRunner.RunAsync(new Dictionary<string, string?> { ["NIMBUS_HOME"] = home.Path }, "status", "--json");
        using var json = JsonDocument.Parse(result.Error);

        Assert.Equal(10, result.ExitCode);
        Assert.Empty(result.Output);
        var error = json.RootElement.GetProperty("error");
        Assert.Equal("client.no_daemon", error.GetProperty("code").GetString());
        Assert.Equal("unavailable", error.GetProperty("kind").GetString());
        Assert.Equal(10, error.GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task Url_that_is_not_http_is_refused_as_invalid_input()
    {
        var result = await CliRunner.RunAsync(new Dictionary<string, string?>(), "status", "--url", "ftp://host");

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("not an http:// or https:// URL", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5, "5s")]
    [InlineData(125, "2m 5s")]
    [InlineData(3 * 3600 + 61, "3h 1m 1s")]
    [InlineData(2 * 86400 + 3600, "2d 1h 0m")]
    public void Uptime_reads_in_the_largest_sensible_units(double seconds, string expected)
    {
        Assert.Equal(expected, StatusCommand.FormatUptime(seconds));
    }
}

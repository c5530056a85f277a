using Nimbus.TestSupport;

namespace Nimbus.Daemon.Tests;

public sealed class DataOptionsTests
{
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string home, IReadOnlyDictionary<string, string?> settings)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await NimbusDaemon.RunAsync(new DaemonLaunch(home, null, settings, new Dictionary<string, string?>()), output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Postgres_without_a_connection_string_is_refused_naming_the_key_before_anything_is_created()
    {
        using var parent = new TempDirectory();
        var home = parent.Combine("home");

        var (exitCode, output, error) = await RunAsync(home, new Dictionary<string, string?> { ["Daemon:Port"] = "0", ["Data:Provider"] = "postgres" });

        Assert.Equal(3, exitCode);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("nimbusd: ", line, StringComparison.Ordinal);
        Assert.Contains("'Data:ConnectionString'", line, StringComparison.Ordinal);
        Assert.Contains("is required when Data:Provider is postgres", line, StringComparison.Ordinal);
        Assert.Empty(output);
        Assert.False(Directory.Exists(home));
    }

    [Fact]
    public async Task Sqlite_with_a_connection_string_is_refused_naming_the_key()
    {
        using var parent = new TempDirectory();
        var home = parent.Combine("home");

        var (exitCode, _, error) = await RunAsync(home, new Dictionary<string, string?> { ["Daemon:Port"] = "0", ["Data:ConnectionString"] = "Host=db1;Username=nimbus;Password=secret-7788;Database=nimbus" });

        Assert.Equal(3, exitCode);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("'Data:ConnectionString'", line, StringComparison.Ordinal);
        Assert.Contains("only used with Data:Provider postgres", line, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-7788", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(home));
    }
}

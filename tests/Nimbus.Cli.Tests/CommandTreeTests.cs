using System.Text.Json;

namespace Nimbus.Cli.Tests;

public sealed class CommandTreeTests
{
    private static readonly Dictionary<string, string?> NoEnvironment = [];

    [Fact]
    public async Task Version_json_names_the_version_and_runtime()
    {
        var result = await CliRunner.RunAsync(NoEnvironment, "version", "--json");
        using var json = JsonDocument.Parse(result.Output);

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", json.RootElement.GetProperty("version").GetString());
        Assert.StartsWith(".NET 10", json.RootElement.GetProperty("runtime").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_text_is_one_line()
    {
        var result = await CliRunner.RunAsync(NoEnvironment, "version");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("nimbus ", Assert.Single(result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_command_is_a_usage_error_pointing_at_help()
    {
        var result = await CliRunner.RunAsync(NoEnvironment, "stauts");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("stauts", result.Error, StringComparison.Ordinal);
        Assert.Contains("nimbus --help", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("version")]
    public async Task Help_of_each_command_ends_with_examples(string command)
    {
        var result = await CliRunner.RunAsync(NoEnvironment, command, "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--json", result.Output, StringComparison.Ordinal);
        var examples = result.Output[result.Output.IndexOf("Examples:", StringComparison.Ordinal)..];
        Assert.Contains($"nimbus {command}", examples, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bare_nimbus_prints_the_commands_with_examples()
    {
        var result = await CliRunner.RunAsync(NoEnvironment);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("status", result.Output, StringComparison.Ordinal);
        Assert.Contains("Examples:", result.Output, StringComparison.Ordinal);
    }
}

namespace Nimbus.Cli.Tests;

internal sealed record CliResult(int ExitCode, string Output, string Error);

internal static class CliRunner
{
    /// <summary>Runs <c>nimbus</c> in-process with the given environment; NIMBUS_HOME defaults to a path with no daemon.</summary>
    public static Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        RunWithInputAsync(environment, string.Empty, args);

    public static async Task<CliResult> RunWithInputAsync(IReadOnlyDictionary<string, string?> environment, string input, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var reader = new StringReader(input);
        var context = new CliContext(output, error, environment, colors: false, input: reader);
        var exitCode = await NimbusCli.RunAsync(args, context, CancellationToken.None);
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }
}

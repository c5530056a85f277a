using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Spectre.Console;

namespace Nimbus.Cli;

/// <summary>What every command gets: where to write and the environment it runs in.</summary>
internal sealed class CliContext(TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?> environment, bool colors, bool interactive = false, TextReader? input = null)
{
    /// <summary>Where answers to questions come from (standard input).</summary>
    public TextReader Input { get; } = input ?? TextReader.Null;

    /// <summary>A person watches standard error: long transfers show their progress there.</summary>
    public bool Interactive { get; } = interactive;

    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    public IReadOnlyDictionary<string, string?> Environment { get; } = environment;

    /// <summary>Tables and text for people; colour only on a terminal that wants it.</summary>
    public IAnsiConsole Console { get; } = CreateConsole(output, colors);

    private static IAnsiConsole CreateConsole(TextWriter output, bool colors)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = colors ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = colors ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!colors)
        {
            // Piped into a file or another program there is no screen to fit: keep each row on one line.
            console.Profile.Width = 240;
        }

        return console;
    }

    public Task WriteJsonAsync<T>(T value, JsonTypeInfo<T> typeInfo) =>
        Output.WriteLineAsync(JsonSerializer.Serialize(value, typeInfo));
}

/// <summary>Options every command accepts.</summary>
internal sealed class GlobalOptions
{
    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print machine-readable JSON instead of text.",
        Recursive = true,
    };

    public Option<string?> Url { get; } = new("--url")
    {
        Description = "The nimbusd to talk to (default: $NIMBUS_URL, else the nimbus.env in $NIMBUS_HOME or ./.nimbus).",
        HelpName = "URL",
        Recursive = true,
    };
}

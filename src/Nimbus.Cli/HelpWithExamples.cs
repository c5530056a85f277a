using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Nimbus.Cli;

/// <summary>
/// The standard help, followed by an "Examples:" section for the command asked about, so command
/// lists stay one line per command.
/// </summary>
internal sealed class HelpWithExamples(HelpAction standard, IReadOnlyDictionary<Command, string[]> examples) : SynchronousCommandLineAction
{
    public static void Install(RootCommand root, IReadOnlyDictionary<Command, string[]> examples)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithExamples((HelpAction)help.Action!, examples);
    }

    public override int Invoke(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var result = standard.Invoke(parseResult);
        if (examples.TryGetValue(parseResult.CommandResult.Command, out var lines) && lines.Length > 0)
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine("Examples:");
            foreach (var line in lines)
            {
                output.WriteLine("  " + line);
            }

            output.WriteLine();
        }

        return result;
    }
}

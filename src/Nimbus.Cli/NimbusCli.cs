using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Text.Json;
using Nimbus.Cli.Commands;
using Nimbus.Platform.Errors;

namespace Nimbus.Cli;

/// <summary>The <c>nimbus</c> command tree and the one place its failures become messages and exit codes.</summary>
internal static class NimbusCli
{
    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken)
    {
        var global = new GlobalOptions();
        var root = new RootCommand("nimbus — operate a Nimbus cloud from the command line.");
        root.Options.Add(global.Json);
        root.Options.Add(global.Url);
        var status = StatusCommand.Create(global, context);
        var version = VersionCommand.Create(global, context);
        var virt = VirtCommand.Create(global, context);
        var ring = RingCommand.Create(global, context);
        var objects = ObjectsCommand.Create(global, context);
        var identity = IdentityCommand.Create(global, context);
        root.Subcommands.Add(status);
        root.Subcommands.Add(virt);
        root.Subcommands.Add(objects);
        root.Subcommands.Add(identity);
        root.Subcommands.Add(ring);
        root.Subcommands.Add(version);
        var examples = new Dictionary<Command, string[]>(ObjectsCommand.SubcommandExamples(objects))
        {
            [root] =
            [
                "nimbus status                 is nimbusd running, and are its services up",
                "nimbus status --json          the same, for scripts",
                "nimbus virt list --all        the domains (virtual machines) of this node",
                "nimbus ring show object.ring  an object ring's devices and balance",
                "nimbus objects node list      the storage nodes of the object store",
                "nimbus identity rotate-keys   rotate Identity's token keys",
                "nimbus version",
                "nimbus <command> --help       details and examples for one command",
            ],
            [status] = StatusCommand.Examples,
            [virt] = VirtCommand.Examples,
            [ring] = RingCommand.Examples,
            [objects] = ObjectsCommand.Examples,
            [identity] = IdentityCommand.Examples,
            [version] = VersionCommand.Examples,
        };
        HelpWithExamples.Install(root, examples);
        root.SetAction(parse =>
        {
            // A bare `nimbus` is a request for orientation, not a mistake worth an error line.
            ((SynchronousCommandLineAction)root.Options.OfType<HelpOption>().Single().Action!).Invoke(parse);
            return ErrorMapping.UsageExitCode;
        });

        var parse = root.Parse(args);
        var json = parse.GetValue(global.Json);
        // `--help` of a verb that takes an argument is a question, not a mistake: the missing argument is no error then.
        if (parse.Errors.Count > 0 && parse.Action is not HelpWithExamples)
        {
            foreach (var parseError in parse.Errors)
            {
                await context.Error.WriteLineAsync($"nimbus: {parseError.Message}");
            }

            await context.Error.WriteLineAsync("Run 'nimbus --help' for the commands and their options.");
            return ErrorMapping.UsageExitCode;
        }

        try
        {
            var configuration = new InvocationConfiguration { Output = context.Output, Error = context.Error, EnableDefaultExceptionHandler = false };
            return await parse.InvokeAsync(configuration, cancellationToken);
        }
        catch (NimbusException ex)
        {
            var exitCode = ErrorMapping.ExitCode(ex.Kind);
            if (json)
            {
                var body = new CliError(new CliErrorBody(ex.Code, JsonNamingPolicy.SnakeCaseLower.ConvertName(ex.Kind.ToString()), ex.Message, exitCode));
                await context.Error.WriteLineAsync(JsonSerializer.Serialize(body, CliJson.Default.CliError));
            }
            else
            {
                await context.Error.WriteLineAsync($"nimbus: {ex.Message}");
            }

            return exitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync("nimbus: interrupted.");
            return 130;
        }
    }
}

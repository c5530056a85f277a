using System.CommandLine;
using Nimbus.Client;
using Nimbus.Platform.Contracts;
using Spectre.Console;

namespace Nimbus.Cli.Commands;

/// <summary><c>nimbus objects</c>: the all-in-one's object storage nodes, for operators and fault drills.</summary>
internal static class ObjectsCommand
{
    public static readonly string[] Examples =
    [
        "nimbus objects node list            the storage nodes, where they listen, and whether they run",
        "nimbus objects node stop 2          stop node 2 as if its machine failed (writes still reach a quorum)",
        "nimbus objects node start 2         bring it back; the replicator catches it up",
        "nimbus objects node list --json     the same list, for scripts",
    ];

    public static Command Create(GlobalOptions global, CliContext context)
    {
        var node = new Command("node", "List, stop and start the storage nodes of the all-in-one.");
        node.Subcommands.Add(List(global, context));
        node.Subcommands.Add(Action("stop", "Stop one storage node: its listener and daemons go away, its data stays.", global, context));
        node.Subcommands.Add(Action("start", "Start a stopped storage node again.", global, context));
        var objects = new Command("objects", "Operate object storage (the Swift API) of this node's nimbusd.") { node };
        return objects;
    }

    private static Command List(GlobalOptions global, CliContext context)
    {
        var command = new Command("list", "List the storage nodes.");
        command.SetAction(async (parse, ct) =>
        {
            using var client = Client(context);
            var nodes = await client.ListStorageNodesAsync(ct);
            if (parse.GetValue(global.Json))
            {
                await context.WriteJsonAsync(nodes, ContractsJson.Default.ListStorageNodeStatus);
                return 0;
            }

            var table = new Table().Border(TableBorder.Rounded).AddColumn("NODE").AddColumn("URL").AddColumn("STATE").AddColumn("DEVICES");
            foreach (var status in nodes)
            {
                table.AddRow(status.Node.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(status.Url), status.State == "running" ? "[green]running[/]" : "[red]stopped[/]", Markup.Escape(status.DevicesRoot));
            }

            context.Console.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Action(string action, string description, GlobalOptions global, CliContext context)
    {
        var number = new Argument<int>("N") { Description = "The node's number, as `nimbus objects node list` shows it." };
        var command = new Command(action, description) { number };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Client(context);
            var status = await client.StorageNodeActionAsync(parse.GetValue(number), action, ct);
            if (parse.GetValue(global.Json))
            {
                await context.WriteJsonAsync(status, ContractsJson.Default.StorageNodeStatus);
                return 0;
            }

            await context.Output.WriteLineAsync($"Storage node {status.Node} is {status.State} ({status.Url})");
            return 0;
        });
        return command;
    }

    private static NimbusClient Client(CliContext context) =>
        NimbusClient.ForUnixSocket(DaemonLocator.LocateSocket(context.Environment), TimeSpan.FromMinutes(2));
}

using System.CommandLine;
using Nimbus.Client;
using Nimbus.Platform.Contracts;
using Spectre.Console;

namespace Nimbus.Cli.Commands;

/// <summary><c>nimbus objects</c>: the all-in-one's object storage nodes (for operators and fault drills) and tempauth's users.</summary>
internal static class ObjectsCommand
{
    public static readonly string[] Examples =
    [
        "nimbus objects node list            the storage nodes, where they listen, and whether they run",
        "nimbus objects node stop 2          stop node 2 as if its machine failed (writes still reach a quorum)",
        "nimbus objects node start 2         bring it back; the replicator catches it up",
        "nimbus objects node list --json     the same list, for scripts",
        "nimbus objects user list            tempauth's users (the swift client's -U account:user)",
        "nimbus objects user add demo:alice --admin    a user who owns the account AUTH_demo; prints its key",
    ];

    public static readonly string[] UserExamples =
    [
        "nimbus objects user list                          the users, their groups and accounts",
        "nimbus objects user add demo:alice --admin        alice owns AUTH_demo (creates containers); a key is made up and printed once",
        "nimbus objects user add demo:bob                  bob reaches AUTH_demo only where container ACLs let him (swift post -r demo:bob c)",
        "nimbus objects user add ops:root --reseller-admin root may act on every account",
        "nimbus objects user add demo:ci --key s3cret --group builders   a chosen key, and a group container ACLs can name",
        "nimbus objects user set-key demo:alice            a new key (made up, or --key); tokens already issued last until they expire",
        "nimbus objects user remove demo:bob               bob's tokens stop working at once",
        "nimbus objects user list --json                   the same list, for scripts",
        "swift -A $NIMBUS_URL/auth/v1.0 -U demo:alice -K KEY stat    use the user",
    ];

    public static Command Create(GlobalOptions global, CliContext context)
    {
        var node = new Command("node", "List, stop and start the storage nodes of the all-in-one.");
        node.Subcommands.Add(List(global, context));
        node.Subcommands.Add(Action("stop", "Stop one storage node: its listener and daemons go away, its data stays.", global, context));
        node.Subcommands.Add(Action("start", "Start a stopped storage node again.", global, context));
        var objects = new Command("objects", "Operate object storage (the Swift API) of this node's nimbusd.") { node, Users(global, context) };
        return objects;
    }

    /// <summary>The <c>user</c> noun under <paramref name="objects"/> and its verbs, each with the examples of --help.</summary>
    public static IEnumerable<KeyValuePair<Command, string[]>> SubcommandExamples(Command objects)
    {
        ArgumentNullException.ThrowIfNull(objects);
        var user = objects.Subcommands.Single(c => c.Name == "user");
        yield return new(user, UserExamples);
        foreach (var verb in user.Subcommands)
        {
            yield return new(verb, [.. UserExamples.Where(e => e.StartsWith($"nimbus objects user {verb.Name} ", StringComparison.Ordinal))]);
        }
    }

    private static Command Users(GlobalOptions global, CliContext context)
    {
        var user = new Command(
            "user",
            "Manage tempauth's users: the account:user names and keys the swift client logs in with (-U, -K; ST_USER, ST_KEY). Changes are written to $NIMBUS_HOME/objects/tempauth.json (0600) and used at once, without a restart.");
        user.Subcommands.Add(UserList(global, context));
        user.Subcommands.Add(UserAdd(global, context));
        user.Subcommands.Add(UserSetKey(global, context));
        user.Subcommands.Add(UserRemove(global, context));
        return user;
    }

    private static Command UserList(GlobalOptions global, CliContext context)
    {
        var command = new Command("list", "List tempauth's users (their keys are never shown again; set-key makes a new one).");
        command.SetAction(async (parse, ct) =>
        {
            using var client = Client(context);
            var users = await client.ListTempAuthUsersAsync(ct);
            if (parse.GetValue(global.Json))
            {
                await context.WriteJsonAsync(users, ContractsJson.Default.ListTempAuthUserStatus);
                return 0;
            }

            var table = new Table().Border(TableBorder.Rounded).AddColumn("USER").AddColumn("GROUPS").AddColumn("ACCOUNT");
            foreach (var status in users)
            {
                table.AddRow(Markup.Escape($"{status.Account}:{status.User}"), Markup.Escape(string.Join(' ', status.Groups)), Markup.Escape(status.StoragePath));
            }

            context.Console.Write(table);
            return 0;
        });
        return command;
    }

    private static Command UserAdd(GlobalOptions global, CliContext context)
    {
        var name = NameArgument();
        var key = KeyOption();
        var admin = new Option<bool>("--admin") { Description = "Owner of its account (tempauth's .admin): may create and delete containers and set ACLs there." };
        var resellerAdmin = new Option<bool>("--reseller-admin") { Description = "Owner of every account (tempauth's .reseller_admin)." };
        var groups = new Option<string[]>("--group") { Description = "Another group, one a container ACL can name (repeat for more).", HelpName = "GROUP", AllowMultipleArgumentsPerToken = false };
        var command = new Command("add", "Add a tempauth user; its key is made up unless --key gives one, and printed this once.") { name, key, admin, resellerAdmin, groups };
        command.SetAction(async (parse, ct) =>
        {
            var (account, user) = Split(parse.GetValue(name)!);
            var allGroups = new List<string>();
            if (parse.GetValue(admin))
            {
                allGroups.Add(".admin");
            }

            if (parse.GetValue(resellerAdmin))
            {
                allGroups.Add(".reseller_admin");
            }

            allGroups.AddRange(parse.GetValue(groups) ?? []);
            using var client = Client(context);
            var added = await client.AddTempAuthUserAsync(new TempAuthUserRequest(account, user, parse.GetValue(key), allGroups), ct);
            return await WriteUserAsync(context, global, parse, added, "Added");
        });
        return command;
    }

    private static Command UserSetKey(GlobalOptions global, CliContext context)
    {
        var name = NameArgument();
        var key = KeyOption();
        var command = new Command("set-key", "Give a tempauth user a new key, made up unless --key gives one, and print it this once. Tokens issued before stay valid until they expire (a day), as in Swift; for admin:admin, swiftrc is rewritten.") { name, key };
        command.SetAction(async (parse, ct) =>
        {
            var (account, user) = Split(parse.GetValue(name)!);
            using var client = Client(context);
            var changed = await client.SetTempAuthKeyAsync(account, user, parse.GetValue(key), ct);
            return await WriteUserAsync(context, global, parse, changed, "New key for");
        });
        return command;
    }

    private static Command UserRemove(GlobalOptions global, CliContext context)
    {
        var name = NameArgument();
        var command = new Command("remove", "Remove a tempauth user; its tokens stop working at once. Its account's data stays.") { name };
        command.SetAction(async (parse, ct) =>
        {
            var (account, user) = Split(parse.GetValue(name)!);
            using var client = Client(context);
            await client.RemoveTempAuthUserAsync(account, user, ct);
            if (!parse.GetValue(global.Json))
            {
                await context.Output.WriteLineAsync($"Removed tempauth user {account}:{user}");
            }

            return 0;
        });
        return command;
    }

    private static async Task<int> WriteUserAsync(CliContext context, GlobalOptions global, ParseResult parse, TempAuthUserStatus status, string verb)
    {
        if (parse.GetValue(global.Json))
        {
            await context.WriteJsonAsync(status, ContractsJson.Default.TempAuthUserStatus);
            return 0;
        }

        var groups = status.Groups.Count > 0 ? string.Join(' ', status.Groups) : "none";
        await context.Output.WriteLineAsync($"{verb} tempauth user {status.Account}:{status.User} (groups {groups}, account {status.StoragePath})");
        await context.Output.WriteLineAsync($"key: {status.Key}");
        await context.Output.WriteLineAsync($"Use it: swift -A $NIMBUS_URL/auth/v1.0 -U {status.Account}:{status.User} -K {status.Key} stat");
        return 0;
    }

    private static Argument<string> NameArgument() =>
        new("ACCOUNT:USER") { Description = "The user, as the swift client's -U takes it (demo:alice: user alice of account AUTH_demo)." };

    private static Option<string?> KeyOption() =>
        new("--key") { Description = "The key to give (default: 24 random hex characters).", HelpName = "KEY" };

    private static (string Account, string User) Split(string name)
    {
        var colon = name.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == name.Length - 1 || name.IndexOf(':', colon + 1) >= 0)
        {
            throw new Platform.Errors.InvalidInputException("objects.bad_tempauth_user", $"'{name}' is not ACCOUNT:USER; name a user as the swift client does, such as demo:alice.");
        }

        return (name[..colon], name[(colon + 1)..]);
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

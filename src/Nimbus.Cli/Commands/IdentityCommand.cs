using System.CommandLine;
using System.Globalization;
using Nimbus.Client;
using Nimbus.Platform.Contracts;

namespace Nimbus.Cli.Commands;

/// <summary><c>nimbus identity</c>: operator tasks of this node's Identity service (as keystone-manage).</summary>
internal static class IdentityCommand
{
    public static readonly string[] Examples =
    [
        "nimbus identity keys                show the token keys: which one signs, which still validate",
        "nimbus identity rotate-keys         stage a new key and sign with the staged one; tokens of the old primary stay valid",
        "nimbus identity rotate-keys --json  the same, for scripts",
    ];

    public static Command Create(GlobalOptions global, CliContext context)
    {
        var keys = new Command("keys", "Show the token keys of this node's Identity service.");
        keys.SetAction(async (parse, ct) =>
        {
            using var client = Client(context);
            return await WriteAsync(await client.GetTokenKeysAsync(ct), parse.GetValue(global.Json), context, rotated: false);
        });
        var rotate = new Command(
            "rotate-keys",
            "Rotate the token keys (keystone-manage fernet_rotate): the staged key becomes the primary that signs, a new key is staged, and the oldest secondary beyond Identity:MaxActiveKeys is removed. Tokens signed by the previous primary stay valid. Copy the key directory to the other API nodes afterwards.");
        rotate.SetAction(async (parse, ct) =>
        {
            using var client = Client(context);
            return await WriteAsync(await client.RotateTokenKeysAsync(ct), parse.GetValue(global.Json), context, rotated: true);
        });
        return new Command("identity", "Operate this node's Identity service (token keys).") { keys, rotate };
    }

    private static async Task<int> WriteAsync(TokenKeysStatus status, bool json, CliContext context, bool rotated)
    {
        if (json)
        {
            await context.WriteJsonAsync(status, ContractsJson.Default.TokenKeysStatus);
            return 0;
        }

        var keys = string.Join(", ", status.Keys.Select(k => k.ToString(CultureInfo.InvariantCulture)));
        await context.Output.WriteLineAsync(rotated
            ? $"Rotated the token keys in {status.Directory}: key {status.Primary} signs now; keys {keys} validate (0 is the staged key)."
            : $"Token keys in {status.Directory}: key {status.Primary} signs; keys {keys} validate (0 is the staged key).");
        return 0;
    }

    private static NimbusClient Client(CliContext context) =>
        NimbusClient.ForUnixSocket(DaemonLocator.LocateSocket(context.Environment), TimeSpan.FromMinutes(1));
}

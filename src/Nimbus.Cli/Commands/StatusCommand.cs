using System.CommandLine;
using System.Globalization;
using System.Text.Json.Serialization;
using Nimbus.Client;
using Nimbus.Platform.Errors;
using Nimbus.Platform.Health;
using Spectre.Console;

namespace Nimbus.Cli.Commands;

/// <summary>The JSON of <c>nimbus status --json</c>: where the daemon was found and what it said.</summary>
internal sealed record StatusReport(
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("found_by")] string FoundBy,
    [property: JsonPropertyName("health")] HealthReport Health);

/// <summary><c>nimbus status</c>: is a nimbusd running, and are its services up.</summary>
internal static class StatusCommand
{
    public static readonly string[] Examples =
    [
        "nimbus status                                 the daemon found through ./.nimbus/nimbus.env",
        "nimbus status --json                          the same as JSON, for scripts",
        "nimbus status --url http://127.0.0.1:8700     a daemon at a known address",
        "NIMBUS_HOME=/var/lib/nimbus nimbus status     the daemon of another state directory",
    ];

    public static Command Create(GlobalOptions global, CliContext context)
    {
        var command = new Command(
            "status",
            "Show whether nimbusd is running and the state of each of its services. Exits 0 when all run, 10 when nimbusd is unreachable or degraded.");
        command.SetAction(async (parse, cancellationToken) =>
        {
            var location = DaemonLocator.Locate(parse.GetValue(global.Url), context.Environment);
            using var client = NimbusClient.For(location, TimeSpan.FromSeconds(10));
            var health = await client.GetHealthAsync(cancellationToken);
            var healthy = health.Status == HealthReport.Healthy;

            if (parse.GetValue(global.Json))
            {
                await context.WriteJsonAsync(new StatusReport(location.Url.ToString(), location.Source, health), CliJson.Default.StatusReport);
            }
            else
            {
                Render(context.Console, location, health, healthy);
            }

            return healthy ? ErrorMapping.SuccessExitCode : ErrorMapping.ExitCode(ErrorKind.Unavailable);
        });
        return command;
    }

    private static void Render(IAnsiConsole console, DaemonLocation location, HealthReport health, bool healthy)
    {
        var verdict = healthy ? "[green]running[/]" : "[red]degraded[/]";
        console.MarkupLine($"nimbusd {Markup.Escape(health.Version)} at {Markup.Escape(location.Url.ToString())} is {verdict}");
        console.MarkupLine($"  role     {Markup.Escape(health.Role)}");
        console.MarkupLine($"  uptime   {Markup.Escape(FormatUptime(health.UptimeSeconds))} (since {health.StartedAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC)");
        console.MarkupLine($"  found by {Markup.Escape(location.Source)}");

        var table = new Table().Border(TableBorder.Rounded).AddColumn("SERVICE").AddColumn("STATE").AddColumn("DETAIL");
        foreach (var (name, status) in health.Services)
        {
            var state = status.State.ToString().ToLowerInvariant();
            var colour = status.State == ServiceState.Running ? "green" : "red";
            table.AddRow(Markup.Escape(name), $"[{colour}]{state}[/]", Markup.Escape(status.Detail ?? string.Empty));
        }

        console.Write(table);
    }

    internal static string FormatUptime(double seconds)
    {
        var span = TimeSpan.FromSeconds(Math.Max(0, Math.Floor(seconds)));
        return span.TotalDays >= 1 ? $"{(int)span.TotalDays}d {span.Hours}h {span.Minutes}m"
            : span.TotalHours >= 1 ? $"{span.Hours}h {span.Minutes}m {span.Seconds}s"
            : span.TotalMinutes >= 1 ? $"{span.Minutes}m {span.Seconds}s"
            : $"{span.Seconds}s";
    }
}

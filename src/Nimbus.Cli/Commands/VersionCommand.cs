using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace Nimbus.Cli.Commands;

internal sealed record VersionInfo(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("commit")] string? Commit,
    [property: JsonPropertyName("runtime")] string Runtime,
    [property: JsonPropertyName("os")] string OperatingSystem);

/// <summary><c>nimbus version</c>: this CLI's version, build commit and runtime.</summary>
internal static class VersionCommand
{
    public static readonly string[] Examples =
    [
        "nimbus version",
        "nimbus version --json",
    ];

    public static Command Create(GlobalOptions global, CliContext context)
    {
        var command = new Command("version", "Show the version of this nimbus CLI.");
        command.SetAction(async (parse, _) =>
        {
            var info = Current();
            if (parse.GetValue(global.Json))
            {
                await context.WriteJsonAsync(info, CliJson.Default.VersionInfo);
            }
            else
            {
                var commit = info.Commit is null ? string.Empty : $" ({info.Commit[..Math.Min(12, info.Commit.Length)]})";
                context.Console.MarkupLine($"nimbus [bold]{Markup.Escape(info.Version)}[/]{Markup.Escape(commit)} on {Markup.Escape(info.Runtime)}, {Markup.Escape(info.OperatingSystem)}");
            }

            return 0;
        });
        return command;
    }

    public static VersionInfo Current()
    {
        var informational = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var parts = informational.Split('+', 2);
        return new VersionInfo(parts[0], parts.Length == 2 ? parts[1] : null, RuntimeInformation.FrameworkDescription, RuntimeInformation.OSDescription);
    }
}

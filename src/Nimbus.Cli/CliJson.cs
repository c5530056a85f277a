using System.Text.Json.Serialization;
using Nimbus.Cli.Commands;
using Nimbus.Platform.Health;

namespace Nimbus.Cli;

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(VersionInfo))]
[JsonSerializable(typeof(StatusReport))]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(CliError))]
internal sealed partial class CliJson : JsonSerializerContext;

/// <summary>The JSON written to stderr for a failed command under --json.</summary>
internal sealed record CliError(
    [property: JsonPropertyName("error")] CliErrorBody Error);

internal sealed record CliErrorBody(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("exit_code")] int ExitCode);

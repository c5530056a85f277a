using System.Text.Json;
using System.Text.Json.Serialization;

namespace Nimbus.Objects.Servers;

/// <summary>One object's newest version as the REPLICATE verb reports it.</summary>
public sealed record ReplicatedVersion(
    [property: JsonPropertyName("hash")] string Hash,
    [property: JsonPropertyName("deleted")] bool Deleted,
    [property: JsonPropertyName("data")] long DataTicks,
    [property: JsonPropertyName("meta")] long? MetadataTicks);

/// <summary>The bodies of the storage servers' REPLICATE verb.</summary>
public static class ReplicationJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web) { TypeInfoResolver = ReplicationJsonContext.Default };
}

[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<ReplicatedVersion>))]
internal sealed partial class ReplicationJsonContext : JsonSerializerContext;

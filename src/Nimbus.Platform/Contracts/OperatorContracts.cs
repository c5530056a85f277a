using System.Text.Json.Serialization;

namespace Nimbus.Platform.Contracts;

// The wire types of nimbusd's local operator API (its unix socket), shared by the daemon that
// answers and the client that asks, so neither reaches into the other's projects.

/// <summary>Identity's token keys as the operator sees them (<c>GET /identity-admin/v1/token-keys</c>, <c>nimbus identity rotate-keys</c>).</summary>
public sealed record TokenKeysStatus(
    [property: JsonPropertyName("directory")] string Directory,
    [property: JsonPropertyName("primary")] int Primary,
    [property: JsonPropertyName("keys")] IReadOnlyList<int> Keys);

/// <summary>One storage node of the all-in-one (<c>GET /objects/v1/nodes</c>, <c>nimbus objects nodes</c>).</summary>
public sealed record StorageNodeStatus(
    [property: JsonPropertyName("node")] int Node,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("devices_root")] string DevicesRoot);

[JsonSerializable(typeof(TokenKeysStatus))]
[JsonSerializable(typeof(StorageNodeStatus))]
[JsonSerializable(typeof(List<StorageNodeStatus>))]
public sealed partial class ContractsJson : JsonSerializerContext;

using System.Text.Json.Serialization;

namespace Nimbus.Objects.Cluster;

/// <summary>One storage node of the all-in-one, as the local operator API reports it.</summary>
public sealed record StorageNodeStatus(
    [property: JsonPropertyName("node")] int Node,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("devices_root")] string DevicesRoot);

[JsonSerializable(typeof(StorageNodeStatus))]
[JsonSerializable(typeof(List<StorageNodeStatus>))]
[JsonSerializable(typeof(TempAuthUserStatus))]
[JsonSerializable(typeof(List<TempAuthUserStatus>))]
[JsonSerializable(typeof(TempAuthUserRequest))]
[JsonSerializable(typeof(TempAuthKeyRequest))]
public sealed partial class ObjectsJson : JsonSerializerContext;

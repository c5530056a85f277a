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

/// <summary>A tempauth user as the local operator API reports it; <see cref="Key"/> only in the answer that set it.</summary>
public sealed record TempAuthUserStatus(
    [property: JsonPropertyName("account")] string Account,
    [property: JsonPropertyName("user")] string User,
    [property: JsonPropertyName("groups")] IReadOnlyList<string> Groups,
    [property: JsonPropertyName("storage_path")] string StoragePath,
    [property: JsonPropertyName("key"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Key);

/// <summary>The body of <c>POST /objects/v1/tempauth/users</c>: a user to add; no key makes one up.</summary>
public sealed record TempAuthUserRequest(
    [property: JsonPropertyName("account")] string? Account,
    [property: JsonPropertyName("user")] string? User,
    [property: JsonPropertyName("key")] string? Key,
    [property: JsonPropertyName("groups")] IReadOnlyList<string>? Groups);

/// <summary>The body of <c>POST /objects/v1/tempauth/users/{account}/{user}/key</c>; no key makes one up.</summary>
public sealed record TempAuthKeyRequest(
    [property: JsonPropertyName("key")] string? Key);

[JsonSerializable(typeof(TokenKeysStatus))]
[JsonSerializable(typeof(StorageNodeStatus))]
[JsonSerializable(typeof(List<StorageNodeStatus>))]
[JsonSerializable(typeof(TempAuthUserStatus))]
[JsonSerializable(typeof(List<TempAuthUserStatus>))]
[JsonSerializable(typeof(TempAuthUserRequest))]
[JsonSerializable(typeof(TempAuthKeyRequest))]
public sealed partial class ContractsJson : JsonSerializerContext;

using System.Text.Json.Serialization;

namespace Nimbus.Objects.Cluster;

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

using System.Text.Json.Serialization;

namespace Nimbus.Identity.Tokens;

/// <summary>The token keys as the operator sees them (the local API behind <c>nimbus identity rotate-keys</c>).</summary>
public sealed record TokenKeysStatus(
    [property: JsonPropertyName("directory")] string Directory,
    [property: JsonPropertyName("primary")] int Primary,
    [property: JsonPropertyName("keys")] IReadOnlyList<int> Keys)
{
    public static TokenKeysStatus Of(TokenKeyRing ring)
    {
        ArgumentNullException.ThrowIfNull(ring);
        return new(ring.Directory, ring.PrimaryIndex, ring.KeyIndexes);
    }
}

[JsonSerializable(typeof(TokenKeysStatus))]
public sealed partial class IdentityAdminJson : JsonSerializerContext;

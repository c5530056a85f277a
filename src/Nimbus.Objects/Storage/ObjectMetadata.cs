using System.Text.Json;

namespace Nimbus.Objects.Storage;

/// <summary>
/// Which metadata keys a POST (a <c>.meta</c> file) replaces and which stay with the data, and the
/// JSON form both backends store metadata in.
/// </summary>
internal static class ObjectMetadata
{
    /// <summary>Swift's user metadata prefix; every such key is replaced as a set by a POST.</summary>
    public const string UserMetaPrefix = "X-Object-Meta-";

    public const string ContentType = "Content-Type";

    /// <summary>The most metadata one object may carry once serialized; the API caps it far lower.</summary>
    public const int MaxSerializedBytes = 64 * 1024;

    /// <summary>Keys outside the X-Object-Meta- prefix that Swift's POST also replaces.</summary>
    private static readonly HashSet<string> UserKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "X-Delete-At",
        "Content-Disposition",
        "Content-Encoding",
        "X-Object-Manifest",
        "X-Static-Large-Object",
    };

    public static bool IsUserKey(string key) =>
        key.StartsWith(UserMetaPrefix, StringComparison.OrdinalIgnoreCase) || UserKeys.Contains(key);

    /// <summary>
    /// The data's system metadata with the .meta's user metadata in place of the data's own, and
    /// the .meta's Content-Type when it carries one (Swift's fast-POST content-type update).
    /// </summary>
    public static Dictionary<string, string> Merge(IReadOnlyDictionary<string, string> data, IReadOnlyDictionary<string, string>? meta)
    {
        var merged = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in data)
        {
            if (meta is null || !IsUserKey(key))
            {
                merged[key] = value;
            }
        }

        if (meta is not null)
        {
            foreach (var (key, value) in meta)
            {
                if (IsUserKey(key) || string.Equals(key, ContentType, StringComparison.OrdinalIgnoreCase))
                {
                    merged[key] = value;
                }
            }
        }

        return merged;
    }

    public static Dictionary<string, string> Copy(IReadOnlyDictionary<string, string> metadata)
    {
        var copy = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in metadata)
        {
            copy[key] = value;
        }

        return copy;
    }

    public static byte[] Serialize(IReadOnlyDictionary<string, string> metadata)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(metadata);
        if (bytes.Length > MaxSerializedBytes)
        {
            throw new ArgumentException($"object metadata is {bytes.Length} bytes once serialized; at most {MaxSerializedBytes} can be stored.", nameof(metadata));
        }

        return bytes;
    }

    public static Dictionary<string, string> Deserialize(ReadOnlySpan<byte> json)
    {
        var values = JsonSerializer.Deserialize<Dictionary<string, string>>(json)
            ?? throw new InvalidDataException("stored object metadata is JSON null.");
        return new Dictionary<string, string>(values, StringComparer.OrdinalIgnoreCase);
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nimbus.Objects.Http;

namespace Nimbus.Objects.Middleware;

/// <summary>One entry of a manifest as the client PUTs it: an object-backed segment or inline data.</summary>
internal sealed record SloInput(int Index, string? Path, string? Etag, long? SizeBytes, string? Range, byte[]? Data);

/// <summary>One entry of a stored manifest, with the length it contributes to the large object.</summary>
internal sealed record SloSegment(string? Name, long Bytes, string Hash, string? Range, bool SubSlo, byte[]? Data)
{
    public long Length => Data is not null
        ? Data.Length
        : Range is { } range ? ParseStoredRange(range).End - ParseStoredRange(range).Start + 1 : Bytes;

    public (long Start, long End) Bounds => Range is { } range ? ParseStoredRange(range) : (0, Bytes - 1);

    private static (long Start, long End) ParseStoredRange(string range)
    {
        var dash = range.IndexOf('-', StringComparison.Ordinal);
        return (long.Parse(range[..dash], CultureInfo.InvariantCulture), long.Parse(range[(dash + 1)..], CultureInfo.InvariantCulture));
    }
}

/// <summary>
/// Swift's SLO manifests (swift/common/middleware/slo.py): parsing and validating what a client
/// PUTs, reading what is stored, and the large object's ETag — no I/O.
/// </summary>
internal static class SloManifest
{
    public const int MaxRecursionDepth = 10;

    /// <summary>Swift's parse_and_validate_input: the segments, or the 400 body listing every problem.</summary>
    public static (List<SloInput>? Segments, string? Error) ParseInput(ReadOnlySpan<byte> body, string container, string obj)
    {
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(body.ToArray(), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException)
        {
            return (null, "Manifest must be valid JSON.\n");
        }

        if (parsed is not JsonArray array)
        {
            return (null, "Manifest must be a list.\n");
        }

        var errors = new List<string>();
        var segments = new List<SloInput>();
        for (var index = 0; index < array.Count; index++)
        {
            if (array[index] is not JsonObject entry)
            {
                errors.Add($"Index {index}: not a JSON object");
                continue;
            }

            // Swift looks for "data" before "path"; the other key then counts as extraneous.
            var type = entry.ContainsKey("data") ? "data" : entry.ContainsKey("path") ? "path" : null;
            if (type is null)
            {
                errors.Add($"Index {index}: expected keys to include one of 'data' or 'path'");
                continue;
            }

            string[] allowed = type == "data" ? ["data"] : ["path", "range", "etag", "size_bytes"];
            var extraneous = entry.Select(p => p.Key).Where(k => !allowed.Contains(k)).Order(StringComparer.Ordinal).ToList();
            if (extraneous.Count > 0)
            {
                errors.Add($"Index {index}: extraneous keys {string.Join(", ", extraneous.Select(k => PythonJson.Serialize(JsonValue.Create(k))))}");
                continue;
            }

            if (type == "data")
            {
                if (!TryStrictBase64(entry["data"], out var data))
                {
                    errors.Add($"Index {index}: data must be valid base64");
                    continue;
                }

                if (data.Length < 1)
                {
                    errors.Add($"Index {index}: too small; each segment must be at least 1 byte.");
                    continue;
                }

                segments.Add(new SloInput(index, null, null, null, null, data));
                continue;
            }

            if (entry["path"] is not JsonValue pathValue || pathValue.GetValueKind() != JsonValueKind.String)
            {
                errors.Add($"Index {index}: \"path\" must be a string");
                continue;
            }

            var path = pathValue.GetValue<string>();
            var etagNode = entry["etag"];
            if (etagNode is not null && etagNode.GetValueKind() != JsonValueKind.String)
            {
                errors.Add($"Index {index}: \"etag\" must be a string or null (if provided)");
                continue;
            }

            if (!path.Trim('/').Contains('/', StringComparison.Ordinal))
            {
                errors.Add($"Index {index}: path does not refer to an object. Path must be of the form /container/object.");
                continue;
            }

            long? size = null;
            if (entry["size_bytes"] is { } sizeNode)
            {
                if (!TryPythonInt(sizeNode, out var parsedSize))
                {
                    errors.Add($"Index {index}: invalid size_bytes");
                    continue;
                }

                if (parsedSize < 1 && index != array.Count - 1)
                {
                    errors.Add($"Index {index}: too small; each segment must be at least 1 byte.");
                    continue;
                }

                size = parsedSize;
            }

            var trimmed = path.TrimStart('/');
            var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
            if (trimmed[..slash] == container && trimmed[(slash + 1)..] == obj)
            {
                errors.Add($"Index {index}: manifest must not include itself as a segment");
                continue;
            }

            string? range = null;
            if (entry["range"] is { } rangeNode && rangeNode.GetValueKind() == JsonValueKind.String && rangeNode.GetValue<string>() is { Length: > 0 } rangeText)
            {
                var ranges = ObjectDelivery.ParseRanges("bytes=" + rangeText, long.MaxValue);
                if (ranges is null or { Count: 0 })
                {
                    errors.Add($"Index {index}: invalid range");
                    continue;
                }

                if (ranges.Count > 1)
                {
                    errors.Add($"Index {index}: multiple ranges (only one allowed)");
                    continue;
                }

                if (size is { } known && ObjectDelivery.ParseRanges("bytes=" + rangeText, known) is not { Count: 1 })
                {
                    errors.Add($"Index {index}: unsatisfiable range");
                    continue;
                }

                range = rangeText;
            }

            var etag = etagNode?.GetValue<string>();
            segments.Add(new SloInput(index, path, etag is null ? null : LargeObjects.Unquote(etag), size, range, null));
        }

        if (array.Count > 0 && segments.Count == array.Count && segments.All(s => s.Data is not null))
        {
            errors.Add("Inline data segments require at least one object-backed segment.");
        }

        if (errors.Count > 0)
        {
            return (null, string.Concat(errors.Select(e => e + "\n")));
        }

        return (segments, null);
    }

    /// <summary>Reads a stored manifest (or a client's raw one fetched back); null when it is not a manifest.</summary>
    public static List<SloSegment>? ParseStored(string json)
    {
        JsonArray? array;
        try
        {
            array = JsonNode.Parse(json) as JsonArray;
        }
        catch (JsonException)
        {
            return null;
        }

        if (array is null)
        {
            return null;
        }

        var segments = new List<SloSegment>();
        foreach (var node in array)
        {
            if (node is not JsonObject entry)
            {
                return null;
            }

            if (entry["data"] is { } data)
            {
                segments.Add(new SloSegment(null, 0, string.Empty, null, false, Convert.FromBase64String(data.GetValue<string>())));
                continue;
            }

            var subSlo = entry["sub_slo"] is { } flag && flag.GetValueKind() == JsonValueKind.True;
            var bytes = entry["bytes"] is { } bytesNode && TryPythonInt(bytesNode, out var parsedBytes) ? parsedBytes : 0;
            if (subSlo && entry["content_type"] is { } contentType && LargeObjects.SwiftBytes(contentType.GetValue<string>()) is { } swiftBytes)
            {
                bytes = swiftBytes;
            }

            segments.Add(new SloSegment(
                entry["name"]?.GetValue<string>() ?? string.Empty,
                bytes,
                entry["hash"]?.GetValue<string>() ?? string.Empty,
                entry["range"]?.GetValue<string>(),
                subSlo,
                null));
        }

        return segments;
    }

    /// <summary>The large object's ETag: the MD5 of its segments' ETags ("etag:range;" for a ranged one, the MD5 of inline data).</summary>
    public static string Etag(IEnumerable<SloSegment> segments)
    {
        var text = new StringBuilder();
        foreach (var segment in segments)
        {
            text.Append(segment.Data is { } data ? LargeObjects.Md5Hex(data)
                : segment.Range is { } range ? $"{segment.Hash}:{range};"
                : segment.Hash);
        }

        return LargeObjects.Md5Hex(Encoding.ASCII.GetBytes(text.ToString()));
    }

    /// <summary>The stored manifest turned back into the form a client PUTs (?multipart-manifest=get&amp;format=raw).</summary>
    public static string ToRaw(string stored)
    {
        var array = JsonNode.Parse(stored)!.AsArray();
        var output = new JsonArray();
        foreach (var node in array)
        {
            var entry = node!.AsObject();
            if (entry.ContainsKey("data"))
            {
                output.Add(entry.DeepClone());
                continue;
            }

            var raw = new JsonObject();
            foreach (var (key, value) in entry)
            {
                var renamed = key switch
                {
                    "name" => "path",
                    "bytes" => "size_bytes",
                    "hash" => "etag",
                    "content_type" or "last_modified" or "sub_slo" => null,
                    _ => key,
                };
                if (renamed is not null)
                {
                    raw[renamed] = value?.DeepClone();
                }
            }

            output.Add(raw);
        }

        return PythonJson.Serialize(output, sortKeys: true);
    }

    /// <summary>Python's int() on a JSON value: integers, integral strings, and floats truncated.</summary>
    private static bool TryPythonInt(JsonNode node, out long value)
    {
        value = 0;
        switch (node.GetValueKind())
        {
            case JsonValueKind.Number:
                if (node.AsValue().TryGetValue(out long whole))
                {
                    value = whole;
                    return true;
                }

                value = (long)node.GetValue<double>();
                return true;
            case JsonValueKind.String:
                return long.TryParse(node.GetValue<string>().Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
            case JsonValueKind.True:
                value = 1;
                return true;
            case JsonValueKind.False:
                return true;
            default:
                return false;
        }
    }

    /// <summary>Swift's strict_b64decode: only the base64 alphabet, padding optional.</summary>
    private static bool TryStrictBase64(JsonNode? node, out byte[] data)
    {
        data = [];
        if (node is null || node.GetValueKind() != JsonValueKind.String)
        {
            return false;
        }

        var text = node.GetValue<string>();
        if (text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=')))
        {
            return false;
        }

        var stripped = text.TrimEnd('=');
        if (stripped.Length % 4 == 1)
        {
            return false;
        }

        try
        {
            data = Convert.FromBase64String(stripped + new string('=', (4 - (stripped.Length % 4)) % 4));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

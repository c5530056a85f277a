using System.Text;
using Microsoft.AspNetCore.Http;

namespace Nimbus.Objects.Common;

/// <summary>
/// Swift's limits (swift/common/constraints.py), enforced at the proxy before anything is written.
/// Header values here are wire strings: Kestrel decodes them as Latin-1, so one char is one byte,
/// and lengths are byte counts as Swift's are.
/// </summary>
public static class Constraints
{
    public const long MaxFileSize = (5L * 1024 * 1024 * 1024) + 2;
    public const int MaxMetaNameLength = 128;
    public const int MaxMetaValueLength = 256;
    public const int MaxMetaCount = 90;
    public const int MaxMetaOverallSize = 4096;
    public const int MaxHeaderSize = 8192;
    public const int MaxObjectNameLength = 1024;
    public const int MaxContainerNameLength = 256;
    public const int MaxAccountNameLength = 256;
    public const int ContainerListingLimit = 10_000;
    public const int AccountListingLimit = 10_000;

    /// <summary>Swift's check_metadata: the refusal message, or null when the metadata is acceptable.</summary>
    public static string? CheckMetadata(IHeaderDictionary headers, string targetType)
    {
        var prefix = $"x-{targetType}-meta-";
        var count = 0;
        var size = 0;
        foreach (var (key, values) in headers)
        {
            var value = values.ToString();
            if (value.Length > MaxHeaderSize)
            {
                return $"Header value too long: {key[..Math.Min(key.Length, MaxMetaNameLength)]}";
            }

            if (!key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var name = key[prefix.Length..];
            if (name.Length == 0)
            {
                return "Metadata name cannot be empty";
            }

            if (targetType is "account" or "container" && (!IsUtf8(name) || !IsUtf8(value)))
            {
                return "Metadata must be valid UTF-8";
            }

            count++;
            size += name.Length + value.Length;
            if (name.Length > MaxMetaNameLength)
            {
                return $"Metadata name too long: {prefix}{name}";
            }

            if (value.Length > MaxMetaValueLength)
            {
                return $"Metadata value longer than {MaxMetaValueLength}: {prefix}{name}";
            }

            if (count > MaxMetaCount)
            {
                return $"Too many metadata items; max {MaxMetaCount}";
            }

            if (size > MaxMetaOverallSize)
            {
                return $"Total metadata too large; max {MaxMetaOverallSize}";
            }
        }

        return null;
    }

    /// <summary>Swift's check_object_creation checks on name length and body size.</summary>
    public static (int Status, string Message)? CheckObjectCreation(long? contentLength, bool chunked, string objectName)
    {
        if (contentLength > MaxFileSize)
        {
            return (StatusCodes.Status413PayloadTooLarge, "Your request is too large.");
        }

        if (contentLength is null && !chunked)
        {
            return (StatusCodes.Status411LengthRequired, "Missing Content-Length header.");
        }

        if (Encoding.UTF8.GetByteCount(objectName) > MaxObjectNameLength)
        {
            return (StatusCodes.Status400BadRequest, $"Object name length of {Encoding.UTF8.GetByteCount(objectName)} longer than {MaxObjectNameLength}");
        }

        return null;
    }

    /// <summary>True when a wire string (Latin-1, one char per byte) holds valid UTF-8 without NUL.</summary>
    public static bool IsUtf8(string wire)
    {
        if (wire.Contains('\0', StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in wire)
        {
            if (c > 0xFF)
            {
                return false;
            }
        }

        return System.Text.Unicode.Utf8.IsValid(Encoding.Latin1.GetBytes(wire));
    }

    /// <summary>Turns a wire string back into the text its UTF-8 bytes spell.</summary>
    public static string FromWire(string wire) => Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(wire));

    /// <summary>Turns text into the wire string Kestrel will write as its UTF-8 bytes.</summary>
    public static string ToWire(string text) => Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(text));
}

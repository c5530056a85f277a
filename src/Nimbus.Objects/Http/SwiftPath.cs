using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Nimbus.Objects.Http;

/// <summary>
/// Request paths split into Swift's parts. Parsed from the raw request target, because object
/// names may hold "/" and percent-escapes that ASP.NET Core's decoded path would blur.
/// </summary>
public static class SwiftPath
{
    /// <summary>
    /// Splits <paramref name="rawPath"/> (no query) into at most <paramref name="maxSegments"/> parts,
    /// as Swift's split_path with rest_with_last: the last part keeps any further slashes. Every part
    /// but the last must be non-empty; an empty last part is absent (null), so "/v1/a/c/" names
    /// container c. Fails on a missing required part, an invalid percent-escape, invalid UTF-8 or NUL.
    /// </summary>
    public static bool TrySplit(string rawPath, int minSegments, int maxSegments, out string?[] segments, out string? error)
    {
        segments = [];
        error = null;
        if (!rawPath.StartsWith('/'))
        {
            error = "the path must start with '/'";
            return false;
        }

        var parts = rawPath[1..].Split('/', maxSegments);
        var decoded = new string?[maxSegments];
        for (var i = 0; i < parts.Length; i++)
        {
            var last = i == parts.Length - 1;
            if (parts[i].Length == 0)
            {
                if (!last || i < minSegments)
                {
                    error = "invalid path: an empty name where a name is required";
                    return false;
                }

                continue;
            }

            if (!TryDecode(parts[i], out var value, out error))
            {
                return false;
            }

            decoded[i] = value;
        }

        if (parts.Length < minSegments)
        {
            error = "invalid path: too few parts";
            return false;
        }

        segments = decoded;
        return true;
    }

    /// <summary>Percent-decodes to UTF-8 bytes and refuses invalid UTF-8 and NUL, as Swift's check_utf8 does.</summary>
    public static bool TryDecode(string text, out string value, out string? error)
    {
        value = text;
        error = null;
        if (!text.Contains('%', StringComparison.Ordinal) && !text.Contains('\0', StringComparison.Ordinal))
        {
            return true;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            var length = 0;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (c == '%')
                {
                    if (i + 2 >= text.Length || !IsHex(text[i + 1]) || !IsHex(text[i + 2]))
                    {
                        error = "invalid percent-escape in path";
                        return false;
                    }

                    buffer[length++] = (byte)((HexValue(text[i + 1]) << 4) | HexValue(text[i + 2]));
                    i += 2;
                }
                else
                {
                    length += Encoding.UTF8.GetBytes(text.AsSpan(i, char.IsHighSurrogate(c) && i + 1 < text.Length ? 2 : 1), buffer.AsSpan(length));
                    if (char.IsHighSurrogate(c))
                    {
                        i++;
                    }
                }
            }

            var bytes = buffer.AsSpan(0, length);
            if (bytes.Contains((byte)0))
            {
                error = "path contains a NUL byte";
                return false;
            }

            if (!System.Text.Unicode.Utf8.IsValid(bytes))
            {
                error = "path is not valid UTF-8";
                return false;
            }

            value = Encoding.UTF8.GetString(bytes);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The request path as the client sent it, still percent-encoded, without the query.</summary>
    public static string RawPath(HttpContext context)
    {
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        var query = rawTarget.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? rawTarget : rawTarget[..query];
    }

    /// <summary>"/account[/container[/object]]", each name percent-encoded, the object's slashes kept.</summary>
    public static string Join(string account, string? container = null, string? obj = null) =>
        "/" + Encode(account)
        + (container is null ? string.Empty : "/" + Encode(container))
        + (obj is null ? string.Empty : "/" + Encode(obj, keepSlashes: true));

    /// <summary>A stored object's name ("/a/c/o", as object metadata keeps it) as a request path.</summary>
    public static string JoinName(string name)
    {
        var parts = name.TrimStart('/').Split('/', 3);
        return Join(parts[0], parts.Length > 1 ? parts[1] : null, parts.Length > 2 ? parts[2] : null);
    }

    /// <summary>Percent-encodes a name for a backend request path, keeping "/" when asked.</summary>
    public static string Encode(string name, bool keepSlashes = false)
    {
        var encoded = Uri.EscapeDataString(name);
        return keepSlashes ? encoded.Replace("%2F", "/", StringComparison.Ordinal) : encoded;
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

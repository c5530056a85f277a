using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Common;
using Nimbus.Objects.Http;

namespace Nimbus.Objects.Middleware;

/// <summary>
/// The secrets TempURL and FormPost signatures are made with: X-Account-Meta-Temp-URL-Key and -Key-2
/// on the account, X-Container-Meta-Temp-URL-Key and -Key-2 on the container (Swift's
/// get_tempurl_keys_from_metadata). The requests carrying signatures have no token, so the keys are
/// read from the proxy's account and container info, with no authorization applied.
/// </summary>
internal sealed record TempUrlKeys(IReadOnlyList<byte[]> Account, IReadOnlyList<byte[]> Container)
{
    public static TempUrlKeys None { get; } = new([], []);

    public bool IsEmpty => Account.Count == 0 && Container.Count == 0;

    public static async Task<TempUrlKeys> ReadAsync(HttpContext context, RequestDelegate downstream, string account, string container)
    {
        var accountPath = "/v1/" + SwiftPath.Encode(account);
        var accountKeys = await ReadScopeAsync(context, downstream, accountPath, "X-Account-Meta-");
        var containerKeys = await ReadScopeAsync(context, downstream, accountPath + "/" + SwiftPath.Encode(container), "X-Container-Meta-");
        return new TempUrlKeys(accountKeys, containerKeys);
    }

    private static async Task<List<byte[]>> ReadScopeAsync(HttpContext context, RequestDelegate downstream, string rawPath, string metaPrefix)
    {
        var (found, headers) = await QuotaUpload.HeadAsync(context, downstream, rawPath);
        var keys = new List<byte[]>();
        if (!found)
        {
            return keys;
        }

        foreach (var name in (string[])["Temp-URL-Key", "Temp-URL-Key-2"])
        {
            var value = headers[metaPrefix + name].ToString();
            if (value.Length > 0)
            {
                // Header values are wire strings: their chars are the key's UTF-8 bytes.
                keys.Add(Encoding.UTF8.GetBytes(Constraints.FromWire(value)));
            }
        }

        return keys;
    }
}

/// <summary>
/// Signatures as Swift's digest.py reads them: hex (SHA-1, SHA-256 or SHA-512 by length) or
/// "&lt;algorithm&gt;:&lt;base64&gt;" (standard or URL-safe alphabet), and HMACs to compare them with.
/// </summary>
internal static class SignatureDigest
{
    /// <summary>Swift's DEFAULT_ALLOWED_DIGESTS.</summary>
    public static IReadOnlyList<string> Allowed { get; } = ["sha1", "sha256", "sha512"];

    /// <summary>Still accepted, but Swift warns that support will go.</summary>
    public static IReadOnlyList<string> Deprecated { get; } = ["sha1"];

    /// <summary>Swift's extract_digest_and_algorithm: the algorithm and the signature as lowercase-or-given hex.</summary>
    public static bool TryExtract(string value, out string algorithm, out string hex)
    {
        algorithm = hex = string.Empty;
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            algorithm = value[..colon];
            var encoded = value[(colon + 1)..];
            if ((encoded.Contains('-', StringComparison.Ordinal) || encoded.Contains('_', StringComparison.Ordinal))
                && !(encoded.Contains('+', StringComparison.Ordinal) || encoded.Contains('/', StringComparison.Ordinal)))
            {
                encoded = encoded.Replace('-', '+').Replace('_', '/');
            }

            var core = encoded.Trim('=');
            if (core.Length % 4 == 1 || !core.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/'))
            {
                return false;
            }

            try
            {
                hex = Convert.ToHexStringLower(Convert.FromBase64String(core + new string('=', (4 - (core.Length % 4)) % 4)));
            }
            catch (FormatException)
            {
                return false;
            }

            return true;
        }

        if (value.Length % 2 != 0 || !value.All(char.IsAsciiHexDigit))
        {
            return false;
        }

        algorithm = value.Length switch
        {
            40 => "sha1",
            64 => "sha256",
            128 => "sha512",
            _ => string.Empty,
        };
        hex = value;
        return algorithm.Length > 0;
    }

    /// <summary>The HMAC of <paramref name="message"/> as lowercase hex, as Python's hexdigest.</summary>
    [SuppressMessage("Security", "CA5350", Justification = "HMAC-SHA1 signatures are part of Swift's TempURL and FormPost API; clients still send them.")]
    public static string Hmac(string algorithm, byte[] key, string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        return Convert.ToHexStringLower(algorithm switch
        {
            "sha1" => HMACSHA1.HashData(key, bytes),
            "sha256" => HMACSHA256.HashData(key, bytes),
            "sha512" => HMACSHA512.HashData(key, bytes),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "the digest must be sha1, sha256 or sha512"),
        });
    }

    /// <summary>Compares in constant time, as Swift's streq_const_time, so a signature cannot be guessed byte by byte.</summary>
    public static bool Matches(string expected, string given) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(given));
}

/// <summary>Python's urllib.parse.quote, which Swift uses for Content-Disposition filenames and FormPost redirects.</summary>
internal static class UrlQuote
{
    public static string Quote(string text, string safe = "/")
    {
        var builder = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '~' || (b < 0x80 && safe.Contains(c, StringComparison.Ordinal)))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(Convert.ToHexString([b]));
            }
        }

        return builder.ToString();
    }
}

using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>
/// Swift's tempurl: an object request signed with a Temp-URL-Key
/// (<c>?temp_url_sig=…&amp;temp_url_expires=…</c>, optionally <c>temp_url_prefix</c> and
/// <c>temp_url_ip_range</c>) is allowed without a token until it expires. The signature is an HMAC
/// (SHA-1, SHA-256 or SHA-512) over "METHOD\nEXPIRES\nPATH", "prefix:PATH" for a prefix, and a
/// leading "ip=RANGE" line for an address range. Signed reads are served as attachments and lose
/// their private metadata; signed writes cannot leave pointers to other data behind.
/// </summary>
public sealed class TempUrl : IProxyMiddleware
{
    /// <summary>The methods a signature can allow (Swift's default "methods").</summary>
    private static readonly string[] Methods = ["GET", "HEAD", "PUT", "POST", "DELETE"];

    /// <summary>Headers a signed write may not carry: they would point the object at data the signature does not grant.</summary>
    private static readonly string[] DisallowedIncomingHeaders = ["X-Object-Manifest", "X-Symlink-Target"];

    /// <summary>Swift's DEFAULT_INCOMING_REMOVE_HEADERS: a signed request cannot choose its own timestamp.</summary>
    private static readonly string[] IncomingRemoveHeaders = ["X-Timestamp"];

    /// <summary>Swift's DEFAULT_OUTGOING_REMOVE_HEADERS and its exception DEFAULT_OUTGOING_ALLOW_HEADERS (prefixes).</summary>
    private const string OutgoingRemovePrefix = "X-Object-Meta-";
    private const string OutgoingAllowPrefix = "X-Object-Meta-Public-";

    private const string InvalidBody = "401 Unauthorized: Temp URL invalid\n";

    private readonly TimeProvider _time;

    public TempUrl(TimeProvider time, SwiftInfo info)
    {
        _time = time;
        info.Register("tempurl", new JsonObject
        {
            ["methods"] = Strings(Methods),
            ["incoming_remove_headers"] = new JsonArray("x-timestamp"),
            ["incoming_allow_headers"] = new JsonArray(),
            ["outgoing_remove_headers"] = new JsonArray("x-object-meta-*"),
            ["outgoing_allow_headers"] = new JsonArray("x-object-meta-public-*"),
            ["allowed_digests"] = Strings(SignatureDigest.Allowed),
            ["deprecated_digests"] = Strings(SignatureDigest.Deprecated),
        });
    }

    public string Name => "tempurl";

    public async Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        var request = context.Request;
        if (HttpMethods.IsOptions(request.Method))
        {
            await downstream(context);
            return;
        }

        var query = request.Query;
        var hasSig = query.TryGetValue("temp_url_sig", out var sigValues);
        var hasExpires = query.TryGetValue("temp_url_expires", out var expiresValues);
        if (!hasSig && !hasExpires)
        {
            await downstream(context);
            return;
        }

        var signature = hasSig ? sigValues[0] ?? string.Empty : string.Empty;
        var expires = hasExpires ? ParseExpires(expiresValues[0] ?? string.Empty) : 0;
        if (signature.Length == 0 || expires == 0 || !SignatureDigest.TryExtract(signature, out var algorithm, out var given)
            || !SignatureDigest.Allowed.Contains(algorithm, StringComparer.Ordinal))
        {
            await InvalidAsync(context);
            return;
        }

        var swift = SwiftContext.Get(context);
        if (swift is null || swift.Version != "v1" || swift.Container is null || swift.ObjectName is null
            || swift.ObjectName.Trim('/').Length == 0 || !Methods.Contains(request.Method, StringComparer.Ordinal))
        {
            await InvalidAsync(context);
            return;
        }

        var ipRange = query.TryGetValue("temp_url_ip_range", out var ipValues) ? ipValues[0] : null;
        if (!string.IsNullOrEmpty(ipRange) && !InRange(context.Connection.RemoteIpAddress, ipRange))
        {
            await InvalidAsync(context);
            return;
        }

        var prefix = query.TryGetValue("temp_url_prefix", out var prefixValues) ? prefixValues[0] ?? string.Empty : null;
        if (prefix is not null && !swift.ObjectName.StartsWith(prefix, StringComparison.Ordinal))
        {
            await InvalidAsync(context);
            return;
        }

        var keys = await TempUrlKeys.ReadAsync(context, downstream, swift.Account, swift.Container);
        if (keys.IsEmpty)
        {
            await InvalidAsync(context);
            return;
        }

        var path = prefix is null
            ? $"/v1/{swift.Account}/{swift.Container}/{swift.ObjectName}"
            : $"prefix:/v1/{swift.Account}/{swift.Container}/{prefix}";
        string[] signedMethods = HttpMethods.IsHead(request.Method) ? ["HEAD", "GET", "POST", "PUT"] : [request.Method];
        var scope = MatchingScope(keys, signedMethods, expires, path, ipRange, algorithm, given);
        if (scope is null)
        {
            await InvalidAsync(context);
            return;
        }

        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            foreach (var header in DisallowedIncomingHeaders)
            {
                if (request.Headers.ContainsKey(header))
                {
                    await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, $"The header '{header}' is not allowed in this tempurl");
                    return;
                }
            }
        }

        // Swift's authorize_same_container: a container key grants nothing outside its container, not even a copy's source.
        if (scope == Scope.Container && HttpMethods.IsPut(request.Method) && CopySourceContainer(request) is { } source && source != swift.Container)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status401Unauthorized);
            return;
        }

        foreach (var header in IncomingRemoveHeaders)
        {
            request.Headers.Remove(header);
        }

        swift.Authorized = true;
        var filename = query.TryGetValue("filename", out var filenameValues) ? filenameValues[0] : null;
        var inline = query.ContainsKey("inline");
        StripQuery(context);
        var objectName = swift.ObjectName;
        context.Response.OnStarting(() =>
        {
            CleanOutgoing(context.Response, request.Method, objectName, filename, inline, expires);
            return Task.CompletedTask;
        });
        await downstream(context);
    }

    private enum Scope
    {
        Account,
        Container,
    }

    /// <summary>The scope of the first key whose HMAC matches, or null; account keys are tried first, as Swift lists them.</summary>
    private static Scope? MatchingScope(TempUrlKeys keys, string[] methods, long expires, string path, string? ipRange, string algorithm, string given)
    {
        var expiresText = expires.ToString(CultureInfo.InvariantCulture);
        var ipLine = string.IsNullOrEmpty(ipRange) ? string.Empty : $"ip={ipRange}\n";
        foreach (var method in methods)
        {
            var message = $"{ipLine}{method}\n{expiresText}\n{path}";
            foreach (var (scopeKeys, scope) in (ReadOnlySpan<(IReadOnlyList<byte[]>, Scope)>)[(keys.Account, Scope.Account), (keys.Container, Scope.Container)])
            {
                foreach (var key in scopeKeys)
                {
                    if (SignatureDigest.Matches(SignatureDigest.Hmac(algorithm, key, message), given))
                    {
                        return scope;
                    }
                }
            }
        }

        return null;
    }

    /// <summary>temp_url_expires as Unix seconds or "%Y-%m-%dT%H:%M:%SZ"; 0 when unreadable or past, as Swift reads it.</summary>
    private long ParseExpires(string text)
    {
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var expires))
        {
            expires = DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                ? at.ToUnixTimeSeconds()
                : 0;
        }

        return expires < _time.GetUtcNow().ToUnixTimeSeconds() ? 0 : expires;
    }

    private static bool InRange(IPAddress? client, string range)
    {
        if (client is null)
        {
            return false;
        }

        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }

        if (!range.Contains('/', StringComparison.Ordinal))
        {
            return IPAddress.TryParse(range, out var single) && single.Equals(client);
        }

        return IPNetwork.TryParse(range, out var network) && network.Contains(client);
    }

    /// <summary>The container an X-Copy-From names, or null when there is none (the proxy refuses a malformed one).</summary>
    private static string? CopySourceContainer(HttpRequest request)
    {
        var copyFrom = request.Headers["X-Copy-From"].ToString();
        if (copyFrom.Length == 0)
        {
            return null;
        }

        var path = copyFrom.StartsWith('/') ? copyFrom : "/" + copyFrom;
        return SwiftPath.TrySplit(path, 2, 2, out var parts, out _) ? parts[0] : null;
    }

    /// <summary>The signature's work is done: the rest of the pipeline sees the request without it.</summary>
    private static void StripQuery(HttpContext context)
    {
        context.Request.QueryString = QueryString.Empty;
        if (context.Features.Get<IHttpRequestFeature>() is { } feature)
        {
            var query = feature.RawTarget.IndexOf('?', StringComparison.Ordinal);
            if (query >= 0)
            {
                feature.RawTarget = feature.RawTarget[..query];
            }
        }
    }

    /// <summary>
    /// Removes private metadata from the answer, and for a successful read sets Content-Disposition
    /// (the query's filename or inline, else the object's own, else an attachment named after the
    /// object) and Expires at the signature's expiry.
    /// </summary>
    private static void CleanOutgoing(HttpResponse response, string method, string objectName, string? filename, bool inline, long expires)
    {
        foreach (var name in response.Headers.Keys.ToList())
        {
            if (name.StartsWith(OutgoingRemovePrefix, StringComparison.OrdinalIgnoreCase) && !name.StartsWith(OutgoingAllowPrefix, StringComparison.OrdinalIgnoreCase))
            {
                response.Headers.Remove(name);
            }
        }

        if (!(HttpMethods.IsGet(method) || HttpMethods.IsHead(method)) || response.StatusCode is < 200 or >= 300)
        {
            return;
        }

        var existing = response.Headers.ContentDisposition.ToString();
        string disposition;
        if (inline)
        {
            disposition = string.IsNullOrEmpty(filename) ? "inline" : DispositionFormat("inline", filename);
        }
        else if (!string.IsNullOrEmpty(filename))
        {
            disposition = DispositionFormat("attachment", filename);
        }
        else if (existing.Length > 0)
        {
            disposition = existing;
        }
        else
        {
            var trimmed = objectName.TrimEnd('/');
            disposition = DispositionFormat("attachment", trimmed[(trimmed.LastIndexOf('/') + 1)..]);
        }

        response.Headers.ContentDisposition = disposition.Replace("\n", "%0A", StringComparison.Ordinal);
        response.Headers.Expires = DateTimeOffset.FromUnixTimeSeconds(expires).ToString("r", CultureInfo.InvariantCulture);
    }

    /// <summary>RFC 6266 with the RFC 5987 filename* form, as Swift's disposition_format writes it.</summary>
    private static string DispositionFormat(string type, string filename) =>
        $"{type}; filename=\"{UrlQuote.Quote(filename, " /")}\"; filename*=UTF-8''{UrlQuote.Quote(filename)}";

    private static Task InvalidAsync(HttpContext context) =>
        SwiftResponse.WriteAsync(context, StatusCodes.Status401Unauthorized, InvalidBody);

    internal static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)v)]);
}

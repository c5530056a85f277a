using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Nimbus.Objects.Common;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>
/// One piece of a large object's body: bytes First..Last (inclusive) of a segment object, or of
/// inline data. Etag and Size are what the manifest recorded, checked against the segment as it
/// is read (Swift's SegmentedIterable).
/// </summary>
internal sealed record SegmentRead(string? Path, long First, long Last, string? Etag, long? Size, byte[]? Data = null);

/// <summary>A segment went missing or changed since the manifest was written; 409 before the body starts, a dropped connection after.</summary>
internal sealed class SegmentException(int status, string message) : IOException(message)
{
    public int Status { get; } = status;
}

/// <summary>What the SLO and DLO filters share: forwarding, relaying, and answering with a segmented body.</summary>
internal static class LargeObjects
{
    /// <summary>Headers never copied from a subresponse onto the client's response.</summary>
    private static readonly HashSet<string> UncopiedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Transfer-Encoding", "Connection", "Content-Length", "Content-Range", "Accept-Ranges", "ETag",
    };

    private static readonly HashSet<string> UnforwardedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect",
    };

    public static string RawTarget(HttpContext context) =>
        context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (context.Request.Path.Value + context.Request.QueryString.Value);

    public static string RawPath(HttpContext context)
    {
        var target = RawTarget(context);
        var query = target.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? target : target[..query];
    }

    /// <summary>The client's request headers, for a subrequest that stands in for it.</summary>
    public static List<KeyValuePair<string, string>> ClientHeaders(HttpRequest request, Func<string, bool>? skip = null)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in request.Headers)
        {
            if (!UnforwardedHeaders.Contains(name) && (skip is null || !skip(name)))
            {
                headers.Add(new(name, values.ToString()));
            }
        }

        return headers;
    }

    /// <summary>Sends the client's GET or HEAD on down the pipeline as it came.</summary>
    public static Task<SubResponse> ForwardAsync(HttpContext context, RequestDelegate downstream) =>
        SubRequest.SendAsync(context, downstream, context.Request.Method, RawTarget(context), ClientHeaders(context.Request));

    /// <summary>Passes a subrequest's answer to the client unchanged: status, headers and streamed body.</summary>
    public static async Task RelayAsync(HttpContext context, SubResponse sub, Action<IHeaderDictionary>? adjust = null)
    {
        var response = context.Response;
        response.StatusCode = sub.Status;
        foreach (var (name, values) in sub.Headers)
        {
            if (!name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                response.Headers[name] = values;
            }
        }

        adjust?.Invoke(response.Headers);
        if (HttpMethods.IsHead(context.Request.Method) || sub.Status is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified)
        {
            return;
        }

        await sub.Body.CopyToAsync(response.Body, 64 * 1024, context.RequestAborted);
    }

    /// <summary>
    /// Answers GET or HEAD of a large object: the manifest's own headers, the large object's
    /// length and quoted ETag, the conditional headers judged against that ETag, and the body (or
    /// the one or many ranges asked for) streamed segment by segment.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, IHeaderDictionary manifestHeaders, long length, string etag, Func<long, long, IAsyncEnumerable<SegmentRead>> plan, RequestDelegate downstream, Action<IHeaderDictionary>? extra = null)
    {
        var response = context.Response;
        response.Clear();
        foreach (var (name, values) in manifestHeaders)
        {
            if (!UncopiedHeaders.Contains(name))
            {
                response.Headers[name] = values;
            }
        }

        var contentType = CleanContentType(manifestHeaders.ContentType.ToString());
        response.Headers.ContentType = contentType;
        response.Headers.ETag = etag;
        extra?.Invoke(response.Headers);
        var timestamp = SwiftTimestamp.TryParse(manifestHeaders["X-Timestamp"].ToString(), out var parsed) ? parsed : SwiftTimestamp.Zero;
        if (ObjectDelivery.EvaluateConditions(context.Request, etag, timestamp) is { } condition)
        {
            await SwiftResponse.WriteAsync(context, condition);
            return;
        }

        var manifestPath = RawPath(context);
        try
        {
            await ObjectDelivery.WriteAsync(context, start => new SegmentedStream(context, downstream, plan(start, length - 1), manifestPath), length, contentType);
        }
        catch (SegmentException ex) when (!response.HasStarted)
        {
            // Swift checks the first segment before it sends anything; a bad one is a 409 (or 503).
            response.Clear();
            await SwiftResponse.WriteAsync(context, ex.Status);
        }
    }

    /// <summary>Swift's clean_content_type: drops the swift_bytes parameter a manifest's Content-Type carries.</summary>
    public static string CleanContentType(string value)
    {
        var semicolon = value.LastIndexOf(';');
        if (semicolon >= 0 && value[(semicolon + 1)..].TrimStart().StartsWith("swift_bytes=", StringComparison.Ordinal))
        {
            return value[..semicolon];
        }

        return value;
    }

    /// <summary>The swift_bytes parameter of a Content-Type, if any.</summary>
    public static long? SwiftBytes(string contentType)
    {
        foreach (var part in contentType.Split(';').Skip(1))
        {
            var trimmed = part.Trim();
            if (trimmed.StartsWith("swift_bytes=", StringComparison.Ordinal)
                && long.TryParse(trimmed["swift_bytes=".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var bytes))
            {
                return bytes;
            }
        }

        return null;
    }

#pragma warning disable CA5351 // Swift's ETags are MD5s; they identify content, they do not protect it.
    public static string Md5Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(MD5.HashData(data));
#pragma warning restore CA5351

    public static string Unquote(string etag) => etag.Trim().Trim('"');

    /// <summary>The raw path of an object in the caller's account, from a "container/object" name.</summary>
    public static string ObjectPath(SwiftContext swift, string name)
    {
        var trimmed = name.TrimStart('/');
        var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
        var container = slash < 0 ? trimmed : trimmed[..slash];
        var obj = slash < 0 ? string.Empty : trimmed[(slash + 1)..];
        return $"/{swift.Version}/{SwiftPath.Encode(swift.Account)}/{SwiftPath.Encode(container)}/{SwiftPath.Encode(obj, keepSlashes: true)}";
    }

    /// <summary>Python's urllib quote with "/" safe, as Swift quotes names in its error lists.</summary>
    public static string Quote(string name) => SwiftPath.Encode(name, keepSlashes: true);

    /// <summary>swob's Accept.best_match over bulk's ACCEPTABLE_FORMATS; null when none is acceptable or the header is malformed.</summary>
    public static string? BestFormat(string accept)
    {
        string[] options = ["text/plain", "application/json", "application/xml", "text/xml"];
        if (string.IsNullOrWhiteSpace(accept))
        {
            return options[0];
        }

        var entries = new List<(string Type, double Q, int Order)>();
        var order = 0;
        foreach (var raw in accept.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = raw.Split(';', StringSplitOptions.TrimEntries);
            var q = 1.0;
            foreach (var parameter in parts.Skip(1))
            {
                if (parameter.StartsWith("q=", StringComparison.OrdinalIgnoreCase)
                    && !double.TryParse(parameter[2..], NumberStyles.Float, CultureInfo.InvariantCulture, out q))
                {
                    return null;
                }
            }

            if (!parts[0].Contains('/', StringComparison.Ordinal))
            {
                return null;
            }

            entries.Add((parts[0].ToLowerInvariant(), q, order++));
        }

        foreach (var (type, q, _) in entries.OrderByDescending(e => e.Q).ThenBy(e => e.Order))
        {
            if (q <= 0)
            {
                continue;
            }

            foreach (var option in options)
            {
                if (type == "*/*" || type == option || (type.EndsWith("/*", StringComparison.Ordinal) && option.StartsWith(type[..^1], StringComparison.Ordinal)))
                {
                    return option;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Swift's get_heartbeat_response_body: the result of a bulk operation (a manifest upload, a
    /// multipart delete) as text, JSON or XML.
    /// </summary>
    public static string ResultBody(string? format, List<KeyValuePair<string, JsonNode?>> fields, List<(string Name, string Status)> errors, string rootTag)
    {
        if (format == "application/json")
        {
            var body = new JsonObject();
            foreach (var (key, value) in fields)
            {
                body[key] = value;
            }

            body["Errors"] = new JsonArray([.. errors.Select(e => (JsonNode)new JsonArray(e.Name, e.Status))]);
            return PythonJson.Serialize(body);
        }

        var output = new StringBuilder();
        if (format is not null && format.EndsWith("/xml", StringComparison.Ordinal))
        {
            output.Append('<').Append(rootTag).Append(">\n");
            foreach (var (key, value) in fields.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                var tag = key.Replace(' ', '_').ToLowerInvariant();
                output.Append('<').Append(tag).Append('>').Append(XmlEscape(Text(value))).Append("</").Append(tag).Append(">\n");
            }

            output.Append("<errors>\n");
            foreach (var (name, status) in errors)
            {
                output.Append("<object><name>").Append(XmlEscape(name)).Append("</name><status>").Append(XmlEscape(status)).Append("</status></object>\n");
            }

            output.Append("</errors>\n</").Append(rootTag).Append(">\n");
            return output.ToString();
        }

        foreach (var (key, value) in fields.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            output.Append(key).Append(": ").Append(Text(value)).Append('\n');
        }

        output.Append("Errors:\n");
        foreach (var (name, status) in errors)
        {
            output.Append(name).Append(", ").Append(status).Append('\n');
        }

        return output.ToString();
    }

    /// <summary>An HTTP status as Swift writes it in result bodies: "404 Not Found".</summary>
    public static string StatusLine(int status) => $"{status.ToString(CultureInfo.InvariantCulture)} {SwiftResponse.Reason(status).Title}";

    private static string Text(JsonNode? value) => value is null ? "None" : value.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();

    private static string XmlEscape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}

/// <summary>
/// JSON written as Python's json.dumps writes it (", " and ": " separators, non-ASCII escaped),
/// so a stored manifest and its MD5 are the ones Swift would store.
/// </summary>
internal static class PythonJson
{
    public static string Serialize(JsonNode? node, bool sortKeys = false)
    {
        var output = new StringBuilder();
        Write(output, node, sortKeys);
        return output.ToString();
    }

    private static void Write(StringBuilder output, JsonNode? node, bool sortKeys)
    {
        switch (node)
        {
            case null:
                output.Append("null");
                break;
            case JsonObject obj:
                output.Append('{');
                var first = true;
                IEnumerable<KeyValuePair<string, JsonNode?>> members = sortKeys ? obj.OrderBy(p => p.Key, StringComparer.Ordinal) : obj;
                foreach (var (key, value) in members)
                {
                    output.Append(first ? string.Empty : ", ");
                    first = false;
                    WriteString(output, key);
                    output.Append(": ");
                    Write(output, value, sortKeys);
                }

                output.Append('}');
                break;
            case JsonArray array:
                output.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    output.Append(i == 0 ? string.Empty : ", ");
                    Write(output, array[i], sortKeys);
                }

                output.Append(']');
                break;
            default:
                var kind = node.GetValueKind();
                if (kind == System.Text.Json.JsonValueKind.String)
                {
                    WriteString(output, node.GetValue<string>());
                }
                else
                {
                    output.Append(node.ToJsonString());
                }

                break;
        }
    }

    private static void WriteString(StringBuilder output, string text)
    {
        output.Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': output.Append("\\\""); break;
                case '\\': output.Append("\\\\"); break;
                case '\n': output.Append("\\n"); break;
                case '\r': output.Append("\\r"); break;
                case '\t': output.Append("\\t"); break;
                case '\b': output.Append("\\b"); break;
                case '\f': output.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7E)
                    {
                        output.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        output.Append(c);
                    }

                    break;
            }
        }

        output.Append('"');
    }
}

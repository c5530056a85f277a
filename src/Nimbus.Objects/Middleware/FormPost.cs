using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Nimbus.Objects.Common;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>
/// Swift's formpost: a browser's multipart/form-data POST to a container (or a prefix within it)
/// becomes one object PUT per file field, named prefix + filename. The form's hidden fields
/// (redirect, max_file_size, max_file_count, expires, signature, and x_delete_at or
/// x_delete_after) come before the files and are signed with a Temp-URL-Key as
/// "path\nredirect\nmax_file_size\nmax_file_count\nexpires". Each file streams straight into its
/// PUT; one that outgrows max_file_size is abandoned and leaves nothing stored.
/// </summary>
public sealed class FormPost : IProxyMiddleware
{
    /// <summary>Swift's MAX_VALUE_LENGTH: a field's value beyond this many bytes is dropped.</summary>
    private const int MaxValueLength = 4096;

    private readonly TimeProvider _time;

    public FormPost(TimeProvider time, SwiftInfo info)
    {
        _time = time;
        info.Register("formpost", new JsonObject
        {
            ["allowed_digests"] = TempUrl.Strings(SignatureDigest.Allowed),
            ["deprecated_digests"] = TempUrl.Strings(SignatureDigest.Deprecated),
        });
    }

    public string Name => "formpost";

    public async Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || Boundary(context.Request.ContentType) is not { } boundary)
        {
            await downstream(context);
            return;
        }

        FormOutcome outcome;
        try
        {
            outcome = await TranslateAsync(context, downstream, boundary);
        }
        catch (FormRefusedException refused)
        {
            await SwiftResponse.WriteAsync(context, refused.Status, refused.Message);
            return;
        }

        await WriteOutcomeAsync(context, outcome);
    }

    /// <summary>The boundary of a multipart/form-data body, or null for any other request.</summary>
    private static string? Boundary(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.Ordinal))
        {
            return null;
        }

        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).ToString();
        return boundary.Length > 0 ? boundary : null;
    }

    /// <summary>Swift's _translate_form: reads fields until each file, and PUTs each file as it arrives.</summary>
    private async Task<FormOutcome> TranslateAsync(HttpContext context, RequestDelegate downstream, string boundary)
    {
        var swift = SwiftContext.Get(context);
        var keys = swift?.Container is { } container ? await TempUrlKeys.ReadAsync(context, downstream, swift.Account, container) : TempUrlKeys.None;
        var body = context.Request.Body;
        var delimiter = "--" + boundary;
        if (!await StartsWithAsync(body, delimiter, context.RequestAborted))
        {
            throw new FormRefusedException(StatusCodes.Status400BadRequest, "FormPost: invalid starting boundary");
        }

        var reader = new MultipartReader(boundary, new PrefixedStream(Encoding.ASCII.GetBytes(delimiter + "\r\n"), body)) { BodyLengthLimit = null };
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        var outcome = new FormOutcome(attributes);
        var fileCount = 0;
        while (await NextSectionAsync(reader, context.RequestAborted) is { } section)
        {
            var disposition = ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var parsed) ? parsed : null;
            var name = disposition is null ? null : HeaderUtilities.RemoveQuotes(disposition.Name).ToString();
            var filename = disposition is null ? null : HeaderUtilities.RemoveQuotes(disposition.FileName).ToString();
            if (disposition is not null && disposition.DispositionType.Equals("form-data", StringComparison.Ordinal) && !string.IsNullOrEmpty(filename))
            {
                fileCount++;
                var maxFileCount = Integer(attributes, "max_file_count", "max_file_count not an integer", emptyIsZero: true) ?? 0;
                if (fileCount > maxFileCount)
                {
                    outcome.Status = StatusCodes.Status400BadRequest;
                    outcome.Message = "max file count exceeded";
                    break;
                }

                var fileAttributes = new Dictionary<string, string>(attributes, StringComparer.Ordinal) { ["filename"] = filename };
                if (!attributes.ContainsKey("content-type") && section.Headers?.TryGetValue("Content-Type", out var type) == true)
                {
                    fileAttributes["content-type"] = type.ToString() is { Length: > 0 } given ? given : "application/octet-stream";
                }

                if (!attributes.ContainsKey("content-encoding") && section.Headers?.TryGetValue("Content-Encoding", out var encoding) == true)
                {
                    fileAttributes["content-encoding"] = encoding.ToString();
                }

                await PutFileAsync(context, downstream, swift!, fileAttributes, section.Body, keys, outcome);
                if (outcome.Status is < 200 or >= 300)
                {
                    break;
                }
            }
            else
            {
                var value = await ReadValueAsync(section.Body, context.RequestAborted);
                if (!string.IsNullOrEmpty(name))
                {
                    // Python's rstrip('\r\n--'): trailing CR, LF and '-' are all dropped.
                    attributes[name.ToLowerInvariant()] = value.TrimEnd('\r', '\n', '-');
                }
            }
        }

        if (outcome.Status == 0)
        {
            outcome.Status = StatusCodes.Status400BadRequest;
            outcome.Message = "no files to process";
        }

        return outcome;
    }

    /// <summary>Swift's _perform_subrequest: checks the form's limits, expiry and signature, then streams one file into a PUT.</summary>
    private async Task PutFileAsync(HttpContext context, RequestDelegate downstream, SwiftContext swift, Dictionary<string, string> attributes, Stream file, TempUrlKeys keys, FormOutcome outcome)
    {
        if (keys.IsEmpty)
        {
            throw Unauthorized("invalid signature");
        }

        var maxFileSize = Integer(attributes, "max_file_size", "max_file_size not an integer", emptyIsZero: true) ?? 0;
        var headers = new List<KeyValuePair<string, string>> { new("Transfer-Encoding", "chunked") };
        if (Integer(attributes, "x_delete_at", "x_delete_at not an integer: Unix timestamp required.") is { } deleteAt)
        {
            headers.Add(new("X-Delete-At", deleteAt.ToString(CultureInfo.InvariantCulture)));
        }

        if (Integer(attributes, "x_delete_after", "x_delete_after not an integer: Number of seconds required.") is { } deleteAfter)
        {
            headers.Add(new("X-Delete-After", deleteAfter.ToString(CultureInfo.InvariantCulture)));
        }

        if (attributes.TryGetValue("content-type", out var contentType))
        {
            headers.Add(new("Content-Type", Constraints.ToWire(contentType.Length > 0 ? contentType : "application/octet-stream")));
        }

        if (attributes.TryGetValue("content-encoding", out var contentEncoding))
        {
            headers.Add(new("Content-Encoding", Constraints.ToWire(contentEncoding)));
        }

        if (Integer(attributes, "expires", "expired not an integer", emptyIsZero: true) < _time.GetUtcNow().ToUnixTimeSeconds())
        {
            throw Unauthorized("form expired");
        }

        var message = string.Join('\n',
            FormPath(context),
            Attribute(attributes, "redirect", string.Empty),
            Attribute(attributes, "max_file_size", "0"),
            Attribute(attributes, "max_file_count", "0"),
            Attribute(attributes, "expires", "0"));
        if (!SignatureDigest.TryExtract(attributes.GetValueOrDefault("signature", string.Empty), out var algorithm, out var signature)
            || !SignatureDigest.Allowed.Contains(algorithm, StringComparer.Ordinal))
        {
            throw Unauthorized("invalid signature");
        }

        var valid = false;
        foreach (var key in keys.Account.Concat(keys.Container))
        {
            valid |= SignatureDigest.Matches(SignatureDigest.Hmac(algorithm, key, message), signature);
        }

        if (!valid)
        {
            throw Unauthorized("invalid signature");
        }

        var objectName = (swift.ObjectName ?? string.Empty) + attributes["filename"];
        var path = $"/{swift.Version}/{SwiftPath.Encode(swift.Account)}/{SwiftPath.Encode(swift.Container!)}/{SwiftPath.Encode(objectName, keepSlashes: true)}";
        var capped = new CappedStream(file, maxFileSize);
        await using var response = await SubRequest.SendAsync(context, downstream, HttpMethods.Put, path, headers, capped, preAuthorized: true);
        var responseBody = await response.ReadTextAsync(context.RequestAborted);
        if (capped.Exceeded)
        {
            throw new FormRefusedException(StatusCodes.Status400BadRequest, "FormPost: max_file_size exceeded");
        }

        outcome.Status = response.Status;
        outcome.Message = string.Empty;
        outcome.Body = responseBody;
        outcome.AccessControl = [.. response.Headers.Where(h => h.Key.StartsWith("Access-Control", StringComparison.OrdinalIgnoreCase)).Select(h => new KeyValuePair<string, string>(h.Key, h.Value.ToString()))];
    }

    /// <summary>
    /// The answer: a 303 to the form's redirect with status and message in its query, or without a
    /// redirect the last upload's status as text (Swift's body "201 Created").
    /// </summary>
    private static Task WriteOutcomeAsync(HttpContext context, FormOutcome outcome)
    {
        var response = context.Response;
        foreach (var (name, value) in outcome.AccessControl)
        {
            response.Headers[name] = value;
        }

        var success = outcome.Status is >= 200 and < 300;
        byte[] body;
        var redirect = outcome.Attributes.GetValueOrDefault("redirect");
        if (string.IsNullOrEmpty(redirect))
        {
            var text = $"{outcome.Status.ToString(CultureInfo.InvariantCulture)} {SwiftResponse.Reason(outcome.Status).Title}";
            if (outcome.Message.Length > 0)
            {
                text += "\r\nFormPost: " + SwiftResponse.TitleCase(outcome.Message);
            }

            body = !success && outcome.Body.Length > 0 ? Encoding.UTF8.GetBytes(outcome.Body) : Encoding.UTF8.GetBytes(text);
            response.StatusCode = outcome.Status;
            response.ContentType = "text/plain";
        }
        else
        {
            var location = redirect + (redirect.Contains('?', StringComparison.Ordinal) ? "&" : "?")
                + $"status={UrlQuote.Quote(outcome.Status.ToString(CultureInfo.InvariantCulture))}&message={UrlQuote.Quote(outcome.Message)}";
            body = Encoding.UTF8.GetBytes($"<html><body><p><a href=\"{location}\">Click to continue...</a></p></body></html>");
            response.StatusCode = StatusCodes.Status303SeeOther;
            response.Headers.Location = Constraints.ToWire(location);
        }

        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>The path the form was signed for: the request's, percent-decoded, prefix included.</summary>
    private static string FormPath(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? raw : raw[..query];
        return SwiftPath.TryDecode(path, out var decoded, out _) ? decoded : path;
    }

    private static string Attribute(Dictionary<string, string> attributes, string name, string fallback) =>
        attributes.TryGetValue(name, out var value) && value.Length > 0 ? value : fallback;

    /// <summary>
    /// A field read as Python's int(): null when absent, and anything but an integer refuses the
    /// form. The limits and expiry are read as <c>int(value or 0)</c>, so for them empty is 0.
    /// </summary>
    private static long? Integer(Dictionary<string, string> attributes, string name, string refusal, bool emptyIsZero = false)
    {
        if (!attributes.TryGetValue(name, out var text))
        {
            return emptyIsZero ? 0 : null;
        }

        if (text.Length == 0 && emptyIsZero)
        {
            return 0;
        }

        if (!long.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var value))
        {
            throw new FormRefusedException(StatusCodes.Status400BadRequest, "FormPost: " + refusal);
        }

        return value;
    }

    private static FormRefusedException Unauthorized(string reason) =>
        new(StatusCodes.Status401Unauthorized, "FormPost: " + SwiftResponse.TitleCase(reason));

    /// <summary>Swift's iter_multipart_mime_documents start: blank lines, then the first delimiter line.</summary>
    private static async Task<bool> StartsWithAsync(Stream body, string delimiter, CancellationToken cancellationToken)
    {
        var limit = delimiter.Length + 2;
        string line;
        do
        {
            line = await ReadLineAsync(body, limit, cancellationToken);
        }
        while (line == "\r\n");
        return line.Trim() == delimiter;
    }

    /// <summary>Reads up to <paramref name="limit"/> bytes, stopping after a newline; only for the few bytes of the first line.</summary>
    private static async Task<string> ReadLineAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        var bytes = new List<byte>(limit);
        var one = new byte[1];
        while (bytes.Count < limit && await body.ReadAsync(one, cancellationToken) == 1)
        {
            bytes.Add(one[0]);
            if (one[0] == (byte)'\n')
            {
                break;
            }
        }

        return Encoding.Latin1.GetString([.. bytes]);
    }

    /// <summary>The next part of the form, or null at its end; a body cut short ends the form where it stops, as in Swift.</summary>
    private static async Task<MultipartSection?> NextSectionAsync(MultipartReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadNextSectionAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>A field's value: its first <see cref="MaxValueLength"/> bytes; the reader skips the rest.</summary>
    private static async Task<string> ReadValueAsync(Stream section, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxValueLength];
        var length = 0;
        try
        {
            int read;
            while (length < buffer.Length && (read = await section.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            // A body cut short inside a field ends the form with what was read.
        }

        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    /// <summary>What the form came to: the last upload's status and body, or the reason it stopped.</summary>
    private sealed class FormOutcome(Dictionary<string, string> attributes)
    {
        public Dictionary<string, string> Attributes { get; } = attributes;

        public int Status { get; set; }

        public string Message { get; set; } = string.Empty;

        public string Body { get; set; } = string.Empty;

        public IReadOnlyList<KeyValuePair<string, string>> AccessControl { get; set; } = [];
    }

    /// <summary>A refusal of the whole form (Swift's FormInvalid, FormUnauthorized and EOFError).</summary>
    private sealed class FormRefusedException(int status, string message) : Exception(message)
    {
        public int Status { get; } = status;
    }

    /// <summary>
    /// A file's bytes with max_file_size enforced as they pass: reading past the limit fails the
    /// upload as a client that stopped mid-body would, so the PUT stores nothing.
    /// </summary>
    private sealed class CappedStream(Stream inner, long limit) : ReadOnlyStream
    {
        private long _read;

        public bool Exceeded { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        private int Count(int read)
        {
            _read += read;
            if (_read > limit)
            {
                Exceeded = true;
                throw new IOException("max_file_size exceeded");
            }

            return read;
        }
    }

    /// <summary>The first delimiter line, already read to check it, put back in front of the rest of the body.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : ReadOnlyStream
    {
        private int _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position < prefix.Length)
            {
                var length = Math.Min(count, prefix.Length - _position);
                prefix.AsSpan(_position, length).CopyTo(buffer.AsSpan(offset));
                _position += length;
                return length;
            }

            return inner.Read(buffer, offset, count);
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position < prefix.Length)
            {
                var length = Math.Min(buffer.Length, prefix.Length - _position);
                prefix.AsSpan(_position, length).CopyTo(buffer.Span);
                _position += length;
                return ValueTask.FromResult(length);
            }

            return inner.ReadAsync(buffer, cancellationToken);
        }
    }
}

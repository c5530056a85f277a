using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Nimbus.Objects.Common;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>Swift's [filter:bulk] options.</summary>
public sealed record BulkSettings
{
    public int MaxContainersPerExtraction { get; init; } = 10_000;

    public int MaxFailedExtractions { get; init; } = 1_000;

    public int MaxDeletesPerRequest { get; init; } = 10_000;

    public int MaxFailedDeletes { get; init; } = 1_000;

    /// <summary>How often a long bulk request sends a space to keep the client's connection alive.</summary>
    public TimeSpan YieldFrequency { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Swift's bulk middleware (swift/common/middleware/bulk.py): <c>?bulk-delete</c> deletes a list of
/// objects and containers, and <c>?extract-archive=tar|tar.gz</c> creates one object per file of an
/// uploaded archive. Each item is a subrequest through the rest of the pipeline with the caller's
/// token, so auth, quotas and rate limits apply to each. The answer is always 200; its body tells
/// how it went, and spaces may precede it while a long request keeps the connection alive.
/// </summary>
public sealed class Bulk : IProxyMiddleware
{
    /// <summary>The longest "/container/object" a bulk request names.</summary>
    internal const int MaxPathLength = Constraints.MaxObjectNameLength + Constraints.MaxContainerNameLength + 2;

    private static readonly string[] AcceptableFormats = ["text/plain", "application/json", "application/xml", "text/xml"];

    private readonly BulkSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public Bulk(BulkSettings settings, TimeProvider time, ILogger logger, SwiftInfo info)
    {
        _settings = settings;
        _time = time;
        _logger = logger;
        info.Register("bulk_upload", new JsonObject
        {
            ["max_containers_per_extraction"] = settings.MaxContainersPerExtraction,
            ["max_failed_extractions"] = settings.MaxFailedExtractions,
        });
        info.Register("bulk_delete", new JsonObject
        {
            ["max_deletes_per_request"] = settings.MaxDeletesPerRequest,
            ["max_failed_deletes"] = settings.MaxFailedDeletes,
        });
    }

    public string Name => "bulk";

    public Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        var request = context.Request;
        if (HttpMethods.IsPut(request.Method) && request.Query.TryGetValue("extract-archive", out var extract))
        {
            var format = extract.ToString().ToLowerInvariant().Trim('.');
            if (format == "tar.bz2")
            {
                // .NET has no bzip2 decoder, and the archive is streamed, so it cannot be sniffed and retried.
                return SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "Unsupported archive format: tar.bz2 is not supported here; send tar or tar.gz");
            }

            if (format is not ("tar" or "tar.gz"))
            {
                return SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "Unsupported archive format");
            }

            return RespondAsync(context, "extract", (report, beat) => ExtractAsync(context, downstream, format == "tar.gz", report, beat));
        }

        if (request.Query.ContainsKey("bulk-delete") && (HttpMethods.IsPost(request.Method) || HttpMethods.IsDelete(request.Method)))
        {
            return RespondAsync(context, "delete", (report, beat) => DeleteAsync(context, downstream, report, beat));
        }

        return downstream(context);
    }

    /// <summary>Answers 200 at once and streams the report of <paramref name="work"/>, as Swift's heartbeat responses do.</summary>
    private async Task RespondAsync(HttpContext context, string root, Func<BulkReport, Heartbeat, Task> work)
    {
        var outType = BestMatch(context.Request.Headers.Accept.ToString());
        var report = new BulkReport(root);
        var beat = new Heartbeat(context, _time, _settings.YieldFrequency, outType);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = outType ?? "text/plain";
        try
        {
            if (outType is null)
            {
                throw new BulkRefusal(StatusCodes.Status406NotAcceptable);
            }

            await work(report, beat);
        }
        catch (BulkRefusal refusal)
        {
            report.Status = refusal.Status;
            report.Body = refusal.Body;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            ObjectsLog.BulkFailed(_logger, root, context.Request.Path.Value ?? "/", ex);
            report.Status = StatusCodes.Status500InternalServerError;
            report.Body = string.Empty;
        }

        await beat.FinishAsync(report.Format(outType));
    }

    private async Task DeleteAsync(HttpContext context, RequestDelegate downstream, BulkReport report, Heartbeat beat)
    {
        report.Status = StatusCodes.Status200OK;
        report.Set("Number Deleted", 0);
        report.Set("Number Not Found", 0);
        var swift = SwiftContext.Get(context) ?? throw new BulkRefusal(StatusCodes.Status404NotFound);
        var incoming = context.Request.ContentType;
        if (!string.IsNullOrEmpty(incoming) && !incoming.StartsWith("text/plain", StringComparison.Ordinal))
        {
            // Only newline-separated names are understood, as in Swift.
            throw new BulkRefusal(StatusCodes.Status406NotAcceptable);
        }

        var names = await ReadNamesAsync(context);
        var deleted = 0;
        var notFound = 0;
        var failedStatus = StatusCodes.Status400BadRequest;

        // Objects first, so that a container listed with its objects is empty by the time it is deleted.
        foreach (var containers in (bool[])[false, true])
        {
            foreach (var raw in names)
            {
                if (raw.Length == 0 || IsContainerName(raw) != containers)
                {
                    continue;
                }

                var relative = raw.AsSpan().TrimStart((byte)'/');
                if (!IsValidName(raw))
                {
                    report.Errors.Add((Quote(raw), SwiftResponse.StatusLine(StatusCodes.Status412PreconditionFailed)));
                    continue;
                }

                var path = $"/{SwiftPath.Encode(swift.Version)}/{SwiftPath.Encode(swift.Account)}/{Quote(relative)}";
                int status;
                await using (var response = await SubRequest.SendAsync(context, downstream, HttpMethods.Delete, path, SubrequestHeaders(context, "BulkDelete")))
                {
                    status = response.Status;
                }

                await beat.BeatAsync();
                if (status is >= 200 and < 300)
                {
                    report.Set("Number Deleted", ++deleted);
                }
                else if (status == StatusCodes.Status404NotFound)
                {
                    report.Set("Number Not Found", ++notFound);
                }
                else
                {
                    if (status >= 500)
                    {
                        failedStatus = StatusCodes.Status502BadGateway;
                    }

                    report.Errors.Add((Quote(raw), SwiftResponse.StatusLine(status)));
                }

                if (report.Errors.Count >= _settings.MaxFailedDeletes)
                {
                    throw new BulkRefusal(StatusCodes.Status400BadRequest, "Max delete failures exceeded");
                }
            }
        }

        if (report.Errors.Count > 0)
        {
            report.Status = failedStatus;
        }
        else if (deleted == 0 && notFound == 0)
        {
            report.Status = StatusCodes.Status400BadRequest;
            report.Body = "Invalid bulk delete.";
        }
    }

    /// <summary>
    /// Reads the newline-separated, percent-encoded names of a bulk delete, all before any is
    /// deleted, so that a list over the limit deletes nothing. Names are percent-decoded to bytes.
    /// </summary>
    private async Task<List<byte[]>> ReadNamesAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength is null && !IsChunked(request))
        {
            throw new BulkRefusal(StatusCodes.Status411LengthRequired);
        }

        var names = new List<byte[]>();
        var buffer = new byte[MaxPathLength];
        using var line = new MemoryStream();
        while (true)
        {
            var read = await request.Body.ReadAsync(buffer, context.RequestAborted);
            if (read == 0)
            {
                var last = Unquote(line.GetBuffer().AsSpan(0, (int)line.Length));
                if (last.Length > 0)
                {
                    names.Add(last);
                }

                CheckCount(names);
                return names;
            }

            var span = buffer.AsSpan(0, read);
            int newline;
            while ((newline = span.IndexOf((byte)'\n')) >= 0)
            {
                line.Write(span[..newline]);
                names.Add(Unquote(line.GetBuffer().AsSpan(0, (int)line.Length)));
                line.SetLength(0);
                span = span[(newline + 1)..];
                CheckCount(names);
            }

            line.Write(span);
            if (line.Length > MaxPathLength * 2)
            {
                throw new BulkRefusal(StatusCodes.Status400BadRequest, "Invalid File Name");
            }
        }

        void CheckCount(List<byte[]> names)
        {
            if (names.Count > _settings.MaxDeletesPerRequest)
            {
                throw new BulkRefusal(StatusCodes.Status413PayloadTooLarge, $"Maximum Bulk Deletes: {_settings.MaxDeletesPerRequest} per request");
            }
        }
    }

    private async Task ExtractAsync(HttpContext context, RequestDelegate downstream, bool gzip, BulkReport report, Heartbeat beat)
    {
        report.Status = StatusCodes.Status201Created;
        report.Set("Number Files Created", 0);
        var request = context.Request;
        if (request.ContentLength is null && !IsChunked(request))
        {
            throw new BulkRefusal(StatusCodes.Status411LengthRequired);
        }

        var swift = SwiftContext.Get(context) ?? throw new BulkRefusal(StatusCodes.Status404NotFound);
        var extractBase = swift.Container is null ? string.Empty : (swift.Container + (swift.ObjectName is null ? string.Empty : "/" + swift.ObjectName)).TrimEnd('/');
        var created = 0;
        var containersCreated = 0;
        var failedStatus = StatusCodes.Status400BadRequest;
        var containersAccessed = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            await using var archive = gzip ? new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true) : null;
            await using var reader = new TarReader(archive ?? request.Body, leaveOpen: true);
            while (true)
            {
                await beat.BeatAsync();
                var entry = await reader.GetNextEntryAsync(copyData: false, context.RequestAborted);
                if (entry is null || report.Errors.Count >= _settings.MaxFailedExtractions)
                {
                    break;
                }

                // Only regular files become objects; directories, links and devices are skipped.
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile))
                {
                    continue;
                }

                var objectPath = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                objectPath = objectPath.TrimStart('/');
                if (extractBase.Length > 0)
                {
                    objectPath = extractBase + "/" + objectPath;
                }

                if (!objectPath.Contains('/', StringComparison.Ordinal))
                {
                    // A file at the top of an archive extracted into the account names no container.
                    continue;
                }

                var quotedPath = QuoteTruncated(objectPath);

                // TarReader turns a name's invalid UTF-8 into U+FFFD; Swift's check_utf8 refuses such names with 412.
                if (objectPath.Contains('\0', StringComparison.Ordinal) || objectPath.Contains('\uFFFD', StringComparison.Ordinal))
                {
                    report.Errors.Add((quotedPath, SwiftResponse.StatusLine(StatusCodes.Status412PreconditionFailed)));
                    continue;
                }

                if (entry.Length > Constraints.MaxFileSize)
                {
                    report.Errors.Add((quotedPath, SwiftResponse.StatusLine(StatusCodes.Status413PayloadTooLarge)));
                    continue;
                }

                var container = objectPath[..objectPath.IndexOf('/', StringComparison.Ordinal)];
                var accountPath = $"/{SwiftPath.Encode(swift.Version)}/{SwiftPath.Encode(swift.Account)}";
                (string Name, string Status)? containerFailure = null;
                if (!containersAccessed.Contains(container))
                {
                    var containerStatus = await EnsureContainerAsync(context, downstream, accountPath + "/" + SwiftPath.Encode(container));
                    if (containerStatus == StatusCodes.Status201Created && ++containersCreated > _settings.MaxContainersPerExtraction)
                    {
                        throw new BulkRefusal(StatusCodes.Status400BadRequest, $"More than {_settings.MaxContainersPerExtraction} containers to create from tar.");
                    }

                    if (containerStatus is not (StatusCodes.Status200OK or StatusCodes.Status201Created))
                    {
                        if (containerStatus == StatusCodes.Status401Unauthorized)
                        {
                            throw new BulkRefusal(StatusCodes.Status401Unauthorized);
                        }

                        // The object PUT may still succeed if the container's ACLs allow it.
                        containerFailure = (QuoteTruncated($"/{swift.Version}/{swift.Account}/{container}"), SwiftResponse.StatusLine(containerStatus));
                    }
                }

                var headers = SubrequestHeaders(context, "BulkExpand");
                foreach (var (name, values) in request.Headers)
                {
                    if (name.Equals("X-Delete-At", StringComparison.OrdinalIgnoreCase) || name.Equals("X-Delete-After", StringComparison.OrdinalIgnoreCase)
                        || (name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) && name.Length > "X-Object-Meta-".Length))
                    {
                        headers.Add(new(name, values.ToString()));
                    }
                }

                if (entry is PaxTarEntry pax)
                {
                    foreach (var (key, value) in pax.ExtendedAttributes)
                    {
                        if (HeaderForPaxKey(key) is { } header)
                        {
                            headers.RemoveAll(h => h.Key.Equals(header, StringComparison.OrdinalIgnoreCase));
                            headers.Add(new(header, Constraints.ToWire(value)));
                        }
                    }
                }

                int status;
                var objectRawPath = accountPath + "/" + SwiftPath.Encode(objectPath, keepSlashes: true);
                await using (var response = await SubRequest.SendAsync(context, downstream, HttpMethods.Put, objectRawPath, headers, entry.DataStream ?? Stream.Null, entry.Length))
                {
                    status = response.Status;
                }

                containersAccessed.Add(container);
                if (status is >= 200 and < 300)
                {
                    report.Set("Number Files Created", ++created);
                    continue;
                }

                if (containerFailure is { } failure)
                {
                    report.Errors.Add(failure);
                }

                if (status == StatusCodes.Status401Unauthorized)
                {
                    report.Errors.Add((quotedPath, SwiftResponse.StatusLine(status)));
                    throw new BulkRefusal(StatusCodes.Status401Unauthorized);
                }

                if (status >= 500)
                {
                    failedStatus = StatusCodes.Status502BadGateway;
                }

                report.Errors.Add((quotedPath, SwiftResponse.StatusLine(status)));
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new BulkRefusal(StatusCodes.Status400BadRequest, $"Invalid Tar File: {ex.Message}");
        }

        if (report.Errors.Count > 0)
        {
            report.Status = failedStatus;
        }
        else if (created == 0)
        {
            report.Status = StatusCodes.Status400BadRequest;
            report.Body = "Invalid Tar File: No Valid Files";
        }
    }

    /// <summary>HEADs the container and PUTs it when missing: 200 when it exists, 201 when created, else the failing status.</summary>
    private static async Task<int> EnsureContainerAsync(HttpContext context, RequestDelegate downstream, string rawPath)
    {
        await using (var head = await SubRequest.SendAsync(context, downstream, HttpMethods.Head, rawPath, SubrequestHeaders(context, "BulkExpand")))
        {
            if (head.IsSuccess)
            {
                return StatusCodes.Status200OK;
            }

            if (head.Status != StatusCodes.Status404NotFound)
            {
                return head.Status;
            }
        }

        await using var put = await SubRequest.SendAsync(context, downstream, HttpMethods.Put, rawPath, SubrequestHeaders(context, "BulkExpand"));
        return put.IsSuccess ? StatusCodes.Status201Created : put.Status;
    }

    /// <summary>What a subrequest carries of its caller: the token (each item is authorized on its own), the referrer and the agent.</summary>
    private static List<KeyValuePair<string, string>> SubrequestHeaders(HttpContext context, string agent)
    {
        var request = context.Request;
        var headers = new List<KeyValuePair<string, string>>();
        var token = request.Headers["X-Auth-Token"].ToString();
        if (token.Length == 0)
        {
            token = request.Headers["X-Storage-Token"].ToString();
        }

        if (token.Length > 0)
        {
            headers.Add(new("X-Auth-Token", token));
        }

        if (request.Headers.Referer.Count > 0)
        {
            headers.Add(new("Referer", request.Headers.Referer.ToString()));
        }

        headers.Add(new("User-Agent", $"{request.Headers.UserAgent} {agent}"));
        return headers;
    }

    /// <summary>Swift's pax_key_to_swift_header: GNU and BSD tar's user xattrs become Content-Type and object metadata.</summary>
    internal static string? HeaderForPaxKey(string key)
    {
        foreach (var prefix in (string[])["SCHILY.xattr.user.", "LIBARCHIVE.xattr.user."])
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var attribute = key[prefix.Length..];
            if (attribute == "mime_type")
            {
                return "Content-Type";
            }

            if (attribute.StartsWith("meta.", StringComparison.Ordinal) && attribute.Length > "meta.".Length
                && attribute.All(c => c is > ' ' and < (char)0x7F and not ':'))
            {
                return "X-Object-Meta-" + attribute["meta.".Length..];
            }
        }

        return null;
    }

    private static bool IsChunked(HttpRequest request) =>
        request.Headers.TransferEncoding.ToString().Equals("chunked", StringComparison.OrdinalIgnoreCase);

    /// <summary>A name with no "/" once its outer slashes are stripped names a container.</summary>
    private static bool IsContainerName(byte[] name) => !name.AsSpan().Trim((byte)'/').Contains((byte)'/');

    private static bool IsValidName(byte[] name) => !name.AsSpan().Contains((byte)0) && System.Text.Unicode.Utf8.IsValid(name);

    /// <summary>Python's unquote on the stripped line: "%XX" becomes that byte, anything else stays as it is.</summary>
    internal static byte[] Unquote(ReadOnlySpan<byte> line)
    {
        line = line.Trim(" \t\r\n\v\f"u8);
        var result = new byte[line.Length];
        var length = 0;
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '%' && i + 2 < line.Length && IsHex(line[i + 1]) && IsHex(line[i + 2]))
            {
                result[length++] = (byte)((HexValue(line[i + 1]) << 4) | HexValue(line[i + 2]));
                i += 2;
            }
            else
            {
                result[length++] = line[i];
            }
        }

        return result[..length];
    }

    /// <summary>Python's quote with "/" safe: what Swift reports names as.</summary>
    internal static string Quote(ReadOnlySpan<byte> name)
    {
        var text = new StringBuilder(name.Length);
        foreach (var b in name)
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'_' or (byte)'.' or (byte)'-' or (byte)'~' or (byte)'/')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('%').Append(Convert.ToHexString([b]));
            }
        }

        return text.ToString();
    }

    private static string QuoteTruncated(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        return Quote(bytes.AsSpan(0, Math.Min(bytes.Length, MaxPathLength)));
    }

    private static bool IsHex(byte b) => char.IsAsciiHexDigit((char)b);

    private static int HexValue(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;

    /// <summary>swob's Accept.best_match over Swift's acceptable formats: text/plain when there is no Accept, null when none fits.</summary>
    internal static string? BestMatch(string accept)
    {
        if (string.IsNullOrWhiteSpace(accept))
        {
            return AcceptableFormats[0];
        }

        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParseList([accept], out var ranges))
        {
            return null;
        }

        var ordered = ranges
            .Where(r => (r.Quality ?? 1) > 0)
            .OrderByDescending(r => r.Quality ?? 1)
            .ThenBy(r => r.MatchesAllTypes ? 2 : r.MatchesAllSubTypes ? 1 : 0);
        foreach (var range in ordered)
        {
            foreach (var format in AcceptableFormats)
            {
                var slash = format.IndexOf('/', StringComparison.Ordinal);
                var typeMatches = range.MatchesAllTypes || range.Type.Equals(format[..slash], StringComparison.OrdinalIgnoreCase);
                var subtypeMatches = range.MatchesAllSubTypes || range.SubType.Equals(format[(slash + 1)..], StringComparison.OrdinalIgnoreCase);
                if (typeMatches && subtypeMatches)
                {
                    return format;
                }
            }
        }

        return null;
    }

    /// <summary>A refusal of the whole bulk request, reported in the body as Swift's HTTPException is.</summary>
    private sealed class BulkRefusal(int status, string? body = null) : Exception(body)
    {
        public int Status { get; } = status;

        public string Body { get; } = body ?? SwiftResponse.HtmlBody(status);
    }

    /// <summary>
    /// Keeps a long bulk request's connection alive: once <c>YieldFrequency</c> passes with no
    /// output it sends a space (the XML declaration first, for XML), and the report then follows
    /// a blank line, as Swift's heartbeat does.
    /// </summary>
    private sealed class Heartbeat(HttpContext context, TimeProvider time, TimeSpan frequency, string? outType)
    {
        private DateTimeOffset _last = time.GetUtcNow();
        private byte[] _next = outType is not null && outType.EndsWith("/xml", StringComparison.Ordinal) ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"u8.ToArray() : " "u8.ToArray();
        private byte[] _separator = [];

        public async Task BeatAsync()
        {
            var now = time.GetUtcNow();
            if (_last + frequency >= now)
            {
                return;
            }

            _last = now;
            await context.Response.Body.WriteAsync(_next, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            _next = " "u8.ToArray();
            _separator = "\r\n\r\n"u8.ToArray();
        }

        public async Task FinishAsync(byte[] report)
        {
            await context.Response.Body.WriteAsync(_separator, context.RequestAborted);
            await context.Response.Body.WriteAsync(report, context.RequestAborted);
        }
    }
}

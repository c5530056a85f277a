using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>Swift's [filter:slo] options.</summary>
public sealed record StaticLargeObjectSettings
{
    public int MaxManifestSegments { get; init; } = 1000;

    public int MaxManifestSize { get; init; } = 8 * 1024 * 1024;

    /// <summary>Segment HEADs (on PUT) and DELETEs (on multipart delete) in flight at once (Swift's concurrency).</summary>
    public int Concurrency { get; init; } = 2;
}

/// <summary>
/// Swift's slo filter (swift/common/middleware/slo.py): a manifest PUT with
/// ?multipart-manifest=put names segments that are checked and stored as a JSON manifest; a GET
/// of the manifest streams the segments in order, nested manifests too; ?multipart-manifest=get
/// returns the manifest; ?multipart-manifest=delete deletes the segments and the manifest.
/// </summary>
public sealed class StaticLargeObject : IProxyMiddleware
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    private readonly StaticLargeObjectSettings _settings;

    public StaticLargeObject(StaticLargeObjectSettings settings, SwiftInfo info)
    {
        _settings = settings;
        info.Register("slo", new JsonObject
        {
            ["max_manifest_segments"] = settings.MaxManifestSegments,
            ["max_manifest_size"] = settings.MaxManifestSize,
            ["yield_frequency"] = 10,
            ["min_segment_size"] = 1,
            ["allow_async_delete"] = false,
        });
    }

    public string Name => "slo";

    public Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        var swift = SwiftContext.Get(context);
        if (swift?.ObjectName is null)
        {
            return downstream(context);
        }

        var method = context.Request.Method;
        var mode = context.Request.Query["multipart-manifest"].ToString();
        if (HttpMethods.IsPut(method) && mode == "put")
        {
            return PutManifestAsync(context, swift, downstream);
        }

        if (HttpMethods.IsDelete(method) && mode == "delete")
        {
            return DeleteManifestAsync(context, swift, downstream);
        }

        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method))
        {
            return GetAsync(context, swift, downstream, mode == "get");
        }

        if (context.Request.Headers.ContainsKey("X-Static-Large-Object"))
        {
            return SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest,
                "X-Static-Large-Object is a reserved header. To create a static large object add query param multipart-manifest=put.");
        }

        return downstream(context);
    }

    private static bool IsSlo(IHeaderDictionary headers) => ListingRequest.IsTrue(headers["X-Static-Large-Object"].ToString());

    private static async Task GetAsync(HttpContext context, SwiftContext swift, RequestDelegate downstream, bool manifestGet)
    {
        var first = await LargeObjects.ForwardAsync(context, downstream);
        await using (first)
        {
            if (!IsSlo(first.Headers))
            {
                await LargeObjects.RelayAsync(context, first);
                return;
            }

            if (manifestGet)
            {
                await ReturnManifestAsync(context, first);
                return;
            }

            string manifestText;
            IHeaderDictionary manifestHeaders;
            SubResponse? refetched = null;
            if (HttpMethods.IsGet(context.Request.Method) && first.Status == StatusCodes.Status200OK)
            {
                manifestText = await first.ReadTextAsync(context.RequestAborted);
                manifestHeaders = first.Headers;
            }
            else
            {
                // A HEAD, or a range or condition the object server applied to the manifest itself: read the whole manifest.
                refetched = await SubRequest.SendAsync(context, downstream, "GET", LargeObjects.RawPath(context) + "?multipart-manifest=get");
                if (!refetched.IsSuccess || !IsSlo(refetched.Headers))
                {
                    await using (refetched)
                    {
                        await LargeObjects.RelayAsync(context, refetched);
                        return;
                    }
                }

                manifestText = await refetched.ReadTextAsync(context.RequestAborted);
                manifestHeaders = refetched.Headers;
            }

            await using (refetched)
            {
                var segments = SloManifest.ParseStored(manifestText);
                if (segments is null)
                {
                    await SwiftResponse.WriteAsync(context, StatusCodes.Status500InternalServerError, "Unable to load SLO manifest");
                    return;
                }

                var size = segments.Sum(s => s.Length);
                var etag = $"\"{SloManifest.Etag(segments)}\"";
                var manifestEtag = LargeObjects.Unquote(manifestHeaders.ETag.ToString());
                var name = LargeObjects.RawPath(context);
                await LargeObjects.WriteAsync(context, manifestHeaders, size, etag,
                    (start, last) => PlanAsync(context, downstream, swift, name, segments, start, last, 1, new Dictionary<string, List<SloSegment>>(StringComparer.Ordinal)),
                    downstream,
                    headers => headers["X-Manifest-Etag"] = manifestEtag);
            }
        }
    }

    /// <summary>?multipart-manifest=get: the stored manifest as JSON, or with format=raw in the form a client PUTs.</summary>
    private static async Task ReturnManifestAsync(HttpContext context, SubResponse manifest)
    {
        if (context.Request.Query["format"].ToString() != "raw")
        {
            await LargeObjects.RelayAsync(context, manifest, headers => headers.ContentType = "application/json; charset=utf-8");
            return;
        }

        var stored = await manifest.ReadTextAsync(context.RequestAborted);
        var raw = Encoding.UTF8.GetBytes(SloManifest.ToRaw(stored));
        var response = context.Response;
        response.StatusCode = manifest.Status;
        foreach (var (name, values) in manifest.Headers)
        {
            response.Headers[name] = values;
        }

        // The large object's Content-Type, not application/json, so the raw manifest can be PUT back as it is.
        response.Headers.ContentType = LargeObjects.CleanContentType(manifest.Headers.ContentType.ToString());
        response.Headers.ETag = LargeObjects.Md5Hex(raw);
        response.ContentLength = raw.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(raw, context.RequestAborted);
        }
    }

    /// <summary>
    /// The pieces of segments that make up bytes first..last of the large object, descending into
    /// nested manifests (at most ten deep) only where the range needs them (Swift's _byterange_listing_iterator).
    /// </summary>
    private static async IAsyncEnumerable<SegmentRead> PlanAsync(HttpContext context, RequestDelegate downstream, SwiftContext swift, string name, List<SloSegment> segments, long first, long last, int depth, Dictionary<string, List<SloSegment>> subManifests)
    {
        foreach (var segment in segments)
        {
            var length = segment.Length;
            if (first >= length)
            {
                first -= length;
                last -= length;
                continue;
            }

            if (last < 0)
            {
                yield break;
            }

            if (segment.Data is not null)
            {
                yield return new SegmentRead(null, Math.Max(0, first), Math.Min(length - 1, last), null, segment.Data.Length, segment.Data);
            }
            else
            {
                var (start, end) = segment.Bounds;
                if (segment.SubSlo)
                {
                    if (depth >= SloManifest.MaxRecursionDepth)
                    {
                        throw new SegmentException(StatusCodes.Status409Conflict, $"While processing manifest {name}, max recursion depth was exceeded");
                    }

                    if (!subManifests.TryGetValue(segment.Name!, out var inner))
                    {
                        inner = await FetchSubManifestAsync(context, downstream, swift, name, segment.Name!);
                        subManifests[segment.Name!] = inner;
                    }

                    await foreach (var piece in PlanAsync(context, downstream, swift, name, inner, start + Math.Max(0, first), Math.Min(end, start + last), depth + 1, subManifests))
                    {
                        yield return piece;
                    }
                }
                else
                {
                    yield return new SegmentRead(LargeObjects.ObjectPath(swift, segment.Name!), Math.Max(0, first) + start, Math.Min(end, start + last), segment.Hash, segment.Bytes);
                }
            }

            first -= length;
            last -= length;
        }
    }

    private static async Task<List<SloSegment>> FetchSubManifestAsync(HttpContext context, RequestDelegate downstream, SwiftContext swift, string name, string segmentName)
    {
        var path = LargeObjects.ObjectPath(swift, segmentName);
        await using var response = await SubRequest.SendAsync(context, downstream, "GET", path + "?multipart-manifest=get");
        var body = await response.ReadTextAsync(context.RequestAborted);
        if (!response.IsSuccess)
        {
            throw new SegmentException(StatusCodes.Status409Conflict, $"while fetching {name}, GET of submanifest {path} failed with status {response.Status} ({(body.Length <= 60 ? body : body[..57] + "...")})");
        }

        return SloManifest.ParseStored(body)
            ?? throw new SegmentException(StatusCodes.Status409Conflict, $"while fetching {name}, JSON-decoding of submanifest {path} failed");
    }

    /// <summary>
    /// PUT ?multipart-manifest=put: HEADs every segment (through this filter, so a nested manifest
    /// answers with its own size and ETag), refuses with the list of problems and stores nothing,
    /// or stores the manifest with X-Static-Large-Object and swift_bytes, answering the large
    /// object's quoted ETag.
    /// </summary>
    private async Task PutManifestAsync(HttpContext context, SwiftContext swift, RequestDelegate downstream)
    {
        var request = context.Request;
        if (request.Headers.ContainsKey("X-Copy-From"))
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "Multipart Manifest PUTs cannot be COPY requests");
            return;
        }

        var tooLarge = $"Manifest File > {_settings.MaxManifestSize.ToString(CultureInfo.InvariantCulture)} bytes";
        if (request.ContentLength is null && !request.Headers.TransferEncoding.ToString().Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status411LengthRequired);
            return;
        }

        if (request.ContentLength > _settings.MaxManifestSize)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, tooLarge);
            return;
        }

        var body = await ReadUpToAsync(request.Body, _settings.MaxManifestSize + 1, context.RequestAborted);
        if (body.Length > _settings.MaxManifestSize)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, tooLarge);
            return;
        }

        var (inputs, error) = SloManifest.ParseInput(body, swift.Container!, swift.ObjectName!);
        if (inputs is null)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, error);
            return;
        }

        if (inputs.Count(s => s.Path is not null) > _settings.MaxManifestSegments)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge,
                $"Number of object-backed segments must be <= {_settings.MaxManifestSegments.ToString(CultureInfo.InvariantCulture)}");
            return;
        }

        var format = LargeObjects.BestFormat(request.Headers.Accept.ToString()) ?? "text/plain";
        var heads = new ConcurrentDictionary<string, SegmentHead>(StringComparer.Ordinal);
        var self = (RequestDelegate)(sub => InvokeAsync(sub, downstream));
        await Parallel.ForEachAsync(
            inputs.Where(s => s.Path is not null).Select(s => s.Path!).Distinct(StringComparer.Ordinal),
            new ParallelOptions { MaxDegreeOfParallelism = _settings.Concurrency, CancellationToken = context.RequestAborted },
            async (path, _) =>
            {
                await using var head = await SubRequest.SendAsync(context, self, "HEAD", LargeObjects.ObjectPath(swift, path));
                heads[path] = new SegmentHead(head.Status, head.Headers.ContentLength ?? 0, LargeObjects.Unquote(head.Headers.ETag.ToString()),
                    LargeObjects.CleanContentType(head.Headers.ContentType.ToString()), head.Headers.LastModified.ToString(), IsSlo(head.Headers));
            });

        var problems = new List<(string Name, string Status)>();
        var stored = new JsonArray();
        var segments = new List<SloSegment>();
        var total = 0L;
        foreach (var input in inputs)
        {
            if (input.Data is { } data)
            {
                stored.Add(new JsonObject { ["data"] = Convert.ToBase64String(data) });
                segments.Add(new SloSegment(null, 0, string.Empty, null, false, data));
                total += data.Length;
                continue;
            }

            var (entry, segment) = Validate(input, heads[input.Path!], input.Index == inputs[^1].Index, problems);
            if (entry is not null)
            {
                stored.Add(entry);
                segments.Add(segment!);
                total += segment!.Length;
            }
        }

        if (problems.Count > 0)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = format;
            await context.Response.WriteAsync(LargeObjects.ResultBody(format, [], problems, "upload"), context.RequestAborted);
            return;
        }

        var sloEtag = SloManifest.Etag(segments);
        if (request.Headers.ETag.Count > 0 && LargeObjects.Unquote(request.Headers.ETag.ToString()) != sloEtag)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status422UnprocessableEntity);
            return;
        }

        var json = Encoding.UTF8.GetBytes(PythonJson.Serialize(stored));
        var contentType = request.ContentType;
        if (string.IsNullOrEmpty(contentType) || ListingRequest.IsTrue(request.Headers["X-Detect-Content-Type"].ToString()))
        {
            contentType = ContentTypes.TryGetContentType(swift.ObjectName!, out var guessed) ? guessed : "application/octet-stream";
        }

        var headers = LargeObjects.ClientHeaders(request, name =>
            name.Equals("ETag", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)
            || name.Equals("X-Detect-Content-Type", StringComparison.OrdinalIgnoreCase) || name.Equals("X-Static-Large-Object", StringComparison.OrdinalIgnoreCase));
        headers.Add(new("Content-Type", $"{contentType};swift_bytes={total.ToString(CultureInfo.InvariantCulture)}"));
        headers.Add(new("X-Static-Large-Object", "True"));
        headers.Add(new("ETag", LargeObjects.Md5Hex(json)));
        await using var put = await SubRequest.SendAsync(context, downstream, "PUT", LargeObjects.RawPath(context), headers, new MemoryStream(json), json.Length);
        if (!put.IsSuccess)
        {
            await LargeObjects.RelayAsync(context, put);
            return;
        }

        context.Response.Headers.LastModified = put.Headers.LastModified;
        context.Response.Headers.ETag = $"\"{sloEtag}\"";
        await SwiftResponse.WriteAsync(context, put.Status);
    }

    private sealed record SegmentHead(int Status, long Length, string Etag, string ContentType, string LastModified, bool IsSlo);

    /// <summary>Swift's validate_seg_dict: the stored entry for one segment, noting any problems.</summary>
    private static (JsonObject? Entry, SloSegment? Segment) Validate(SloInput input, SegmentHead head, bool last, List<(string Name, string Status)> problems)
    {
        var quoted = LargeObjects.Quote(input.Path!);
        if (head.Status is < 200 or >= 300)
        {
            problems.Add((quoted, LargeObjects.StatusLine(head.Status)));
            return (null, null);
        }

        var length = head.Length;
        string? range = null;
        if (input.Range is { } requested)
        {
            var ranges = ObjectDelivery.ParseRanges("bytes=" + requested, head.Length);
            if (ranges is null or { Count: 0 })
            {
                problems.Add((quoted, "Unsatisfiable Range"));
            }
            else if (ranges[0] != (0, head.Length - 1))
            {
                // A range that covers the whole object is dropped, as Swift does.
                range = string.Create(CultureInfo.InvariantCulture, $"{ranges[0].Start}-{ranges[0].End}");
                length = ranges[0].End - ranges[0].Start + 1;
            }
        }

        if (length < 1 && !last)
        {
            problems.Add((quoted, "Too small; each segment must be at least 1 byte."));
        }

        if (input.SizeBytes is { } size && size != head.Length)
        {
            problems.Add((quoted, "Size Mismatch"));
        }

        if (input.Etag is { } etag && etag != head.Etag)
        {
            problems.Add((quoted, "Etag Mismatch"));
        }

        var modified = ObjectDelivery.TryParseHttpDate(head.LastModified, out var date) ? date : DateTimeOffset.UnixEpoch;
        var name = "/" + input.Path!.TrimStart('/');
        var entry = new JsonObject
        {
            ["name"] = name,
            ["bytes"] = head.Length,
            ["hash"] = head.Etag,
            ["content_type"] = head.ContentType,
            ["last_modified"] = modified.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        };
        if (range is not null)
        {
            entry["range"] = range;
        }

        if (head.IsSlo)
        {
            entry["sub_slo"] = true;
        }

        return (entry, new SloSegment(name, head.Length, head.Etag, range, head.IsSlo, null));
    }

    private static async Task<byte[]> ReadUpToAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        while (buffer.Length < limit)
        {
            var read = await body.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, limit - buffer.Length)), cancellationToken);
            if (read == 0)
            {
                break;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// DELETE ?multipart-manifest=delete: deletes every segment, those of nested manifests too,
    /// then the manifests, and answers 200 with a bulk-delete result (Swift's Bulk.handle_delete_iter).
    /// </summary>
    private async Task DeleteManifestAsync(HttpContext context, SwiftContext swift, RequestDelegate downstream)
    {
        var format = LargeObjects.BestFormat(context.Request.Headers.Accept.ToString());
        var deleted = 0;
        var notFound = 0;
        var failed = new List<(string Name, string Status)>();
        var failedStatus = StatusCodes.Status400BadRequest;
        string responseStatus;
        var responseBody = string.Empty;
        if (format is null)
        {
            responseStatus = LargeObjects.StatusLine(StatusCodes.Status406NotAcceptable);
            var (title, explanation) = SwiftResponse.Reason(StatusCodes.Status406NotAcceptable);
            responseBody = $"<html><h1>{title}</h1><p>{explanation}</p></html>";
        }
        else
        {
            var toDelete = new List<string>();
            var tooMany = false;
            var queue = new List<(string Name, bool SubSlo, (int Code, string Message)? Error)> { ($"/{swift.Container}/{swift.ObjectName}", true, null) };
            while (queue.Count > 0)
            {
                if (queue.Count > _settings.MaxManifestSegments * 10)
                {
                    // Bounds the work one request can ask for, as Swift does.
                    tooMany = true;
                    toDelete.Clear();
                    break;
                }

                var (name, subSlo, _) = queue[0];
                queue.RemoveAt(0);
                if (!subSlo)
                {
                    toDelete.Add(name);
                    continue;
                }

                var (segments, problem) = await ManifestSegmentsAsync(context, swift, downstream, name);
                if (problem is { } error)
                {
                    if (error.Code == StatusCodes.Status404NotFound)
                    {
                        notFound++;
                    }
                    else
                    {
                        failed.Add((LargeObjects.Quote(name), error.Message));
                    }

                    continue;
                }

                queue.AddRange(segments!.Where(s => s.Data is null).Select(s => (s.Name!, s.SubSlo, ((int, string)?)null)));
                queue.Add((name, false, null));
            }

            await Parallel.ForEachAsync(toDelete, new ParallelOptions { MaxDegreeOfParallelism = _settings.Concurrency, CancellationToken = context.RequestAborted }, async (name, _) =>
            {
                await using var response = await SubRequest.SendAsync(context, downstream, "DELETE", LargeObjects.ObjectPath(swift, name));
                lock (failed)
                {
                    if (response.IsSuccess)
                    {
                        deleted++;
                    }
                    else if (response.Status == StatusCodes.Status404NotFound)
                    {
                        notFound++;
                    }
                    else
                    {
                        if (response.Status >= 500)
                        {
                            failedStatus = StatusCodes.Status502BadGateway;
                        }

                        failed.Add((LargeObjects.Quote(name), LargeObjects.StatusLine(response.Status)));
                    }
                }
            });

            responseStatus = LargeObjects.StatusLine(StatusCodes.Status200OK);
            if (tooMany)
            {
                responseStatus = LargeObjects.StatusLine(StatusCodes.Status400BadRequest);
                responseBody = "Too many buffered slo segments to delete.";
            }
            else if (failed.Count > 0)
            {
                responseStatus = LargeObjects.StatusLine(failedStatus);
            }
            else if (deleted == 0 && notFound == 0)
            {
                responseStatus = LargeObjects.StatusLine(StatusCodes.Status400BadRequest);
                responseBody = "Invalid bulk delete.";
            }
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        if (format is not null)
        {
            context.Response.ContentType = format;
        }

        List<KeyValuePair<string, JsonNode?>> fields =
        [
            new("Response Status", responseStatus),
            new("Response Body", responseBody),
            new("Number Deleted", deleted),
            new("Number Not Found", notFound),
        ];
        await context.Response.WriteAsync(LargeObjects.ResultBody(format, fields, failed, "delete"), context.RequestAborted);
    }

    /// <summary>Swift's get_slo_segments: a manifest's entries, or why they cannot be had.</summary>
    private static async Task<(List<SloSegment>? Segments, (int Code, string Message)? Error)> ManifestSegmentsAsync(HttpContext context, SwiftContext swift, RequestDelegate downstream, string name)
    {
        await using var response = await SubRequest.SendAsync(context, downstream, "GET", LargeObjects.ObjectPath(swift, name) + "?multipart-manifest=get");
        if (response.IsSuccess)
        {
            if (!IsSlo(response.Headers))
            {
                return (null, (StatusCodes.Status400BadRequest, "Not an SLO manifest"));
            }

            var segments = SloManifest.ParseStored(await response.ReadTextAsync(context.RequestAborted));
            return segments is null ? (null, (StatusCodes.Status500InternalServerError, "Unable to load SLO manifest")) : (segments, null);
        }

        return response.Status switch
        {
            StatusCodes.Status404NotFound => (null, (StatusCodes.Status404NotFound, "SLO manifest not found")),
            StatusCodes.Status401Unauthorized => (null, (StatusCodes.Status401Unauthorized, "401 Unauthorized")),
            _ => (null, (StatusCodes.Status500InternalServerError, "Unable to load SLO manifest or segment.")),
        };
    }
}

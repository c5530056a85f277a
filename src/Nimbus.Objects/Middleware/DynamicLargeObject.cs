using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Common;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>Nimbus's bound on a dynamic large object, which Swift leaves to its rate limit and max_get_time.</summary>
public sealed record DynamicLargeObjectSettings
{
    /// <summary>The most segments one GET concatenates; past it the connection is dropped.</summary>
    public int MaxSegments { get; init; } = 100_000;
}

/// <summary>
/// Swift's dlo filter (swift/common/middleware/dlo.py): an object with
/// <c>X-Object-Manifest: container/prefix</c> reads as the concatenation of every object listed
/// under that prefix, in name order; ?multipart-manifest=get returns the manifest object itself.
/// </summary>
public sealed class DynamicLargeObject : IProxyMiddleware
{
    private readonly DynamicLargeObjectSettings _settings;

    public DynamicLargeObject(DynamicLargeObjectSettings settings, SwiftInfo info)
    {
        _settings = settings;
        info.Register("dlo", new JsonObject { ["max_segments"] = settings.MaxSegments });
    }

    public string Name => "dlo";

    public Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        var swift = SwiftContext.Get(context);
        if (swift?.ObjectName is null)
        {
            return downstream(context);
        }

        var method = context.Request.Method;
        if ((HttpMethods.IsGet(method) || HttpMethods.IsHead(method)) && context.Request.Query["multipart-manifest"].ToString() != "get")
        {
            return GetAsync(context, swift, downstream);
        }

        if (HttpMethods.IsPut(method) && context.Request.Headers.TryGetValue("X-Object-Manifest", out var manifest))
        {
            var value = manifest.ToString();
            var slash = value.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0 || slash == value.Length - 1 || value.Contains('?', StringComparison.Ordinal) || value.Contains('&', StringComparison.Ordinal) || value[slash + 1] == '/')
            {
                return SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "X-Object-Manifest must be in the format container/prefix");
            }
        }

        return downstream(context);
    }

    private sealed record Listed(string Name, long Bytes, string Hash);

    private async Task GetAsync(HttpContext context, SwiftContext swift, RequestDelegate downstream)
    {
        await using var first = await LargeObjects.ForwardAsync(context, downstream);
        var manifest = first.Headers["X-Object-Manifest"].ToString();
        if (manifest.Length == 0)
        {
            await LargeObjects.RelayAsync(context, first);
            return;
        }

        var value = Uri.UnescapeDataString(Constraints.FromWire(manifest));
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        var container = slash < 0 ? value : value[..slash];
        var prefix = slash < 0 ? string.Empty : value[(slash + 1)..];
        var (error, segments) = await ListAsync(context, swift, downstream, container, prefix, null);
        if (error is not null)
        {
            await using (error)
            {
                await LargeObjects.RelayAsync(context, error);
                return;
            }
        }

        var complete = segments!.Count < Constraints.ContainerListingLimit;
        var name = LargeObjects.RawPath(context);
        IAsyncEnumerable<SegmentRead> Plan(long start, long last) => PlanAsync(context, swift, downstream, container, prefix, segments, start, last, name);
        if (complete)
        {
            // Swift honours one range on a DLO and answers a multi-range request with the whole object.
            if (context.Request.Headers.Range.ToString() is { Length: > 0 } range && range.Contains(',', StringComparison.Ordinal))
            {
                context.Request.Headers.Remove("Range");
            }

            var etag = $"\"{LargeObjects.Md5Hex(Encoding.UTF8.GetBytes(string.Concat(segments.Select(s => LargeObjects.Unquote(s.Hash)))))}\"";
            await LargeObjects.WriteAsync(context, first.Headers, segments.Sum(s => s.Bytes), etag, Plan, downstream);
            return;
        }

        // More segments than one listing page: Swift streams them with no length, ETag or ranges.
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        foreach (var (header, values) in first.Headers)
        {
            if (!header.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && !header.Equals("Content-Range", StringComparison.OrdinalIgnoreCase)
                && !header.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                response.Headers[header] = values;
            }
        }

        response.Headers.ContentType = LargeObjects.CleanContentType(first.Headers.ContentType.ToString());
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        await using var body = new SegmentedStream(context, downstream, Plan(0, long.MaxValue), name);
        try
        {
            await body.CopyToAsync(response.Body, 64 * 1024, context.RequestAborted);
        }
        catch (SegmentException ex) when (!response.HasStarted)
        {
            response.Clear();
            await SwiftResponse.WriteAsync(context, ex.Status);
        }
    }

    /// <summary>One page of the segment container's listing under the prefix, or the failed listing's response.</summary>
    private static async Task<(SubResponse? Error, List<Listed>? Segments)> ListAsync(HttpContext context, SwiftContext swift, RequestDelegate downstream, string container, string prefix, string? marker)
    {
        var path = $"/{swift.Version}/{SwiftPath.Encode(swift.Account)}/{SwiftPath.Encode(container)}?format=json&prefix={SwiftPath.Encode(prefix)}"
            + (marker is null ? string.Empty : "&marker=" + SwiftPath.Encode(marker));
        var response = await SubRequest.SendAsync(context, downstream, "GET", path);
        if (!response.IsSuccess)
        {
            return (response, null);
        }

        await using (response)
        {
            var listing = new List<Listed>();
            var text = await response.ReadTextAsync(context.RequestAborted);
            if (text.Length == 0)
            {
                return (null, listing);
            }

            using var document = JsonDocument.Parse(text);
            foreach (var item in document.RootElement.EnumerateArray())
            {
                if (item.TryGetProperty("name", out var itemName))
                {
                    listing.Add(new Listed(itemName.GetString()!, item.GetProperty("bytes").GetInt64(), item.GetProperty("hash").GetString() ?? string.Empty));
                }
            }

            return (null, listing);
        }
    }

    /// <summary>The pieces of segments for bytes first..last, paging through the listing past its first 10,000 entries.</summary>
    private async IAsyncEnumerable<SegmentRead> PlanAsync(HttpContext context, SwiftContext swift, RequestDelegate downstream, string container, string prefix, List<Listed> segments, long first, long last, string name)
    {
        var count = 0;
        while (true)
        {
            foreach (var segment in segments)
            {
                if (first >= segment.Bytes)
                {
                    first = Math.Max(first - segment.Bytes, -1);
                    last = last == long.MaxValue ? last : Math.Max(last - segment.Bytes, -1);
                    continue;
                }

                if (last < 0)
                {
                    yield break;
                }

                if (++count > _settings.MaxSegments)
                {
                    throw new SegmentException(StatusCodes.Status409Conflict, $"While processing manifest {name}, more than {_settings.MaxSegments.ToString(CultureInfo.InvariantCulture)} segments");
                }

                var path = $"/{swift.Version}/{SwiftPath.Encode(swift.Account)}/{SwiftPath.Encode(container)}/{SwiftPath.Encode(segment.Name, keepSlashes: true)}";
                yield return new SegmentRead(path, Math.Max(0, first), last == long.MaxValue ? long.MaxValue : Math.Min(last, segment.Bytes - 1), null, segment.Bytes);
                first = Math.Max(first - segment.Bytes, -1);
                last = last == long.MaxValue ? last : Math.Max(last - segment.Bytes, -1);
            }

            if (segments.Count < Constraints.ContainerListingLimit || last < 0)
            {
                yield break;
            }

            var (error, next) = await ListAsync(context, swift, downstream, container, prefix, segments[^1].Name);
            if (error is not null)
            {
                var status = error.Status;
                await error.DisposeAsync();
                throw new SegmentException(StatusCodes.Status409Conflict, $"Got status {status.ToString(CultureInfo.InvariantCulture)} listing container /{swift.Account}/{container}");
            }

            segments = next!;
        }
    }
}

using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Common;

namespace Nimbus.Objects.Http;

/// <summary>
/// Answers GET and HEAD for a stored object: conditional requests (RFC 9110 §13) and byte ranges
/// (RFC 9110 §14), including multipart/byteranges, streamed from the data with a pooled buffer.
/// </summary>
public static class ObjectDelivery
{
    /// <summary>Swift stops honouring a Range header with more ranges than this and sends the whole object.</summary>
    public const int MaxRanges = 50;

    private const int BufferSize = 64 * 1024;

    /// <summary>Applies If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since; returns the status to answer instead, if any.</summary>
    public static int? EvaluateConditions(HttpRequest request, string etag, SwiftTimestamp lastModified)
    {
        var ifMatch = request.Headers.IfMatch.ToString();
        if (ifMatch.Length > 0 && !EtagListMatches(ifMatch, etag))
        {
            return StatusCodes.Status412PreconditionFailed;
        }

        var modifiedSeconds = (lastModified.Ticks + SwiftTimestamp.TicksPerSecond - 1) / SwiftTimestamp.TicksPerSecond;
        if (ifMatch.Length == 0 && TryParseHttpDate(request.Headers.IfUnmodifiedSince.ToString(), out var unmodifiedSince)
            && modifiedSeconds > unmodifiedSince.ToUnixTimeSeconds())
        {
            return StatusCodes.Status412PreconditionFailed;
        }

        var ifNoneMatch = request.Headers.IfNoneMatch.ToString();
        if (ifNoneMatch.Length > 0)
        {
            return EtagListMatches(ifNoneMatch, etag) ? StatusCodes.Status304NotModified : null;
        }

        if (TryParseHttpDate(request.Headers.IfModifiedSince.ToString(), out var modifiedSince)
            && modifiedSeconds <= modifiedSince.ToUnixTimeSeconds())
        {
            return StatusCodes.Status304NotModified;
        }

        return null;
    }

    /// <summary>
    /// Parses a Range header against a length. Null means "send everything" (absent, malformed, or
    /// too many ranges); an empty list means unsatisfiable (416).
    /// </summary>
    public static List<(long Start, long End)>? ParseRanges(string header, long length)
    {
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var specs = header[6..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (specs.Length == 0 || specs.Length > MaxRanges)
        {
            return null;
        }

        var ranges = new List<(long, long)>();
        foreach (var spec in specs)
        {
            var dash = spec.IndexOf('-', StringComparison.Ordinal);
            if (dash < 0)
            {
                return null;
            }

            var first = spec[..dash].Trim();
            var last = spec[(dash + 1)..].Trim();
            if (first.Length == 0)
            {
                if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix))
                {
                    return null;
                }

                if (suffix > 0 && length > 0)
                {
                    ranges.Add((Math.Max(0, length - suffix), length - 1));
                }

                continue;
            }

            if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            {
                return null;
            }

            var end = length - 1;
            if (last.Length > 0)
            {
                if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out end) || end < start)
                {
                    return null;
                }

                end = Math.Min(end, length - 1);
            }

            if (start < length)
            {
                ranges.Add((start, end));
            }
        }

        return ranges;
    }

    /// <summary>Writes the body (or, for HEAD, only the headers) of a present object.</summary>
    public static async Task WriteAsync(HttpContext context, Func<long, Stream> openAt, long length, string contentType)
    {
        var request = context.Request;
        var response = context.Response;
        var head = HttpMethods.IsHead(request.Method);
        response.Headers.AcceptRanges = "bytes";
        var rangeHeader = request.Headers.Range.ToString();
        var ranges = rangeHeader.Length > 0 ? ParseRanges(rangeHeader, length) : null;
        if (ranges is { Count: 0 })
        {
            response.Headers.ContentRange = $"bytes */{length}";
            await SwiftResponse.WriteAsync(context, StatusCodes.Status416RangeNotSatisfiable);
            return;
        }

        if (ranges is null)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = contentType;
            response.ContentLength = length;
            if (!head)
            {
                await CopyAsync(openAt(0), length, response.Body, context.RequestAborted);
            }

            return;
        }

        response.StatusCode = StatusCodes.Status206PartialContent;
        if (ranges.Count == 1)
        {
            var (start, end) = ranges[0];
            response.ContentType = contentType;
            response.Headers.ContentRange = $"bytes {start}-{end}/{length}";
            response.ContentLength = end - start + 1;
            if (!head)
            {
                await CopyAsync(openAt(start), end - start + 1, response.Body, context.RequestAborted);
            }

            return;
        }

        var boundary = Guid.NewGuid().ToString("N");
        var parts = ranges.Select(r => (r.Start, r.End, Header: Encoding.ASCII.GetBytes(
            $"--{boundary}\r\nContent-Type: {contentType}\r\nContent-Range: bytes {r.Start}-{r.End}/{length}\r\n\r\n"))).ToList();
        var trailer = Encoding.ASCII.GetBytes($"--{boundary}--");
        var crlf = "\r\n"u8.ToArray();
        response.ContentType = $"multipart/byteranges;boundary={boundary}";
        response.ContentLength = parts.Sum(p => p.Header.Length + (p.End - p.Start + 1) + crlf.Length) + trailer.Length;
        if (head)
        {
            return;
        }

        foreach (var (start, end, header) in parts)
        {
            await response.Body.WriteAsync(header, context.RequestAborted);
            await CopyAsync(openAt(start), end - start + 1, response.Body, context.RequestAborted);
            await response.Body.WriteAsync(crlf, context.RequestAborted);
        }

        await response.Body.WriteAsync(trailer, context.RequestAborted);
    }

    /// <summary>Copies exactly <paramref name="count"/> bytes, disposing the source.</summary>
    public static async Task CopyAsync(Stream source, long count, Stream destination, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            await using (source)
            {
                while (count > 0)
                {
                    var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken);
                    if (read == 0)
                    {
                        throw new IOException("the object's data ended before its recorded length");
                    }

                    await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    count -= read;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static bool TryParseHttpDate(string text, out DateTimeOffset date) =>
        DateTimeOffset.TryParseExact(text, "r", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out date)
        || DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out date);

    private static bool EtagListMatches(string list, string etag)
    {
        foreach (var candidate in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (candidate == "*" || candidate.Trim('"') == etag.Trim('"'))
            {
                return true;
            }
        }

        return false;
    }
}

using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>
/// A large object's body as one read-only stream (Swift's SegmentedIterable): it asks for each
/// segment with a GET subrequest as the reader reaches it, checks the segment is still the one
/// the manifest names (ETag and size), verifies the MD5 of every segment it reads whole, and
/// holds at most one segment's subrequest open at a time.
/// </summary>
internal sealed class SegmentedStream(HttpContext parent, RequestDelegate downstream, IAsyncEnumerable<SegmentRead> plan, string name) : ReadOnlyStream
{
    private IAsyncEnumerator<SegmentRead>? _segments;
    private SubResponse? _current;
    private string? _currentPath;
    private string? _currentEtag;
    private long? _currentLength;
    private IncrementalHash? _md5;
    private long _currentRead;
    private ReadOnlyMemory<byte> _data;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_data.Length > 0)
            {
                var count = Math.Min(buffer.Length, _data.Length);
                _data[..count].CopyTo(buffer);
                _data = _data[count..];
                return count;
            }

            if (_current is not null)
            {
                var read = await _current.Body.ReadAsync(buffer, cancellationToken);
                if (read > 0)
                {
                    _md5?.AppendData(buffer.Span[..read]);
                    _currentRead += read;
                    return read;
                }

                await FinishSegmentAsync();
                continue;
            }

            _segments ??= plan.GetAsyncEnumerator(cancellationToken);
            if (!await _segments.MoveNextAsync())
            {
                return 0;
            }

            await OpenAsync(_segments.Current);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read large objects asynchronously");

    private async Task OpenAsync(SegmentRead segment)
    {
        if (segment.Data is { } data)
        {
            _data = data.AsMemory((int)segment.First, (int)(segment.Last - segment.First + 1));
            return;
        }

        var toEnd = segment.Last == long.MaxValue || (segment.Size is { } size && segment.Last == size - 1);
        var ranged = segment.First != 0 || !toEnd;
        List<KeyValuePair<string, string>> headers = [];
        if (ranged)
        {
            headers.Add(new("Range", string.Create(CultureInfo.InvariantCulture, $"bytes={segment.First}-{(toEnd ? string.Empty : segment.Last.ToString(CultureInfo.InvariantCulture))}")));
        }

        // multipart-manifest=get makes the segment a plain object, so its ETag is its MD5.
        var response = await SubRequest.SendAsync(parent, downstream, "GET", segment.Path + "?multipart-manifest=get", headers);
        if (!response.IsSuccess)
        {
            var body = await response.ReadTextAsync(parent.RequestAborted);
            await response.DisposeAsync();
            var message = $"While processing manifest {name}, got {response.Status} ({(body.Length <= 60 ? body : body[..57] + "...")}) while retrieving {segment.Path}";
            throw new SegmentException(response.Status >= 500 ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status409Conflict, message);
        }

        var etag = LargeObjects.Unquote(response.Headers.ETag.ToString());
        var length = response.Headers.ContentLength;
        if ((segment.Etag is not null && etag != segment.Etag) || (segment.Size is not null && !ranged && length != segment.Size))
        {
            await response.DisposeAsync();
            throw new SegmentException(StatusCodes.Status409Conflict, $"Object segment no longer valid: {segment.Path} etag: {etag} != {segment.Etag} or {length} != {segment.Size}.");
        }

        _current = response;
        _currentPath = segment.Path;
        _currentEtag = etag;
        _currentLength = length;
        _currentRead = 0;
        _md5 = !ranged && etag.Length > 0 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
    }

    private async Task FinishSegmentAsync()
    {
        var md5 = _md5;
        _md5 = null;
        await _current!.DisposeAsync();
        _current = null;
        if (md5 is null)
        {
            return;
        }

        using (md5)
        {
            if (_currentRead != _currentLength)
            {
                throw new SegmentException(StatusCodes.Status409Conflict, $"Bad response length for {_currentPath} as part of {name}: headers had {_currentLength}, but response length was actually {_currentRead}");
            }

            var actual = Convert.ToHexStringLower(md5.GetHashAndReset());
            if (actual != _currentEtag)
            {
                throw new SegmentException(StatusCodes.Status409Conflict, $"Bad MD5 checksum for {_currentPath} as part of {name}: headers had {_currentEtag}, but object MD5 was actually {actual}");
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        _md5?.Dispose();
        _md5 = null;
        if (_current is not null)
        {
            await _current.DisposeAsync();
            _current = null;
        }

        if (_segments is not null)
        {
            await _segments.DisposeAsync();
            _segments = null;
        }

        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && (_current is not null || _segments is not null))
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }
}

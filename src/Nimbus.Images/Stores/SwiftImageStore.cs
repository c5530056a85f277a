using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Nimbus.Images.Stores;

/// <summary>Settings of <see cref="SwiftImageStore"/>.</summary>
internal sealed record SwiftImageStoreOptions
{
    /// <summary>The container images live in (glance_store's swift_store_container); segments go to <c>&lt;container&gt;_segments</c>.</summary>
    public string Container { get; init; } = "glance";

    /// <summary>The largest segment; an image is written as segments of this size plus a static large object manifest.</summary>
    public long SegmentSize { get; init; } = 1L << 30;

    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Container);
        if (Container.Contains('/', StringComparison.Ordinal) || Container.Length > 200)
        {
            throw new ArgumentException($"'{Container}' is not a usable container name.", nameof(Container));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(SegmentSize, 1, nameof(SegmentSize));
    }
}

/// <summary>
/// Images in object storage through the Swift API (glance_store's swift store). The body is streamed
/// into segments in <c>&lt;container&gt;_segments</c>, each at most <see cref="SwiftImageStoreOptions.SegmentSize"/>
/// bytes, and only when all are stored does a static large object manifest (PUT ?multipart-manifest=put)
/// make the image appear, so a partial upload is never an object; a failed write deletes its segments.
/// Location: <c>swift://&lt;container&gt;/&lt;id&gt;</c>, resolved against the current credentials.
/// </summary>
internal sealed class SwiftImageStore : IImageStore, IDisposable
{
    private const string Scheme = "swift://";
    private const int SegmentNameDigits = 8;

    private readonly HttpClient _http;
    private readonly Uri _proxyUrl;
    private readonly Func<CancellationToken, Task<SwiftCredentials>> _credentials;
    private readonly SwiftImageStoreOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _containersGate = new(1, 1);
    private Uri? _containersReadyFor;

    /// <param name="http">The client to talk to the proxy with, with an infinite Timeout; bodies are streamed, never buffered.</param>
    /// <param name="proxyUrl">The Swift proxy's base URL, against which a relative storage URL is resolved.</param>
    /// <param name="credentials">Gives the storage URL and a token (tempauth via <see cref="SwiftTempAuth"/>, or an Identity token).</param>
    /// <param name="options">Container and segment size.</param>
    /// <param name="logger">Where failed clean-ups are reported.</param>
    public SwiftImageStore(
        HttpClient http,
        Uri proxyUrl,
        Func<CancellationToken, Task<SwiftCredentials>> credentials,
        SwiftImageStoreOptions? options = null,
        ILogger<SwiftImageStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(proxyUrl);
        ArgumentNullException.ThrowIfNull(credentials);
        if (http.Timeout != Timeout.InfiniteTimeSpan)
        {
            // HttpClient.Timeout spans a whole request body, and a segment takes as long as the uploader sends it.
            throw new ArgumentException("the swift image store needs an HttpClient whose Timeout is Timeout.InfiniteTimeSpan; cancellation tokens bound its requests.", nameof(http));
        }

        _options = options ?? new SwiftImageStoreOptions();
        _options.Validate();
        _http = http;
        _proxyUrl = proxyUrl;
        _credentials = credentials;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public string Name => "swift";

    private string SegmentContainer => _options.Container + "_segments";

    public async Task<string> WriteAsync(string imageId, Stream data, CancellationToken cancellationToken)
    {
        ImageRange.ValidateId(imageId);
        ArgumentNullException.ThrowIfNull(data);
        var account = await AccountAsync(cancellationToken);
        await EnsureContainersAsync(account, cancellationToken);

        // A fresh prefix per write: a retry or a rewrite never mixes its segments with an earlier attempt's.
        var prefix = $"{imageId}/{Guid.NewGuid():N}/";
        var segments = new List<(string Path, string? Etag, long Size)>();
        try
        {
            var peek = new byte[1];
            while (true)
            {
                // One byte ahead tells whether another segment is needed, without buffering one.
                if (await data.ReadAsync(peek, cancellationToken) == 0)
                {
                    break;
                }

                var name = prefix + segments.Count.ToString(new string('0', SegmentNameDigits), CultureInfo.InvariantCulture);
                var segment = new SegmentSource(peek[0], data, _options.SegmentSize);
                using var content = new StreamContent(segment, 64 * 1024);
                using var response = await SendAsync(account, HttpMethod.Put, ObjectPath(SegmentContainer, name), content, cancellationToken);
                await EnsureSuccessAsync(response, $"storing segment {segments.Count} of image {imageId}", cancellationToken);
                segments.Add(($"/{SegmentContainer}/{name}", Etag(response), segment.Count));
                if (segment.Count < _options.SegmentSize)
                {
                    break;
                }
            }

            if (segments.Count == 0)
            {
                // An empty image has no segment to list; a plain empty object is just as atomic.
                using var empty = new ByteArrayContent([]);
                using var response = await SendAsync(account, HttpMethod.Put, ObjectPath(_options.Container, imageId), empty, cancellationToken);
                await EnsureSuccessAsync(response, $"storing image {imageId}", cancellationToken);
            }
            else
            {
                var manifest = new JsonArray([.. segments.Select(s => (JsonNode)new JsonObject
                {
                    ["path"] = s.Path,
                    ["etag"] = s.Etag,
                    ["size_bytes"] = s.Size,
                })]);
                using var body = new StringContent(manifest.ToJsonString(), Encoding.UTF8, "application/json");
                using var response = await SendAsync(account, HttpMethod.Put, ObjectPath(_options.Container, imageId) + "?multipart-manifest=put", body, cancellationToken);
                await EnsureSuccessAsync(response, $"storing the manifest of image {imageId}", cancellationToken);
            }
        }
        catch
        {
            await DeleteSegmentsAsync(account, segments.Select(s => s.Path));
            throw;
        }

        // Segments of an image this write replaced, or of writes that crashed, are no one's now.
        var stale = await ListAsync(account, SegmentContainer, imageId + "/", cancellationToken);
        await DeleteSegmentsAsync(account, stale.Where(n => !n.StartsWith(prefix, StringComparison.Ordinal)).Select(n => $"/{SegmentContainer}/{n}"));
        return $"{Scheme}{_options.Container}/{imageId}";
    }

    public async Task<Stream> OpenReadAsync(string location, long offset, long? length, CancellationToken cancellationToken)
    {
        ImageRange.Validate(offset, length);
        var (container, imageId) = Parse(location);
        var account = await AccountAsync(cancellationToken);
        var wantsRange = offset > 0 || length is not null;
        using var request = new HttpRequestMessage(length == 0 ? HttpMethod.Head : HttpMethod.Get, Resolve(account, ObjectPath(container, imageId)));
        request.Headers.Add("X-Auth-Token", account.Token);
        if (wantsRange && length != 0)
        {
            request.Headers.Range = new RangeHeaderValue(offset, length is { } l ? offset + l - 1 : null);
        }

        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        try
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new ImageDataNotFoundException($"No image data at {location}.");
            }

            // A range that starts at or past the end reads as empty, as a file does.
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable || length == 0)
            {
                await EnsureSuccessAsync(response, $"reading image {imageId}", cancellationToken, allow: HttpStatusCode.RequestedRangeNotSatisfiable);
                response.Dispose();
                return Stream.Null;
            }

            await EnsureSuccessAsync(response, $"reading image {imageId}", cancellationToken);
            var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            return new ResponseStream(response, body);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public async Task DeleteAsync(string location, CancellationToken cancellationToken)
    {
        var (container, imageId) = Parse(location);
        var account = await AccountAsync(cancellationToken);
        var path = ObjectPath(container, imageId);
        bool isManifest;
        using (var head = await SendAsync(account, HttpMethod.Head, path + "?multipart-manifest=get", null, cancellationToken))
        {
            if (head.StatusCode == HttpStatusCode.NotFound)
            {
                return;
            }

            await EnsureSuccessAsync(head, $"finding image {imageId}", cancellationToken);
            isManifest = head.Headers.TryGetValues("X-Static-Large-Object", out var flag)
                && flag.Any(v => v.Equals("true", StringComparison.OrdinalIgnoreCase));
        }

        if (!isManifest)
        {
            using var plain = await SendAsync(account, HttpMethod.Delete, path, null, cancellationToken);
            if (plain.StatusCode != HttpStatusCode.NotFound)
            {
                await EnsureSuccessAsync(plain, $"deleting image {imageId}", cancellationToken);
            }

            return;
        }

        // Swift answers 200 and reports the real outcome in the body (bulk delete's "Response Status").
        using var request = new HttpRequestMessage(HttpMethod.Delete, Resolve(account, path + "?multipart-manifest=delete"));
        request.Headers.Add("X-Auth-Token", account.Token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await _http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, $"deleting image {imageId}", cancellationToken);
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var status = result?["Response Status"]?.GetValue<string>() ?? string.Empty;
        if (!status.StartsWith("200", StringComparison.Ordinal))
        {
            throw new ImageStoreUnavailableException(
                $"Object storage could not delete image {imageId} ({status}: {result?["Errors"]?.ToJsonString(JsonSerializerOptions.Default)}); try again.");
        }
    }

    public void Dispose() => _containersGate.Dispose();

    private async Task<SwiftCredentials> AccountAsync(CancellationToken cancellationToken)
    {
        var credentials = await _credentials(cancellationToken);
        return credentials.StorageUrl.IsAbsoluteUri ? credentials : credentials with { StorageUrl = new Uri(_proxyUrl, credentials.StorageUrl) };
    }

    /// <summary>Creates the image and segment containers the first time this store writes to an account.</summary>
    private async Task EnsureContainersAsync(SwiftCredentials account, CancellationToken cancellationToken)
    {
        if (_containersReadyFor == account.StorageUrl)
        {
            return;
        }

        await _containersGate.WaitAsync(cancellationToken);
        try
        {
            if (_containersReadyFor == account.StorageUrl)
            {
                return;
            }

            foreach (var container in new[] { _options.Container, SegmentContainer })
            {
                using var response = await SendAsync(account, HttpMethod.Put, "/" + Uri.EscapeDataString(container), null, cancellationToken);
                await EnsureSuccessAsync(response, $"creating container {container}", cancellationToken);
            }

            _containersReadyFor = account.StorageUrl;
        }
        finally
        {
            _containersGate.Release();
        }
    }

    /// <summary>Object names in <paramref name="container"/> starting with <paramref name="prefix"/>, page by page.</summary>
    private async Task<List<string>> ListAsync(SwiftCredentials account, string container, string prefix, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        var marker = string.Empty;
        while (true)
        {
            var query = $"?format=json&prefix={Uri.EscapeDataString(prefix)}&marker={Uri.EscapeDataString(marker)}";
            using var response = await SendAsync(account, HttpMethod.Get, "/" + Uri.EscapeDataString(container) + query, null, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return names;
            }

            await EnsureSuccessAsync(response, $"listing container {container}", cancellationToken);
            var page = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))?.AsArray() ?? [];
            if (page.Count == 0)
            {
                return names;
            }

            names.AddRange(page.Select(o => o!["name"]!.GetValue<string>()));
            marker = names[^1];
        }
    }

    /// <summary>Best-effort removal of segments no manifest lists (after a failed write, or replaced ones).</summary>
    private async Task DeleteSegmentsAsync(SwiftCredentials account, IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            try
            {
                // Not cancellable: a cancelled upload must still take its segments with it.
                using var response = await SendAsync(account, HttpMethod.Delete, EscapePath(path), null, CancellationToken.None);
                if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.NotFound)
                {
                    ImagesStoreLog.CleanupFailed(_logger, path, new HttpRequestException($"HTTP {(int)response.StatusCode}"));
                }
            }
            catch (HttpRequestException ex)
            {
                ImagesStoreLog.CleanupFailed(_logger, path, ex);
            }
        }
    }

    private async Task<HttpResponseMessage> SendAsync(SwiftCredentials account, HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, Resolve(account, path)) { Content = content };
        request.Headers.Add("X-Auth-Token", account.Token);
        try
        {
            return await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ImageStoreUnavailableException($"Object storage at {account.StorageUrl.GetLeftPart(UriPartial.Authority)} is not reachable ({ex.Message}); check that it runs.", ex);
        }
    }

    private static Uri Resolve(SwiftCredentials account, string path) => new(account.StorageUrl.AbsoluteUri.TrimEnd('/') + path);

    private static string ObjectPath(string container, string name) => $"/{Uri.EscapeDataString(container)}/{EscapeName(name)}";

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private static string EscapeName(string name) => string.Join('/', name.Split('/').Select(Uri.EscapeDataString));

    private static string? Etag(HttpResponseMessage response) =>
        response.Headers.TryGetValues("ETag", out var values) ? values.FirstOrDefault()?.Trim('"') : null;

    private (string Container, string ImageId) Parse(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (location.StartsWith(Scheme, StringComparison.Ordinal))
        {
            var rest = location[Scheme.Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0 && rest[..slash] == _options.Container)
            {
                var id = rest[(slash + 1)..];
                try
                {
                    ImageRange.ValidateId(id);
                    return (_options.Container, id);
                }
                catch (ArgumentException)
                {
                }
            }
        }

        throw new ImageLocationInvalidException($"'{location}' is not a location of the swift store on container {_options.Container}.");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string doing, CancellationToken cancellationToken, HttpStatusCode? allow = null)
    {
        if (response.IsSuccessStatusCode || response.StatusCode == allow)
        {
            return;
        }

        var detail = await ReadSnippetAsync(response, cancellationToken);
        if (response.StatusCode == HttpStatusCode.RequestEntityTooLarge)
        {
            throw new ImageTooLargeException($"Object storage refused {doing}: the image is over its size limit or quota ({detail}).");
        }

        var hint = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
            ? "check the image store's object storage credentials"
            : "try again, and check object storage's health";
        throw new ImageStoreUnavailableException($"Object storage failed {doing} (HTTP {(int)response.StatusCode}: {detail}); {hint}.");
    }

    // Error bodies are short text; never read more than a line of one into a message.
    private static async Task<string> ReadSnippetAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = new byte[200];
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var read = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        return Encoding.UTF8.GetString(buffer, 0, read).ReplaceLineEndings(" ").Trim();
    }

    /// <summary>One segment's bytes: the byte read ahead, then the source up to the segment size.</summary>
    private sealed class SegmentSource(byte first, Stream source, long segmentSize) : ForwardReadStream
    {
        private bool _firstSent;

        public long Count { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty || Count >= segmentSize)
            {
                return 0;
            }

            if (!_firstSent)
            {
                buffer.Span[0] = first;
                _firstSent = true;
                Count = 1;
                return 1;
            }

            var read = await source.ReadAsync(buffer[..(int)Math.Min(buffer.Length, segmentSize - Count)], cancellationToken);
            Count += read;
            return read;
        }
    }

    /// <summary>A response body that releases its response (and connection) when disposed.</summary>
    private sealed class ResponseStream(HttpResponseMessage response, Stream body) : ForwardReadStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            body.ReadAsync(buffer, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                body.Dispose();
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

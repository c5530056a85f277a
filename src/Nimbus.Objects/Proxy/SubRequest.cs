using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Nimbus.Objects.Proxy;

/// <summary>
/// A request a filter makes to the rest of the pipeline on its caller's behalf (Swift's
/// make_subrequest): a large object's segments, a copy's source, a bulk delete's objects. It runs
/// with the caller's identity and authorization, and its response body streams back through a
/// bounded pipe, so a subrequest never holds a whole object in memory.
/// </summary>
public static class SubRequest
{
    /// <summary>
    /// A lookup a filter makes for itself, authorized whoever the caller is (Swift's
    /// make_pre_authed_request, as get_container_info and get_account_info use): the quota and rate
    /// limits read a container's or account's stats this way.
    /// </summary>
    public static Task<SubResponse> SendPreAuthorizedAsync(HttpContext parent, RequestDelegate downstream, string method, string rawPath) =>
        SendAsync(parent, downstream, method, rawPath, preAuthorized: true);

    /// <summary>
    /// Sends one subrequest to <paramref name="downstream"/> and returns once its status and headers
    /// are known; read <see cref="SubResponse.Body"/> for the body, then dispose. A
    /// <paramref name="preAuthorized"/> subrequest skips authorization, as Swift's
    /// make_pre_authed_request: for work the filter has already authorized (or that the caller
    /// could not do directly, such as writing to a versions container).
    /// </summary>
    public static async Task<SubResponse> SendAsync(
        HttpContext parent,
        RequestDelegate downstream,
        string method,
        string rawPath,
        IEnumerable<KeyValuePair<string, string>>? headers = null,
        Stream? body = null,
        long? contentLength = null,
        bool preAuthorized = false)
    {
        var query = rawPath.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? rawPath : rawPath[..query];
        var request = new HttpRequestFeature
        {
            Method = method,
            Scheme = parent.Request.Scheme,
            Protocol = parent.Request.Protocol,
            PathBase = string.Empty,
            Path = Uri.UnescapeDataString(path),
            RawTarget = rawPath,
            QueryString = query < 0 ? string.Empty : rawPath[query..],
            Body = body ?? Stream.Null,
        };
        foreach (var (name, value) in headers ?? [])
        {
            request.Headers[name] = value;
        }

        request.Headers.Host = parent.Request.Host.Value;
        if (contentLength is not null)
        {
            request.Headers.ContentLength = contentLength;
        }

        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false));
        var responseBody = new SubResponseBody(pipe.Writer);
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(request);
        features.Set<IHttpResponseFeature>(responseBody.Response);
        features.Set<IHttpResponseBodyFeature>(responseBody);
        var abort = CancellationTokenSource.CreateLinkedTokenSource(parent.RequestAborted);
        features.Set<IHttpRequestLifetimeFeature>(new HttpRequestLifetimeFeature { RequestAborted = abort.Token });
        var context = new DefaultHttpContext(features);
        var caller = SwiftContext.Get(parent);
        if (caller is not null || preAuthorized)
        {
            ProxyPipeline.ParsePath(context);
            if (SwiftContext.Get(context) is { } swift)
            {
                swift.Identity = caller?.Identity;
                swift.Authorize = caller?.Authorize;
                swift.Authorized = preAuthorized || caller!.Authorized;
            }
        }

        var run = RunAsync(downstream, context, responseBody, pipe.Writer);
        await Task.WhenAny(responseBody.Started, run);
        return new SubResponse(context.Response.StatusCode, context.Response.Headers, pipe.Reader.AsStream(), run, abort);
    }

    private static async Task RunAsync(RequestDelegate downstream, HttpContext context, SubResponseBody body, PipeWriter writer)
    {
        try
        {
            await downstream(context);
            body.MarkStarted();
            await writer.CompleteAsync();
        }
        catch (Exception ex)
        {
            body.MarkStarted();
            await writer.CompleteAsync(ex);
        }
    }

    /// <summary>Response headers that become read-only once the body starts, as a server's do.</summary>
    private sealed class StartableResponseFeature : HttpResponseFeature
    {
        private volatile bool _started;

        public override bool HasStarted => _started;

        public void Start() => _started = true;
    }

    /// <summary>The response side of a subrequest: headers are ready once the body starts or the handler returns.</summary>
    private sealed class SubResponseBody(PipeWriter writer) : IHttpResponseBodyFeature
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Stream? _stream;

        public StartableResponseFeature Response { get; } = new();

        public Task Started => _started.Task;

        public Stream Stream => _stream ??= new StartingStream(writer.AsStream(), this);

        public PipeWriter Writer => writer;

        public void MarkStarted()
        {
            Response.Start();
            _started.TrySetResult();
        }

        public void DisableBuffering()
        {
        }

        public Task StartAsync(CancellationToken cancellationToken = default)
        {
            MarkStarted();
            return Task.CompletedTask;
        }

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("subrequests do not send files");

        public Task CompleteAsync()
        {
            MarkStarted();
            return Task.CompletedTask;
        }

        /// <summary>Marks the response started on its first write, as a server would when it sends the headers.</summary>
        private sealed class StartingStream(Stream inner, SubResponseBody owner) : Stream
        {
            public override bool CanRead => false;

            public override bool CanSeek => false;

            public override bool CanWrite => true;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override void Flush() => inner.Flush();

            public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count)
            {
                owner.MarkStarted();
                inner.Write(buffer, offset, count);
            }

            public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
            {
                owner.MarkStarted();
                return inner.WriteAsync(buffer, cancellationToken);
            }

            public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        }
    }
}

/// <summary>A subrequest's answer. Dispose it to stop the handler if the body was not read to the end.</summary>
public sealed class SubResponse(int status, IHeaderDictionary headers, Stream body, Task completion, CancellationTokenSource abort) : IAsyncDisposable
{
    public int Status { get; } = status;

    public IHeaderDictionary Headers { get; } = headers;

    /// <summary>The body as the handler writes it.</summary>
    public Stream Body { get; } = body;

    public bool IsSuccess => Status is >= 200 and < 300;

    /// <summary>
    /// Sends this answer as the response to <paramref name="context"/>: its status (or
    /// <paramref name="status"/> instead), its headers, and its body as it streams.
    /// </summary>
    public async Task RelayAsync(HttpContext context, int? status = null)
    {
        var response = context.Response;
        response.StatusCode = status ?? Status;
        foreach (var (name, value) in Headers)
        {
            response.Headers[name] = value;
        }

        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await Body.CopyToAsync(response.Body, 64 * 1024, context.RequestAborted);
        }
    }

    /// <summary>Reads the whole body as text; for small bodies (manifests, listings).</summary>
    public async Task<string> ReadTextAsync(CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(Body);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (!completion.IsCompleted)
        {
            // The reader stopped early: stop the handler rather than let it stream into the void.
            await abort.CancelAsync();
        }

        await Body.DisposeAsync();
        try
        {
            await completion;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The handler's writes failing is the expected end of an abandoned subrequest.
        }
        finally
        {
            abort.Dispose();
        }
    }
}

using System.Globalization;
using Prometheus;

namespace Nimbus.Daemon.Objects;

/// <summary>
/// The Swift API's own series: requests by method, target (account, container, object, auth, info,
/// healthcheck) and status with a latency histogram, and the objects and bytes written. The proxy
/// branch runs ahead of the platform's per-route metrics, so it is measured here, where it enters.
/// </summary>
internal sealed class ObjectsMetrics
{
    private static readonly HashSet<string> Methods = new(["GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "OPTIONS"], StringComparer.Ordinal);

    private readonly TimeProvider _time;
    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly Counter _stored;
    private readonly Counter _storedBytes;

    public ObjectsMetrics(IMetricFactory factory, TimeProvider time)
    {
        _time = time;
        _requests = factory.CreateCounter("nimbus_objects_requests_total", "Swift API requests, by method, target and status.", ["method", "target", "code"]);
        _duration = factory.CreateHistogram(
            "nimbus_objects_request_duration_seconds",
            "Time to answer a Swift API request, by method and target.",
            ["method", "target"],
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 16) });
        _stored = factory.CreateCounter("nimbus_objects_stored_total", "Objects written through the Swift API (PUT answered 201).");
        _storedBytes = factory.CreateCounter("nimbus_objects_stored_bytes_total", "Bytes of the objects written through the Swift API.");
    }

    public async Task MeasureAsync(HttpContext context, Func<HttpContext, Task> handle)
    {
        var method = Methods.Contains(context.Request.Method) ? context.Request.Method : "other";
        var target = Target(context.Request.Path.Value ?? string.Empty);
        var started = _time.GetTimestamp();
        CountingReadStream? body = null;
        if (target == "object" && method == "PUT")
        {
            body = new CountingReadStream(context.Request.Body);
            context.Request.Body = body;
        }

        try
        {
            await handle(context);
        }
        finally
        {
            var status = context.Response.StatusCode;
            _requests.WithLabels(method, target, status.ToString(CultureInfo.InvariantCulture)).Inc();
            _duration.WithLabels(method, target).Observe(_time.GetElapsedTime(started).TotalSeconds);
            if (body is not null && status == StatusCodes.Status201Created)
            {
                _stored.Inc();
                _storedBytes.Inc(body.BytesRead);
            }
        }
    }

    /// <summary>What a Swift path names: /v1/account[/container[/object]], /auth…, /info, /healthcheck.</summary>
    internal static string Target(string path)
    {
        var segments = path.Split('/', 5, StringSplitOptions.None);
        return segments switch
        {
            [_, "info", ..] => "info",
            [_, "healthcheck", ..] => "healthcheck",
            [_, var auth, ..] when auth.StartsWith("auth", StringComparison.Ordinal) => "auth",
            [_, _, var account] when account.Length > 0 => "account",
            [_, _, _, var container] when container.Length > 0 => "container",
            [_, _, _, _] => "account",
            [_, _, _, _, var obj] when obj.Length > 0 => "object",
            [_, _, _, _, _] => "container",
            _ => "other",
        };
    }

    /// <summary>A request body that counts what the proxy reads of it.</summary>
    private sealed class CountingReadStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            BytesRead += read;
            return read;
        }
    }
}

using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Nimbus.Objects.Common;
using Nimbus.Objects.Http;
using Nimbus.Objects.Ring;

namespace Nimbus.Objects.Proxy;

public sealed partial class ProxyServer
{
    private const int UploadChunkSize = 64 * 1024;

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    /// <summary>Request headers an object server needs to see on a read.</summary>
    private static readonly HashSet<string> ReadHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "X-Newest",
    };

    /// <summary>Request headers that an object keeps, besides X-Object-Meta-*.</summary>
    private static readonly HashSet<string> ObjectHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Content-Disposition", "Content-Encoding", "Content-Language", "Cache-Control", "Expires",
        "X-Delete-At", "X-Object-Manifest", "X-Static-Large-Object", "X-Robots-Tag",
    };

    private async Task HandleObjectAsync(HttpContext context, SwiftContext swift)
    {
        var method = context.Request.Method;
        var container = await ContainerInfoAsync(swift.Account, swift.Container!, context.RequestAborted);
        var reading = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        var acl = new AccessControl(container.Headers.GetValueOrDefault("X-Container-Read"), reading ? null : container.Headers.GetValueOrDefault("X-Container-Write"));
        if (swift.Check(context, acl) is { } refusal)
        {
            await SwiftResponse.WriteAsync(context, refusal);
            return;
        }

        if (reading)
        {
            await GetObjectAsync(context, swift.Account, swift.Container!, swift.ObjectName!);
            return;
        }

        if (container.Status == StatusCodes.Status404NotFound)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status404NotFound);
            return;
        }

        if (container.Status is < 200 or >= 300)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable);
            return;
        }

        var task = method switch
        {
            "PUT" => PutObjectAsync(context, swift),
            "COPY" => CopyObjectAsync(context, swift),
            "POST" => PostObjectAsync(context, swift),
            "DELETE" => DeleteObjectAsync(context, swift),
            _ => SwiftResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed),
        };
        await task;
    }

    private async Task GetObjectAsync(HttpContext context, string account, string container, string obj)
    {
        var ring = _rings.Objects;
        var partition = ring.GetPartition(account, container, obj);
        var response = await ReadFromReplicasAsync(context, ring, partition, "object", BackendPath(account, container, obj), ForwardedHeaders(context.Request, ReadHeaders.Contains));
        if (response is null)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable);
            return;
        }

        await RelayAsync(context, response);
    }

    private async Task PutObjectAsync(HttpContext context, SwiftContext swift)
    {
        var request = context.Request;
        var copyFrom = request.Headers["X-Copy-From"].ToString();
        if (copyFrom.Length > 0)
        {
            if (!TryParseCopyPath(copyFrom, out var sourceContainer, out var sourceObject))
            {
                await SwiftResponse.WriteAsync(context, StatusCodes.Status412PreconditionFailed, "X-Copy-From header must be of the form <container name>/<object name>");
                return;
            }

            await CopyAsync(context, swift, sourceContainer, sourceObject, swift.Container!, swift.ObjectName!);
            return;
        }

        var chunked = request.Headers.TransferEncoding.ToString().Contains("chunked", StringComparison.OrdinalIgnoreCase);
        if (request.Headers.TransferEncoding.Count > 0 && !chunked)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status501NotImplemented);
            return;
        }

        if (Constraints.CheckObjectCreation(request.ContentLength, chunked, swift.ObjectName!) is { } creation)
        {
            await SwiftResponse.WriteAsync(context, creation.Status, creation.Message);
            return;
        }

        var headers = new List<KeyValuePair<string, string>>();
        if (!await TryObjectMetadataAsync(context, swift.ObjectName!, headers, contentTypeRequired: true))
        {
            return;
        }

        if (request.Headers.ETag.Count > 0)
        {
            headers.Add(new("ETag", request.Headers.ETag.ToString().Trim('"')));
        }

        var result = await UploadAsync(context, swift.Account, swift.Container!, swift.ObjectName!, request.Body, request.ContentLength, headers);
        await WriteUploadResultAsync(context, result);
    }

    /// <summary>Validates and gathers the metadata headers of a PUT or POST; false after answering the refusal.</summary>
    private async Task<bool> TryObjectMetadataAsync(HttpContext context, string objectName, List<KeyValuePair<string, string>> headers, bool contentTypeRequired)
    {
        var request = context.Request;
        if (Constraints.CheckMetadata(request.Headers, "object") is { } problem)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, problem);
            return false;
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        string? deleteAt = null;
        var deleteAfter = request.Headers["X-Delete-After"].ToString();
        if (deleteAfter.Length > 0)
        {
            if (!long.TryParse(deleteAfter, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var after))
            {
                await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "Non-integer X-Delete-After");
                return false;
            }

            if (after < 0)
            {
                await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "X-Delete-After in past");
                return false;
            }

            deleteAt = (now + after).ToString(CultureInfo.InvariantCulture);
        }
        else if (request.Headers["X-Delete-At"].ToString() is { Length: > 0 } deleteAtText)
        {
            if (!long.TryParse(deleteAtText, NumberStyles.None, CultureInfo.InvariantCulture, out var at))
            {
                await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "Non-integer X-Delete-At");
                return false;
            }

            if (at <= now)
            {
                await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "X-Delete-At in past");
                return false;
            }

            deleteAt = at.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (name, values) in request.Headers)
        {
            if ((name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) || ObjectHeaders.Contains(name))
                && !name.Equals("X-Delete-At", StringComparison.OrdinalIgnoreCase))
            {
                headers.Add(new(name, values.ToString()));
            }
        }

        if (deleteAt is not null)
        {
            headers.Add(new("X-Delete-At", deleteAt));
        }

        var contentType = request.ContentType;
        var detect = ListingRequest.IsTrue(request.Headers["X-Detect-Content-Type"].ToString());
        if ((contentType is null && contentTypeRequired) || detect)
        {
            contentType = ContentTypes.TryGetContentType(objectName, out var guessed) ? guessed : "application/octet-stream";
        }

        if (contentType is not null)
        {
            headers.Add(new("Content-Type", contentType));
        }

        return true;
    }

    private sealed record UploadResult(int Status, string? ETag, SwiftTimestamp Timestamp);

    /// <summary>
    /// Streams one body to every replica at once through bounded pipes, a handoff standing in for a
    /// primary that cannot be reached, and answers success once a quorum has stored it. Nothing is
    /// stored anywhere when the client's body ends short or it goes away.
    /// </summary>
    private async Task<UploadResult> UploadAsync(HttpContext context, string account, string container, string obj, Stream body, long? length, List<KeyValuePair<string, string>> headers)
    {
        var ring = _rings.Objects;
        var partition = ring.GetPartition(account, container, obj);
        var primaries = ring.GetPrimaryNodes(partition);
        var containerRing = _rings.Containers;
        var containerPartition = containerRing.GetPartition(account, container);
        var containerNodes = containerRing.GetPrimaryNodes(containerPartition);
        var timestamp = SwiftTimestamp.Now(_time);
        var path = BackendPath(account, container, obj);
        using var handoffs = ring.GetHandoffNodes(partition).Take(primaries.Count * (_settings.RequestNodeFactor - 1)).GetEnumerator();
        var handoffLock = new Lock();
        RingDevice? NextHandoff()
        {
            lock (handoffLock)
            {
                return handoffs.MoveNext() ? handoffs.Current : null;
            }
        }

        // Tied to the client only while its body arrives: a replica still committing after the
        // quorum answered must not be cut off when the client then goes away.
        var abort = new CancellationTokenSource();
        var clientGone = context.RequestAborted.Register(static source => ((CancellationTokenSource)source!).Cancel(), abort);
        var replicas = primaries.Select((primary, replica) =>
        {
            var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false));
            var replicaHeaders = new List<KeyValuePair<string, string>>(headers) { new("X-Timestamp", timestamp.Normal) };
            if (replica < containerNodes.Count)
            {
                replicaHeaders.Add(new("X-Container-Host", Host(containerNodes[replica])));
                replicaHeaders.Add(new("X-Container-Device", containerNodes[replica].Device));
                replicaHeaders.Add(new("X-Container-Partition", containerPartition.ToString(CultureInfo.InvariantCulture)));
            }

            var cancel = CancellationTokenSource.CreateLinkedTokenSource(abort.Token);
            return new ReplicaUpload(pipe, cancel, SendReplicaAsync(primary, pipe, replicaHeaders, cancel.Token));
        }).ToList();

        async Task<(int Status, string? ETag)> SendReplicaAsync(RingDevice primary, Pipe pipe, List<KeyValuePair<string, string>> replicaHeaders, CancellationToken cancellationToken)
        {
            await Task.Yield();
            var source = new StartTrackingStream(pipe.Reader.AsStream(leaveOpen: true));
            try
            {
                for (var node = primary; node is not null; node = NextHandoff())
                {
                    using var request = BackendClient.NewRequest(HttpMethod.Put, NodeUrl(node, "object", partition, path));
                    request.Content = new StreamContent(source, UploadChunkSize);
                    request.Content.Headers.ContentLength = length;
                    request.Headers.ExpectContinue = true;
                    BackendClient.AddHeaders(request, replicaHeaders);
                    // No overall deadline: a large body takes as long as it takes; the writer watches each chunk's progress.
                    using var response = await _backend.SendAsync(request, cancellationToken, Timeout.InfiniteTimeSpan);
                    if (response is null || (int)response.StatusCode == StatusCodes.Status507InsufficientStorage)
                    {
                        if (source.Started)
                        {
                            // Part of the body went to a node that failed; it cannot be replayed to another.
                            return (StatusCodes.Status503ServiceUnavailable, null);
                        }

                        continue;
                    }

                    var etag = response.Headers.NonValidated.TryGetValues("ETag", out var values) ? values.ToString().Trim('"') : null;
                    return ((int)response.StatusCode, etag);
                }

                return (StatusCodes.Status503ServiceUnavailable, null);
            }
            catch (OperationCanceledException)
            {
                // Given up on: the node stalled, or the client went away.
                return (StatusCodes.Status503ServiceUnavailable, null);
            }
            finally
            {
                await pipe.Reader.CompleteAsync();
            }
        }

        var clientFailed = false;
        var quorumLost = false;
        var buffer = ArrayPool<byte>.Shared.Rent(UploadChunkSize);
        try
        {
            var live = replicas.ToList();
            while (true)
            {
                int read;
                try
                {
                    read = await body.ReadAsync(buffer, context.RequestAborted);
                }
                catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException)
                {
                    clientFailed = true;
                    break;
                }

                if (read == 0)
                {
                    break;
                }

                // Swift's node_timeout between chunks: a replica that takes no data for that long is dropped.
                var flushes = live.Select(r => r.Pipe.Writer.WriteAsync(buffer.AsMemory(0, read), abort.Token).AsTask().WaitAsync(_backend.NodeTimeout, CancellationToken.None)).ToList();
                var stillLive = new List<ReplicaUpload>(live.Count);
                for (var i = 0; i < live.Count; i++)
                {
                    try
                    {
                        if (!(await flushes[i]).IsCompleted)
                        {
                            stillLive.Add(live[i]);
                        }
                    }
                    catch (TimeoutException)
                    {
                        await live[i].Cancel.CancelAsync();
                    }
                }

                live = stillLive;
                if (live.Count < Quorum(primaries.Count))
                {
                    quorumLost = true;
                    break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        await clientGone.DisposeAsync();
        foreach (var replica in replicas)
        {
            // A body that did not arrive whole is aborted, never ended: the backend sees its connection
            // drop before the last chunk (or short of Content-Length) and stores nothing, as Swift's
            // proxy closes its backend connections when the client goes away or the quorum is lost.
            var failure = clientFailed ? new IOException("the client went away mid-upload")
                : quorumLost ? new IOException("fewer replicas than a quorum kept up with the upload")
                : null;
            await replica.Pipe.Writer.CompleteAsync(failure);
        }

        // Swift's post_quorum_timeout: once a quorum has stored the object the answer waits only a
        // short while more for the other replicas, so one slow disk does not set every write's
        // latency; a replica still committing finishes in the background (the replicator covers
        // one that fails). Each replica has the node timeout, from the end of the body, to answer.
        var outcomes = new List<(int Status, string? ETag)>(replicas.Count);
        var waiting = replicas.ToList();
        var deadline = Task.Delay(_backend.NodeTimeout, CancellationToken.None);
        Task? graceEnds = null;
        while (waiting.Count > 0)
        {
            if (graceEnds is null && !clientFailed && outcomes.Count(o => o.Status == StatusCodes.Status201Created) >= Quorum(primaries.Count))
            {
                graceEnds = Task.Delay(_settings.PostQuorumTimeout, CancellationToken.None);
            }

            var finished = await Task.WhenAny(waiting.Select(r => (Task)r.Result).Append(graceEnds ?? deadline).Append(deadline));
            if (finished == graceEnds)
            {
                break;
            }

            if (finished == deadline)
            {
                foreach (var late in waiting)
                {
                    await late.Cancel.CancelAsync();
                    outcomes.Add(await late.Result);
                    late.Cancel.Dispose();
                }

                waiting.Clear();
                break;
            }

            var done = waiting.First(r => r.Result == finished);
            waiting.Remove(done);
            outcomes.Add(await done.Result);
            done.Cancel.Dispose();
        }

        foreach (var straggler in waiting)
        {
            _ = straggler.Result.ContinueWith(_ => straggler.Cancel.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        _ = Task.WhenAll(replicas.Select(r => r.Result)).ContinueWith(_ => abort.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        if (clientFailed)
        {
            return new UploadResult(SwiftResponse.ClientDisconnect, null, timestamp);
        }

        var stored = outcomes.Where(o => o.Status == StatusCodes.Status201Created).ToList();
        if (stored.Count >= Quorum(primaries.Count))
        {
            // Swift's proxy answers 500 when the object servers stored different bytes.
            if (stored.Select(o => o.ETag ?? string.Empty).Distinct(StringComparer.OrdinalIgnoreCase).Skip(1).Any())
            {
                return new UploadResult(StatusCodes.Status500InternalServerError, null, timestamp);
            }

            return new UploadResult(StatusCodes.Status201Created, stored[0].ETag, timestamp);
        }

        var status = outcomes.Select(o => o.Status).FirstOrDefault(s => s is StatusCodes.Status422UnprocessableEntity or StatusCodes.Status413PayloadTooLarge or SwiftResponse.ClientDisconnect, StatusCodes.Status503ServiceUnavailable);
        if (outcomes.Count(o => o.Status == StatusCodes.Status409Conflict) >= Quorum(primaries.Count))
        {
            status = StatusCodes.Status202Accepted;
        }

        return new UploadResult(status, null, timestamp);
    }

    private static Task WriteUploadResultAsync(HttpContext context, UploadResult result, Action<IHeaderDictionary>? extraHeaders = null)
    {
        if (result.Status == StatusCodes.Status201Created)
        {
            context.Response.Headers.ETag = SwiftResponse.EtagHeader(result.ETag ?? string.Empty);
            context.Response.Headers.LastModified = SwiftResponse.HttpDate(result.Timestamp);
            extraHeaders?.Invoke(context.Response.Headers);
        }

        return SwiftResponse.WriteAsync(context, result.Status);
    }

    private async Task PostObjectAsync(HttpContext context, SwiftContext swift)
    {
        var headers = new List<KeyValuePair<string, string>>();
        if (!await TryObjectMetadataAsync(context, swift.ObjectName!, headers, contentTypeRequired: false))
        {
            return;
        }

        var status = await ObjectFanOutAsync(context, swift, HttpMethod.Post, headers);
        await SwiftResponse.WriteAsync(context, status);
    }

    private async Task DeleteObjectAsync(HttpContext context, SwiftContext swift)
    {
        var status = await ObjectFanOutAsync(context, swift, HttpMethod.Delete, []);
        await SwiftResponse.WriteAsync(context, status);
    }

    private async Task<int> ObjectFanOutAsync(HttpContext context, SwiftContext swift, HttpMethod method, List<KeyValuePair<string, string>> extra)
    {
        var ring = _rings.Objects;
        var partition = ring.GetPartition(swift.Account, swift.Container, swift.ObjectName);
        var containerRing = _rings.Containers;
        var containerPartition = containerRing.GetPartition(swift.Account, swift.Container);
        var containerNodes = containerRing.GetPrimaryNodes(containerPartition);
        var timestamp = SwiftTimestamp.Now(_time);
        var statuses = await FanOutAsync(ring, partition, "object", method, BackendPath(swift.Account, swift.Container, swift.ObjectName), replica =>
        {
            var headers = TimestampHeaders(timestamp);
            headers.AddRange(extra);
            if (method == HttpMethod.Delete && replica < containerNodes.Count)
            {
                headers.Add(new("X-Container-Host", Host(containerNodes[replica])));
                headers.Add(new("X-Container-Device", containerNodes[replica].Device));
                headers.Add(new("X-Container-Partition", containerPartition.ToString(CultureInfo.InvariantCulture)));
            }

            return headers;
        }, context.RequestAborted);
        return BestStatus(statuses, Quorum(statuses.Count));
    }

    /// <summary>COPY with a Destination header: Swift's copy middleware turns it into a PUT with X-Copy-From.</summary>
    private async Task CopyObjectAsync(HttpContext context, SwiftContext swift)
    {
        var destination = context.Request.Headers["Destination"].ToString();
        if (!TryParseCopyPath(destination, out var container, out var obj))
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status412PreconditionFailed, "Destination header must be of the form <container name>/<object name>");
            return;
        }

        var destinationInfo = await ContainerInfoAsync(swift.Account, container, context.RequestAborted);
        if (swift.Check(context, new AccessControl(null, destinationInfo.Headers.GetValueOrDefault("X-Container-Write"))) is { } refusal)
        {
            await SwiftResponse.WriteAsync(context, refusal);
            return;
        }

        if (destinationInfo.Status == StatusCodes.Status404NotFound)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status404NotFound);
            return;
        }

        await CopyAsync(context, swift, swift.Container!, swift.ObjectName!, container, obj);
    }

    /// <summary>
    /// Copies an object server-side: reads the source from its replicas and streams it into the
    /// destination's, with the source's metadata unless X-Fresh-Metadata, and the request's on top.
    /// </summary>
    private async Task CopyAsync(HttpContext context, SwiftContext swift, string sourceContainer, string sourceObject, string container, string obj)
    {
        var sourceInfo = await ContainerInfoAsync(swift.Account, sourceContainer, context.RequestAborted);
        if (swift.Check(context, new AccessControl(sourceInfo.Headers.GetValueOrDefault("X-Container-Read"), null)) is { } refusal)
        {
            await SwiftResponse.WriteAsync(context, refusal);
            return;
        }

        var ring = _rings.Objects;
        var partition = ring.GetPartition(swift.Account, sourceContainer, sourceObject);
        using var source = await ReadFromReplicasAsync(context, ring, partition, "object", BackendPath(swift.Account, sourceContainer, sourceObject), []);
        if (source is null || !source.IsSuccessStatusCode)
        {
            await SwiftResponse.WriteAsync(context, source is null ? StatusCodes.Status503ServiceUnavailable : (int)source.StatusCode);
            return;
        }

        var sourceHeaders = BackendClient.AllHeaders(source).ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase);
        var headers = new List<KeyValuePair<string, string>>();
        if (!ListingRequest.IsTrue(context.Request.Headers["X-Fresh-Metadata"].ToString()))
        {
            foreach (var (name, value) in sourceHeaders)
            {
                if ((name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) || ObjectHeaders.Contains(name))
                    && !context.Request.Headers.ContainsKey(name))
                {
                    headers.Add(new(name, value));
                }
            }
        }

        if (!await TryObjectMetadataAsync(context, obj, headers, contentTypeRequired: false))
        {
            return;
        }

        if (!headers.Any(h => h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)))
        {
            headers.Add(new("Content-Type", sourceHeaders.GetValueOrDefault("Content-Type", "application/octet-stream")));
        }

        var length = source.Content.Headers.ContentLength;
        await using var body = await source.Content.ReadAsStreamAsync(context.RequestAborted);
        var result = await UploadAsync(context, swift.Account, container, obj, body, length, headers);
        await WriteUploadResultAsync(context, result, response =>
        {
            response["X-Copied-From"] = SwiftPath.Encode(sourceContainer) + "/" + SwiftPath.Encode(sourceObject, keepSlashes: true);
            if (sourceHeaders.TryGetValue("Last-Modified", out var lastModified))
            {
                response["X-Copied-From-Last-Modified"] = lastModified;
            }
        });
    }

    /// <summary>Reads "container/object" (optionally with a leading slash, percent-encoded) as Swift's check_copy_from_header does.</summary>
    private static bool TryParseCopyPath(string header, out string container, out string obj)
    {
        container = obj = string.Empty;
        var path = header.StartsWith('/') ? header : "/" + header;
        if (!SwiftPath.TrySplit(path, 2, 2, out var parts, out _) || parts[1] is null)
        {
            return false;
        }

        container = parts[0]!;
        obj = parts[1]!;
        return true;
    }

    private sealed record ReplicaUpload(Pipe Pipe, CancellationTokenSource Cancel, Task<(int Status, string? ETag)> Result);

    /// <summary>A read-only view of a stream that records whether anything was read from it yet.</summary>
    private sealed class StartTrackingStream(Stream inner) : ReadOnlyStream
    {
        public bool Started { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Started = true;
            return inner.Read(buffer, offset, count);
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Started = true;
            return inner.ReadAsync(buffer, cancellationToken);
        }
    }
}

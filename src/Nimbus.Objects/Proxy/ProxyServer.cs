using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Common;
using Nimbus.Objects.Http;
using Nimbus.Objects.Ring;

namespace Nimbus.Objects.Proxy;

/// <summary>How the proxy behaves; Swift's proxy-server [app:proxy-server] options.</summary>
public sealed record ProxySettings
{
    /// <summary>Create an account on its first container PUT, and answer for a missing one as if empty.</summary>
    public bool AccountAutocreate { get; init; } = true;

    /// <summary>How long the proxy trusts what it learned about an account or container (Swift's recheck_*_existence).</summary>
    public TimeSpan InfoCacheTime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a write that a quorum has stored waits for its other replicas (Swift's post_quorum_timeout).</summary>
    public TimeSpan PostQuorumTimeout { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Primaries plus handoffs a request may try (Swift's request_node_count, 2 × replicas).</summary>
    public int RequestNodeFactor { get; init; } = 2;
}

/// <summary>
/// Swift's proxy-server app, the end of the pipeline: finds the nodes in the ring, fans writes out
/// to every replica and answers at a quorum, reads from one replica and fails over to the others
/// and to handoffs, and streams bodies both ways.
/// </summary>
public sealed partial class ProxyServer
{
    private static readonly HashSet<string> HopByHopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Date", "Server", "Upgrade", "Proxy-Connection", "TE", "Trailer",
    };

    private readonly RingSet _rings;
    private readonly BackendClient _backend;
    private readonly TimeProvider _time;
    private readonly ProxySettings _settings;
    private readonly ConcurrentDictionary<string, CachedInfo> _infoCache = new(StringComparer.Ordinal);

    public ProxyServer(RingSet rings, BackendClient backend, TimeProvider time, ProxySettings settings)
    {
        _rings = rings;
        _backend = backend;
        _time = time;
        _settings = settings;
    }

    public RingSet Rings => _rings;

    /// <summary>The terminal handler of the pipeline.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var swift = SwiftContext.Get(context);
        if (swift is null)
        {
            var rawPath = SwiftPath.RawPath(context);
            var badUrl = rawPath is "/v1" or "/v1.0" || rawPath.StartsWith("/v1/", StringComparison.Ordinal) || rawPath.StartsWith("/v1.0/", StringComparison.Ordinal);
            var message = context.Items.TryGetValue(ProxyPipeline.PathErrorKey, out var error) && error is string text && (text.Contains("UTF-8", StringComparison.Ordinal) || text.Contains("NUL", StringComparison.Ordinal))
                ? "Invalid UTF8 or contains NULL"
                : "Bad URL";
            await SwiftResponse.WriteAsync(context, badUrl ? StatusCodes.Status412PreconditionFailed : StatusCodes.Status404NotFound, badUrl ? message : null);
            return;
        }

        var task = (swift.Container, swift.ObjectName) switch
        {
            (null, _) => HandleAccountAsync(context, swift),
            (not null, null) => HandleContainerAsync(context, swift),
            _ => HandleObjectAsync(context, swift),
        };
        await task;
    }

    /// <summary>The nodes to try for a read: the primaries, then handoffs, up to request_node_count.</summary>
    private IEnumerable<RingDevice> ReadNodes(HashRing ring, int partition)
    {
        var primaries = ring.GetPrimaryNodes(partition);
        var limit = primaries.Count * _settings.RequestNodeFactor;
        return primaries.Concat(ring.GetHandoffNodes(partition)).Take(limit);
    }

    private static int Quorum(int replicas) => (replicas / 2) + 1;

    /// <summary>
    /// Sends the same bodiless request to every primary (a handoff standing in for any that is
    /// down) and returns each replica's status, as Swift's make_requests does.
    /// </summary>
    private async Task<List<int>> FanOutAsync(HashRing ring, int partition, string server, HttpMethod method, string path, Func<int, List<KeyValuePair<string, string>>> headersForReplica, CancellationToken cancellationToken)
    {
        var primaries = ring.GetPrimaryNodes(partition);
        using var handoffs = ring.GetHandoffNodes(partition).Take(primaries.Count * (_settings.RequestNodeFactor - 1)).GetEnumerator();
        var handoffLock = new Lock();
        RingDevice? NextHandoff()
        {
            lock (handoffLock)
            {
                return handoffs.MoveNext() ? handoffs.Current : null;
            }
        }

        var tasks = primaries.Select(async (primary, replica) =>
        {
            for (var node = primary; node is not null; node = NextHandoff())
            {
                var status = await _backend.SendForStatusAsync(method, NodeUrl(node, server, partition, path), headersForReplica(replica), cancellationToken);
                if (status is not null and not StatusCodes.Status507InsufficientStorage)
                {
                    return status.Value;
                }
            }

            return StatusCodes.Status503ServiceUnavailable;
        });
        return [.. await Task.WhenAll(tasks)];
    }

    /// <summary>Swift's best_response: the largest status of the first class (2xx, 3xx, 4xx) that reaches a quorum, else 503.</summary>
    private static int BestStatus(IReadOnlyList<int> statuses, int quorum)
    {
        foreach (var hundred in (int[])[200, 300, 400])
        {
            var inClass = statuses.Where(s => s >= hundred && s < hundred + 100).ToList();
            if (inClass.Count >= quorum)
            {
                return inClass.GroupBy(s => s).OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key).First().Key;
            }
        }

        return StatusCodes.Status503ServiceUnavailable;
    }

    private static string NodeUrl(RingDevice node, string server, int partition, string path) =>
        $"{BackendClient.ServerUrl(node.Ip, node.Port, server)}/{SwiftPath.Encode(node.Device)}/{partition.ToString(CultureInfo.InvariantCulture)}{path}";

    private static string Host(RingDevice node) =>
        node.Ip.Contains(':', StringComparison.Ordinal) ? $"[{node.Ip}]:{node.Port}" : $"{node.Ip}:{node.Port}";

    private static string BackendPath(string account, string? container = null, string? obj = null) => SwiftPath.Join(account, container, obj);

    /// <summary>
    /// Reads from the first replica that answers with something other than not-found or an error,
    /// trying handoffs after the primaries; relays that response as it streams.
    /// </summary>
    private async Task<HttpResponseMessage?> ReadFromReplicasAsync(HttpContext context, HashRing ring, int partition, string server, string path, IEnumerable<KeyValuePair<string, string>> headers)
    {
        HttpResponseMessage? notFound = null;
        foreach (var node in ReadNodes(ring, partition))
        {
            var request = BackendClient.NewRequest(HttpMethods.IsHead(context.Request.Method) ? HttpMethod.Head : HttpMethod.Get, NodeUrl(node, server, partition, path + context.Request.QueryString.Value));
            BackendClient.AddHeaders(request, headers);
            var response = await _backend.SendAsync(request, context.RequestAborted);
            if (response is null)
            {
                continue;
            }

            var status = (int)response.StatusCode;
            if (status == StatusCodes.Status404NotFound)
            {
                notFound?.Dispose();
                notFound = response;
                continue;
            }

            if (status >= 500)
            {
                response.Dispose();
                continue;
            }

            notFound?.Dispose();
            return response;
        }

        return notFound;
    }

    /// <summary>Relays a backend response: status, end-to-end headers, and the body as it streams.</summary>
    private static async Task RelayAsync(HttpContext context, HttpResponseMessage backend)
    {
        using (backend)
        {
            var response = context.Response;
            response.StatusCode = (int)backend.StatusCode;
            foreach (var (name, value) in BackendClient.AllHeaders(backend))
            {
                if (!HopByHopHeaders.Contains(name) && !name.StartsWith("X-Backend-", StringComparison.OrdinalIgnoreCase))
                {
                    response.Headers[name] = value;
                }
            }

            if (HttpMethods.IsHead(context.Request.Method) || backend.StatusCode is System.Net.HttpStatusCode.NoContent or System.Net.HttpStatusCode.NotModified)
            {
                return;
            }

            await using var body = await backend.Content.ReadAsStreamAsync(context.RequestAborted);
            await body.CopyToAsync(response.Body, 64 * 1024, context.RequestAborted);
        }
    }

    private static List<KeyValuePair<string, string>> TimestampHeaders(SwiftTimestamp timestamp) => [new("X-Timestamp", timestamp.Normal)];

    private static IEnumerable<KeyValuePair<string, string>> ForwardedHeaders(HttpRequest request, Func<string, bool> include)
    {
        foreach (var (name, values) in request.Headers)
        {
            if (include(name))
            {
                yield return new(name, values.ToString());
            }
        }
    }

    /// <summary>What the proxy knows of an account or container: HEAD's status and headers, cached briefly.</summary>
    private sealed record CachedInfo(int Status, IReadOnlyDictionary<string, string> Headers, DateTimeOffset Expires);

    private async Task<CachedInfo> GetInfoAsync(string cacheKey, HashRing ring, int partition, string server, string path, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_infoCache.TryGetValue(cacheKey, out var cached) && cached.Expires > now)
        {
            return cached;
        }

        var status = StatusCodes.Status503ServiceUnavailable;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var node in ReadNodes(ring, partition))
        {
            using var request = BackendClient.NewRequest(HttpMethod.Head, NodeUrl(node, server, partition, path));
            using var response = await _backend.SendAsync(request, cancellationToken);
            if (response is null || (int)response.StatusCode >= 500)
            {
                continue;
            }

            status = (int)response.StatusCode;
            if (status == StatusCodes.Status404NotFound)
            {
                continue;
            }

            foreach (var (name, value) in BackendClient.AllHeaders(response))
            {
                headers[name] = value;
            }

            break;
        }

        var info = new CachedInfo(status, headers, now + _settings.InfoCacheTime);
        if (status is < 500)
        {
            _infoCache[cacheKey] = info;
        }

        return info;
    }

    private void ForgetInfo(string cacheKey) => _infoCache.TryRemove(cacheKey, out _);

    private static string AccountKey(string account) => "account/" + account;

    private static string ContainerKey(string account, string container) => "container/" + account + "/" + container;
}

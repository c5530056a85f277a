using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Nimbus.Objects.Common;
using Nimbus.Objects.Http;
using Nimbus.Objects.Ring;
using Nimbus.Objects.Storage;

namespace Nimbus.Objects.Servers;

/// <summary>
/// One storage node's object, container and account servers (Swift's object-server,
/// container-server and account-server), answering the proxy and each other over HTTP at
/// <c>/object|/container|/account</c> + <c>/{device}/{partition}/{account}[/{container}[/{object}]]</c>.
/// </summary>
public sealed partial class StorageServer
{
    private readonly string _devicesRoot;
    private readonly IObjectBackend _objects;
    private readonly AsyncPendingStore _pending;
    private readonly RingSet _rings;
    private readonly BackendClient _backend;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public StorageServer(string devicesRoot, IObjectBackend objects, AsyncPendingStore pending, RingSet rings, BackendClient backend, TimeProvider time, ILogger logger)
    {
        ContainerChanged = _ => { };
        _devicesRoot = devicesRoot;
        _objects = objects;
        _pending = pending;
        _rings = rings;
        _backend = backend;
        _time = time;
        _logger = logger;
    }

    public const string ReplicateMethod = "REPLICATE";

    public string DevicesRoot => _devicesRoot;

    /// <summary>Called with a container database's path when its stats change, so the container updater reports it promptly.</summary>
    public Action<string> ContainerChanged { get; set; }

    public async Task HandleAsync(HttpContext context)
    {
        var rawPath = SwiftPath.RawPath(context);
        if (!SwiftPath.TrySplit(rawPath, 3, 6, out var parts, out var error))
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, error);
            return;
        }

        if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var partition))
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, $"invalid partition '{parts[2]}'");
            return;
        }

        var device = parts[1]!;
        if (device.Contains('/', StringComparison.Ordinal) || device is "." or ".." || !Directory.Exists(Path.Combine(_devicesRoot, device)))
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status507InsufficientStorage, $"There was not enough space to save the resource. Drive: {device}");
            return;
        }

        if (context.Request.Method == ReplicateMethod && parts[0] == "object" && parts[3] is null)
        {
            await ReplicateAsync(context, device, partition);
            return;
        }

        if (parts[3] is null)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "invalid path: no account");
            return;
        }

        var target = new BackendTarget(device, partition, parts[3]!, parts[4], parts[5]);
        try
        {
            var task = parts[0] switch
            {
                "object" when target.Object is not null => HandleObjectAsync(context, target),
                "container" when target.Container is not null => HandleContainerAsync(context, target),
                "account" => HandleAccountAsync(context, target),
                _ => SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "invalid path"),
            };
            await task;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; nothing was acknowledged.
        }
    }

    /// <summary>The X-Timestamp a backend request must carry; null after answering 400.</summary>
    private static async Task<SwiftTimestamp?> RequireTimestampAsync(HttpContext context)
    {
        var header = context.Request.Headers["X-Timestamp"].ToString();
        if (header.Length == 0 || !SwiftTimestamp.TryParse(header, out var timestamp))
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, header.Length == 0 ? "Missing timestamp" : $"X-Timestamp should be a UNIX timestamp float value; was '{header}'");
            return null;
        }

        return timestamp;
    }

    private static long? HeaderLong(HttpRequest request, string name) =>
        long.TryParse(request.Headers[name].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>The parts of a backend path; names are decoded.</summary>
    private sealed record BackendTarget(string Device, int Partition, string Account, string? Container, string? Object)
    {
        public string Name => Object is not null ? $"/{Account}/{Container}/{Object}" : Container is not null ? $"/{Account}/{Container}" : $"/{Account}";
    }

    /// <summary>
    /// The replicator's verb: a partition's suffix hashes, or with <c>?suffixes=a,b</c> the newest
    /// version of every object in those suffixes.
    /// </summary>
    private async Task ReplicateAsync(HttpContext context, string device, int partition)
    {
        var suffixes = context.Request.Query["suffixes"].ToString();
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        if (suffixes.Length == 0)
        {
            var hashes = await _objects.GetSuffixHashesAsync(device, partition, context.RequestAborted);
            await JsonSerializer.SerializeAsync(context.Response.Body, hashes.ToDictionary(h => h.Key, h => h.Value), ReplicationJson.Options, context.RequestAborted);
            return;
        }

        var versions = await _objects.ListObjectsAsync(device, partition, suffixes.Split(',', StringSplitOptions.RemoveEmptyEntries), context.RequestAborted);
        var body = versions
            .Where(v => v.Presence != ObjectPresence.Missing)
            .Select(v => new ReplicatedVersion(v.Hash, v.Presence == ObjectPresence.Deleted, v.DataTimestamp.Ticks, v.MetadataTimestamp?.Ticks))
            .ToList();
        await JsonSerializer.SerializeAsync(context.Response.Body, body, ReplicationJson.Options, context.RequestAborted);
    }
}

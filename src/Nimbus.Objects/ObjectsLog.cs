using Microsoft.Extensions.Logging;

namespace Nimbus.Objects;

/// <summary>Object storage's log events; ids 3000–3999 are stable (Platform/Logging/LogEventIds.cs).</summary>
internal static partial class ObjectsLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Warning, Message = "Container update for {Name} to {Host} failed (status {Status}); kept for the updater")]
    public static partial void ContainerUpdateDeferred(ILogger logger, string name, string host, int status);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Storage node {Node} serving on {Url} with devices in {DevicesRoot}")]
    public static partial void NodeStarted(ILogger logger, int node, string url, string devicesRoot);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Storage node {Node} stopped")]
    public static partial void NodeStopped(ILogger logger, int node);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Rings reloaded from {Directory} (object ring version {Version})")]
    public static partial void RingsReloaded(ILogger logger, string directory, long version);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Backend {Method} {Url} failed: {Reason}")]
    public static partial void BackendFailed(ILogger logger, string method, string url, string reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "Proxy request {Method} {Path} failed")]
    public static partial void ProxyFailed(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Debug, Message = "{Daemon} pass: {Examined} examined, {Changed} changed, {Failed} failed")]
    public static partial void DaemonPass(ILogger logger, string daemon, int examined, int changed, int failed);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Error, Message = "{Daemon} pass failed")]
    public static partial void DaemonFailed(ILogger logger, string daemon, Exception exception);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "Auditor quarantined {Device}/{Hash}: {Reason}")]
    public static partial void Quarantined(ILogger logger, string device, string hash, string reason);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Information, Message = "Replicator pushed {Count} objects of partition {Partition} from {Device} to {Target}")]
    public static partial void Replicated(ILogger logger, int count, int partition, string device, string target);

    [LoggerMessage(EventId = 3040, Level = LogLevel.Error, Message = "Bulk {Operation} of {Path} failed")]
    public static partial void BulkFailed(ILogger logger, string operation, string path, Exception exception);

    [LoggerMessage(EventId = 3041, Level = LogLevel.Error, Message = "Returning 498 for {Method} to {Path}: ratelimit (max sleep) exceeded by {SleepSeconds:F2} s")]
    public static partial void RateLimited(ILogger logger, string method, string path, double sleepSeconds);
}

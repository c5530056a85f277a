using Microsoft.Extensions.Logging;

namespace Nimbus.Platform.Logging;

/// <summary>Log events of the shared platform pieces; event ids 1000–1099 are theirs (LogEventIds).</summary>
internal static partial class PlatformLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Error, Message = "Unhandled error while serving {Method} {Path}")]
    public static partial void UnhandledError(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Request refused with {Status} {Code}: {Reason}")]
    public static partial void RequestRefused(ILogger logger, int status, string code, string reason);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Caller sent global request id {GlobalRequestId}")]
    public static partial void GlobalRequestId(ILogger logger, string globalRequestId);
}

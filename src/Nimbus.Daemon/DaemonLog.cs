namespace Nimbus.Daemon;

/// <summary>Log events of nimbusd itself; event ids 2000–2099 are theirs (Platform/Logging/LogEventIds.cs).</summary>
internal static partial class DaemonLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "nimbusd {Version} ready at {Url} (role {Role}, state in {Home})")]
    public static partial void Ready(ILogger logger, string version, string url, string role, string home);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "nimbusd stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "nimbusd stopped")]
    public static partial void Stopped(ILogger logger);
}

using Microsoft.Extensions.Logging;

namespace Nimbus.Identity.Tokens;

/// <summary>Token keys and revocation log events; ids 5100–5199 are stable (Platform/Logging/LogEventIds.cs). Token text and key bytes are never logged.</summary>
internal static partial class TokensLog
{
    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Token keys created in {Directory}")]
    public static partial void KeysCreated(ILogger logger, string directory);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Token keys loaded from {Directory}: {Count} keys, primary {Primary}")]
    public static partial void KeysLoaded(ILogger logger, string directory, int count, int primary);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Information, Message = "Token keys in {Directory} rotated: primary is now {Primary}, {Count} keys active")]
    public static partial void KeysRotated(ILogger logger, string directory, int primary, int count);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Information, Message = "Token keys in {Directory} were rotated elsewhere and reloaded: primary {Primary}, {Count} keys active")]
    public static partial void KeysReloaded(ILogger logger, string directory, int primary, int count);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Error, Message = "Token keys in {Directory} changed but could not be reloaded; still using the previous keys")]
    public static partial void KeysReloadFailed(ILogger logger, string directory, Exception exception);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Warning, Message = "Token key directory {Directory} can be read by other users and its mode cannot be changed by this user; make it 0700")]
    public static partial void KeyDirectoryNotPrivate(ILogger logger, string directory);

    [LoggerMessage(EventId = 5110, Level = LogLevel.Information, Message = "Revocation event {Id} recorded (user {UserId}, project {ProjectId}, domain {DomainId}, role {RoleId}, audit {AuditId}, application credential {ApplicationCredentialId}, issued before {IssuedBefore:o})")]
    public static partial void EventRecorded(ILogger logger, string id, string? userId, string? projectId, string? domainId, string? roleId, string? auditId, string? applicationCredentialId, DateTimeOffset issuedBefore);

    [LoggerMessage(EventId = 5111, Level = LogLevel.Debug, Message = "Revocation sync learned {Count} events made elsewhere; {Total} active")]
    public static partial void EventsSynced(ILogger logger, int count, int total);

    [LoggerMessage(EventId = 5112, Level = LogLevel.Information, Message = "Pruned {Rows} revocation events older than {Cutoff:o}; {Total} active")]
    public static partial void EventsPruned(ILogger logger, int rows, DateTimeOffset cutoff, int total);

    [LoggerMessage(EventId = 5113, Level = LogLevel.Warning, Message = "Revocation sync failed; tokens revoked on other nodes are honoured here once it succeeds")]
    public static partial void SyncFailed(ILogger logger, Exception exception);
}

using Microsoft.Extensions.Logging;

namespace Nimbus.Identity;

/// <summary>Log events of Identity's directory, API and bootstrap; event ids 5000–5099 are theirs (Platform/Logging/LogEventIds.cs).</summary>
internal static partial class IdentityLog
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "Created {Kind} {Id}")]
    public static partial void Created(ILogger logger, string kind, string id);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Deleted {Kind} {Id}")]
    public static partial void Deleted(ILogger logger, string kind, string id);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Revoked tokens matching user {UserId} project {ProjectId} domain {DomainId} role {RoleId} application credential {AppCredId}")]
    public static partial void Revoked(ILogger logger, string? userId, string? projectId, string? domainId, string? roleId, string? appCredId);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Authentication refused for {Method}: {Reason}")]
    public static partial void AuthenticationRefused(ILogger logger, string method, string reason);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Issued a token for user {UserId} ({Methods}) scoped to project {ProjectId} domain {DomainId}")]
    public static partial void TokenIssued(ILogger logger, string userId, Tokens.TokenMethods methods, string? projectId, string? domainId);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "Bootstrap created {What}")]
    public static partial void BootstrapCreated(ILogger logger, string what);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "Bootstrap moved endpoint {EndpointId} to {Url}")]
    public static partial void BootstrapMovedEndpoint(ILogger logger, string endpointId, string url);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Information, Message = "Applied the identity schema ({Location})")]
    public static partial void Migrated(ILogger logger, string location);
}

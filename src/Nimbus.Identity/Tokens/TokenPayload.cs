namespace Nimbus.Identity.Tokens;

/// <summary>How the holder proved who they are; a token says every method it was issued for.</summary>
[Flags]
public enum TokenMethods
{
    None = 0,
    Password = 1,
    Token = 2,
    ApplicationCredential = 4,
}

/// <summary>A role the token grants on its scope (implied roles already expanded).</summary>
public sealed record TokenRole(string Id, string Name);

/// <summary>
/// Everything a token says, sealed inside it so any node holding the keys validates it without a
/// database read (the part Fernet tokens play in Keystone). Roles ride along; whatever would
/// change them (a removed assignment, a disabled user or project) records a revocation event.
/// </summary>
public sealed record TokenPayload
{
    public required string UserId { get; init; }

    public required string UserName { get; init; }

    public required string UserDomainId { get; init; }

    public required string UserDomainName { get; init; }

    public required TokenMethods Methods { get; init; }

    public string? ProjectId { get; init; }

    public string? ProjectName { get; init; }

    public string? ProjectDomainId { get; init; }

    public string? ProjectDomainName { get; init; }

    /// <summary>Set for a domain-scoped token.</summary>
    public string? DomainId { get; init; }

    public string? DomainName { get; init; }

    /// <summary>Effective roles on the scope; empty for an unscoped token.</summary>
    public required IReadOnlyList<TokenRole> Roles { get; init; }

    public required DateTimeOffset IssuedAt { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>This token's audit id (22 characters of url-safe base64, as Keystone's).</summary>
    public required string AuditId { get; init; }

    /// <summary>The audit id of the token this one was rescoped from, so revoking the first revokes the chain.</summary>
    public string? ParentAuditId { get; init; }

    public string? ApplicationCredentialId { get; init; }
}

/// <summary>
/// A revocation event, as Keystone keeps them: it revokes every token issued at or before
/// <see cref="IssuedBefore"/> whose fields equal all the event's non-null fields.
/// Stored in the identity table <c>revocation_events</c>.
/// </summary>
public sealed record RevocationEvent
{
    /// <summary>The row's key, given when the event is stored; nodes that read the same event twice recognise it by this.</summary>
    public string Id { get; init; } = Guid.NewGuid().ToString("N");

    public string? UserId { get; init; }

    public string? ProjectId { get; init; }

    public string? DomainId { get; init; }

    public string? RoleId { get; init; }

    /// <summary>Matches a token's own audit id or its parent's.</summary>
    public string? AuditId { get; init; }

    public string? ApplicationCredentialId { get; init; }

    public required DateTimeOffset IssuedBefore { get; init; }

    public required DateTimeOffset RevokedAt { get; init; }
}

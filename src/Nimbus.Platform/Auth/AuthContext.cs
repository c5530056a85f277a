namespace Nimbus.Platform.Auth;

/// <summary>
/// Who made a request and what their token allows, as Identity vouched for it. Every service on
/// the API host reads this, never the token itself. Role names are already expanded through
/// implied roles (<c>admin</c> ⊃ <c>member</c> ⊃ <c>reader</c>).
/// </summary>
public sealed record AuthContext
{
    public required string UserId { get; init; }

    public required string UserName { get; init; }

    public required string UserDomainId { get; init; }

    /// <summary>The project the token is scoped to; null for domain-scoped and unscoped tokens.</summary>
    public string? ProjectId { get; init; }

    public string? ProjectName { get; init; }

    public string? ProjectDomainId { get; init; }

    /// <summary>The domain a domain-scoped token is scoped to.</summary>
    public string? DomainId { get; init; }

    public required IReadOnlyList<string> Roles { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>Set when the token came from an application credential, whose own management is refused.</summary>
    public string? ApplicationCredentialId { get; init; }

    /// <summary>Keystone's legacy "cloud admin": the admin role on any scope.</summary>
    public bool IsAdmin => HasRole("admin");

    public bool IsScoped => ProjectId is not null || DomainId is not null;

    public bool HasRole(string role) => Roles.Contains(role, StringComparer.OrdinalIgnoreCase);
}

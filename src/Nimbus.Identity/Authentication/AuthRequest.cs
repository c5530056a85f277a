namespace Nimbus.Identity.Authentication;

/// <summary>The body of POST /v3/auth/tokens, parsed (api-ref identity v3, "Authentication and token management").</summary>
internal sealed record AuthRequest
{
    public required IReadOnlyList<string> Methods { get; init; }

    public PasswordCredentials? Password { get; init; }

    /// <summary>The token of the <c>token</c> method (rescoping).</summary>
    public string? Token { get; init; }

    public ApplicationCredentialCredentials? ApplicationCredential { get; init; }

    public AuthScope? Scope { get; init; }

    /// <summary><c>"scope": "unscoped"</c>: no scope even when the user has a default project.</summary>
    public bool ExplicitlyUnscoped { get; init; }
}

/// <summary>The user of the password method: by id, or by name with the domain by id or name.</summary>
internal sealed record PasswordCredentials(string? UserId, string? UserName, string? DomainId, string? DomainName, string Password);

internal sealed record ApplicationCredentialCredentials(string? Id, string? Name, string? UserId, string? UserName, string? UserDomainId, string? UserDomainName, string Secret);

/// <summary>A project by id, or by name with its domain; or a domain by id or name.</summary>
internal sealed record AuthScope(string? ProjectId, string? ProjectName, string? ProjectDomainId, string? ProjectDomainName, string? DomainId, string? DomainName)
{
    public bool IsProject => ProjectId is not null || ProjectName is not null;
}

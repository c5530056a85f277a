using Nimbus.Platform.Auth;

namespace Nimbus.Identity.Tokens;

/// <summary>The token check of the API host: a valid token's payload as the <see cref="AuthContext"/> every service reads.</summary>
public sealed class TokenValidator : ITokenValidator
{
    private readonly TokenService _tokens;

    public TokenValidator(TokenService tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        _tokens = tokens;
    }

    public ValueTask<AuthContext?> ValidateAsync(string token, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_tokens.Validate(token) is { } payload ? ToAuthContext(payload) : null);

    public static AuthContext ToAuthContext(TokenPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var roles = new string[payload.Roles.Count];
        for (var i = 0; i < roles.Length; i++)
        {
            roles[i] = payload.Roles[i].Name;
        }

        return new AuthContext
        {
            UserId = payload.UserId,
            UserName = payload.UserName,
            UserDomainId = payload.UserDomainId,
            ProjectId = payload.ProjectId,
            ProjectName = payload.ProjectName,
            ProjectDomainId = payload.ProjectDomainId,
            DomainId = payload.DomainId,
            Roles = roles,
            ExpiresAt = payload.ExpiresAt,
            ApplicationCredentialId = payload.ApplicationCredentialId,
        };
    }
}

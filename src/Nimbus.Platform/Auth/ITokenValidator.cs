namespace Nimbus.Platform.Auth;

/// <summary>
/// Turns an <c>X-Auth-Token</c> into who it speaks for. Identity provides it; other services only
/// consume the result. Hot: it returns null for a token that is malformed, expired or revoked
/// instead of throwing.
/// </summary>
public interface ITokenValidator
{
    ValueTask<AuthContext?> ValidateAsync(string token, CancellationToken cancellationToken);
}

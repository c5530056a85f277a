using Nimbus.Identity.Tokens;

namespace Nimbus.Identity.Resources;

/// <summary>
/// Where the directory records that tokens stopped being valid (a user disabled, a role removed).
/// The token service implements it; the directory calls it only after its own change committed.
/// </summary>
internal interface ITokenRevoker
{
    Task RevokeAsync(RevocationEvent revocation, CancellationToken cancellationToken);
}

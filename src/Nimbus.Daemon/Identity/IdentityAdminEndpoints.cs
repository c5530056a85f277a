using Nimbus.Identity.Tokens;

namespace Nimbus.Daemon.Identity;

/// <summary>The token keys as Identity's operator sees them: which exist and which one signs.</summary>
public sealed record TokenKeysStatus(string Directory, int Primary, IReadOnlyList<int> Keys);

/// <summary>
/// Identity's local operator API under <c>/identity-admin/v1</c>, served only on the unix socket:
/// key rotation (keystone-manage fernet_rotate) for <c>nimbus identity rotate-keys</c>.
/// </summary>
internal static class IdentityAdminEndpoints
{
    public static IEndpointRouteBuilder MapIdentityAdmin(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/identity-admin/v1").AddEndpointFilter(LocalOnly.FilterAsync);
        admin.MapGet("/token-keys", (TokenKeyRing keys) => Describe(keys));
        admin.MapPost("/token-keys/rotate", async (TokenKeyRing keys, CancellationToken ct) =>
        {
            await keys.RotateAsync(ct);
            return Describe(keys);
        });
        return endpoints;
    }

    private static TokenKeysStatus Describe(TokenKeyRing keys) => new(keys.Directory, keys.PrimaryIndex, keys.KeyIndexes);
}

using Nimbus.Identity.Tokens;
using Nimbus.Platform.Contracts;

namespace Nimbus.Daemon.Identity;

/// <summary>
/// Identity's local operator API under <c>/identity-admin/v1</c>, served only on the unix socket:
/// key rotation (keystone-manage fernet_rotate) for <c>nimbus identity rotate-keys</c>.
/// </summary>
internal static class IdentityAdminEndpoints
{
    public static IEndpointRouteBuilder MapIdentityAdmin(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/identity-admin/v1").AddEndpointFilter(LocalOnly.FilterAsync);
        admin.MapGet("/token-keys", (TokenKeyRing keys) => Results.Json(Status(keys), ContractsJson.Default.TokenKeysStatus));
        admin.MapPost("/token-keys/rotate", async (TokenKeyRing keys, CancellationToken ct) =>
        {
            await keys.RotateAsync(ct);
            return Results.Json(Status(keys), ContractsJson.Default.TokenKeysStatus);
        });
        return endpoints;
    }

    private static TokenKeysStatus Status(TokenKeyRing ring) => new(ring.Directory, ring.PrimaryIndex, ring.KeyIndexes);
}

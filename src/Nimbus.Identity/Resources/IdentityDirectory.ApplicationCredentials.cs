using System.Security.Cryptography;
using Nimbus.Identity.Authentication;
using Nimbus.Identity.Tokens;
using Nimbus.Platform.Data;
using Nimbus.Platform.Errors;

namespace Nimbus.Identity.Resources;

internal sealed partial class IdentityDirectory
{
    private const string AppCredColumns = "id AS Id, name AS Name, user_id AS UserId, project_id AS ProjectId, secret_hash AS SecretHash, description AS Description, expires_at AS ExpiresAt, unrestricted AS Unrestricted";

    /// <summary>
    /// Creates an application credential for the project of the creating token. Its roles must be
    /// among <paramref name="creatorRoles"/> (the token's roles); none named means all of them.
    /// </summary>
    public async Task<CreatedApplicationCredential> CreateApplicationCredentialAsync(ApplicationCredentialCreate command, IReadOnlyList<Role> creatorRoles, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ValidateName("name", command.Name);
        if (command.ExpiresAt is { } expires && expires <= Now())
        {
            throw IdentityErrors.Invalid("expires_at", "must be in the future.");
        }

        var roles = new List<Role>();
        foreach (var wanted in command.Roles)
        {
            var role = creatorRoles.FirstOrDefault(r => (wanted.Id is not null && r.Id == wanted.Id) || (wanted.Id is null && r.Name == wanted.Name))
                // Keystone (application_credential/core.py): a role the creator lacks on the project is refused.
                ?? throw new ForbiddenException(
                    "identity.application_credential_role",
                    $"Cannot create an application credential with role {wanted.Id ?? wanted.Name}: the user has no such role on project {command.ProjectId}.");
            if (roles.All(r => r.Id != role.Id))
            {
                roles.Add(role);
            }
        }

        if (command.Roles.Count == 0)
        {
            roles.AddRange(creatorRoles);
        }

        // Keystone's secrets: 64 random bytes, url-safe base64 without padding.
        var secret = command.Secret ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var credential = new ApplicationCredential(NewId(), command.Name, command.UserId, command.ProjectId, command.Description ?? "", command.ExpiresAt, command.Unrestricted, roles);
        var hash = _hasher.Hash(secret);
        try
        {
            await _database.WriteAsync(
                async session =>
                {
                    _ = await FindUserRowAsync(session, command.UserId) ?? throw IdentityErrors.NotFound("user", command.UserId);
                    await session.ExecuteAsync(
                        "INSERT INTO application_credentials (id, name, user_id, project_id, secret_hash, description, expires_at, unrestricted, created_at) VALUES (@Id, @Name, @UserId, @ProjectId, @Hash, @Description, @ExpiresAt, @Unrestricted, @CreatedAt)",
                        new
                        {
                            credential.Id,
                            credential.Name,
                            credential.UserId,
                            credential.ProjectId,
                            Hash = hash,
                            credential.Description,
                            ExpiresAt = credential.ExpiresAt?.ToUnixTimeMilliseconds(),
                            credential.Unrestricted,
                            CreatedAt = Now().ToUnixTimeMilliseconds(),
                        });
                    foreach (var role in roles)
                    {
                        await session.ExecuteAsync("INSERT INTO application_credential_roles (application_credential_id, role_id) VALUES (@Id, @RoleId)", new { credential.Id, RoleId = role.Id });
                    }
                },
                cancellationToken);
        }
        catch (DuplicateKeyException)
        {
            throw new ConflictException("identity.duplicate", $"Conflict occurred attempting to store application_credential - Duplicate entry found with name {command.Name}.");
        }

        IdentityLog.Created(_logger, "application credential", credential.Id);
        return new CreatedApplicationCredential(credential, secret);
    }

    public async Task<ApplicationCredential> GetApplicationCredentialAsync(string userId, string id, CancellationToken cancellationToken)
    {
        var found = await FindApplicationCredentialAsync(id, cancellationToken);
        return found is not null && found.UserId == userId ? found : throw AppCredNotFound(id);
    }

    public async Task<ApplicationCredential?> FindApplicationCredentialAsync(string id, CancellationToken cancellationToken) =>
        (await LoadApplicationCredentialsAsync("id = @id", new { id }, cancellationToken)).Select(c => c.Credential).FirstOrDefault();

    public async Task<IReadOnlyList<ApplicationCredential>> ListApplicationCredentialsAsync(string userId, string? name, CancellationToken cancellationToken) =>
        (await LoadApplicationCredentialsAsync("user_id = @userId AND (@name IS NULL OR name = @name)", new { userId, name }, cancellationToken)).Select(c => c.Credential).ToList();

    public async Task DeleteApplicationCredentialAsync(string userId, string id, CancellationToken cancellationToken)
    {
        await _database.WriteAsync(
            async session =>
            {
                var removed = await session.ExecuteAsync("DELETE FROM application_credentials WHERE id = @id AND user_id = @userId", new { id, userId });
                if (removed == 0)
                {
                    throw AppCredNotFound(id);
                }

                await session.ExecuteAsync("DELETE FROM application_credential_roles WHERE application_credential_id = @id", new { id });
            },
            cancellationToken);
        IdentityLog.Deleted(_logger, "application credential", id);
        await RevokeAsync(new RevocationEvent { ApplicationCredentialId = id, IssuedBefore = Now(), RevokedAt = Now() }, cancellationToken);
    }

    /// <summary>The credential named by id, or by name for one user, when <paramref name="secret"/> matches; null otherwise.</summary>
    internal async Task<ApplicationCredential?> VerifyApplicationCredentialAsync(string? id, string? name, string? userId, string secret, CancellationToken cancellationToken)
    {
        var found = id is not null
            ? await LoadApplicationCredentialsAsync("id = @id", new { id }, cancellationToken)
            : await LoadApplicationCredentialsAsync("name = @name AND user_id = @userId", new { name, userId }, cancellationToken);
        return found.Count > 0 && PasswordHasher.Verify(secret, found[0].SecretHash) ? found[0].Credential : null;
    }

    private static NotFoundException AppCredNotFound(string id) =>
        new("identity.application_credential_not_found", $"Could not find Application Credential: {id}.");

    private async Task<IReadOnlyList<(ApplicationCredential Credential, string SecretHash)>> LoadApplicationCredentialsAsync(string where, object args, CancellationToken cancellationToken) =>
        await _database.ReadAsync(
            async session =>
            {
                var rows = await session.QueryAsync<AppCredRow>($"SELECT {AppCredColumns} FROM application_credentials WHERE {where} ORDER BY name", args);
                if (rows.Count == 0)
                {
                    return (IReadOnlyList<(ApplicationCredential, string)>)[];
                }

                var links = await session.QueryAsync<AppCredRoleRow>(
                    $"SELECT application_credential_id AS CredentialId, role_id AS RoleId FROM application_credential_roles WHERE application_credential_id IN (SELECT id FROM application_credentials WHERE {where})",
                    args);
                var roles = (await session.QueryAsync<RoleRow>($"SELECT {RoleColumns} FROM roles")).ToDictionary(r => r.Id, r => r.ToModel(), StringComparer.Ordinal);
                return rows.Select(r => (
                        new ApplicationCredential(
                            r.Id,
                            r.Name,
                            r.UserId,
                            r.ProjectId,
                            r.Description,
                            r.ExpiresAt is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null,
                            r.Unrestricted,
                            links.Where(l => l.CredentialId == r.Id && roles.ContainsKey(l.RoleId)).Select(l => roles[l.RoleId]).ToList()),
                        r.SecretHash))
                    .ToList();
            },
            cancellationToken);
}

/// <summary>A role named in a request by id or by name.</summary>
internal sealed record RoleReference(string? Id, string? Name);

/// <summary>POST /v3/users/{user_id}/application_credentials, with the project of the creating token.</summary>
internal sealed record ApplicationCredentialCreate(
    string UserId,
    string ProjectId,
    string Name,
    string? Secret,
    string? Description,
    DateTimeOffset? ExpiresAt,
    bool Unrestricted,
    IReadOnlyList<RoleReference> Roles);

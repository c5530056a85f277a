using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Nimbus.Platform.Data;
using Nimbus.Platform.Errors;

namespace Nimbus.Identity.Resources;

/// <summary>A stored credential (api-ref "Credentials"): an opaque blob of a type such as <c>ec2</c> or <c>totp</c>.</summary>
internal sealed record Credential(string Id, string UserId, string? ProjectId, string Type, string Blob);

internal sealed partial class IdentityDirectory
{
    private const string CredentialColumns = "id AS Id, user_id AS UserId, project_id AS ProjectId, type AS Type, blob AS Blob";

    /// <summary>
    /// Creates a credential. An <c>ec2</c> credential's id is the SHA-256 of its access key, as
    /// Keystone derives it, so S3 and EC2 signatures find it by access key.
    /// </summary>
    public async Task<Credential> CreateCredentialAsync(string userId, string? projectId, string type, string blob, CancellationToken cancellationToken)
    {
        ValidateName("type", type);
        string id;
        if (type == "ec2")
        {
            var access = Ec2Access(blob) ?? throw IdentityErrors.Invalid("blob", "an ec2 credential's blob must be a JSON object with an 'access' key.");
            if (projectId is null)
            {
                throw IdentityErrors.Missing("project_id", "credential");
            }

            id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(access)));
        }
        else
        {
            id = NewId();
        }

        var credential = new Credential(id, userId, projectId, type, blob);
        try
        {
            await _database.WriteAsync(
                async session =>
                {
                    _ = await FindUserRowAsync(session, userId) ?? throw IdentityErrors.NotFound("user", userId);
                    if (projectId is not null)
                    {
                        _ = await FindProjectAsync(session, projectId) ?? throw IdentityErrors.NotFound("project", projectId);
                    }

                    await session.ExecuteAsync(
                        "INSERT INTO credentials (id, user_id, project_id, type, blob, extra) VALUES (@Id, @UserId, @ProjectId, @Type, @Blob, '{}')",
                        new { credential.Id, credential.UserId, credential.ProjectId, credential.Type, credential.Blob });
                },
                cancellationToken);
        }
        catch (DuplicateKeyException)
        {
            throw new ConflictException("identity.duplicate", $"Conflict occurred attempting to store credential - Duplicate ID, {id}.");
        }

        IdentityLog.Created(_logger, "credential", id);
        return credential;
    }

    public async Task<Credential> GetCredentialAsync(string id, CancellationToken cancellationToken) =>
        await FindCredentialAsync(id, cancellationToken) ?? throw IdentityErrors.NotFound("credential", id);

    public async Task<Credential?> FindCredentialAsync(string id, CancellationToken cancellationToken) =>
        FirstOrNull(await _database.ReadAsync(session => session.QueryAsync<CredentialRow>($"SELECT {CredentialColumns} FROM credentials WHERE id = @id", new { id }), cancellationToken))?.ToModel();

    public async Task<IReadOnlyList<Credential>> ListCredentialsAsync(string? userId, string? type, CancellationToken cancellationToken) =>
        (await _database.ReadAsync(
            session => session.QueryAsync<CredentialRow>($"SELECT {CredentialColumns} FROM credentials WHERE (@userId IS NULL OR user_id = @userId) AND (@type IS NULL OR type = @type) ORDER BY id", new { userId, type }),
            cancellationToken)).Select(r => r.ToModel()).ToList();

    public async Task<Credential> UpdateCredentialAsync(string id, string? projectId, string? type, string? blob, CancellationToken cancellationToken) =>
        await _database.WriteAsync(
            async session =>
            {
                var current = FirstOrNull(await session.QueryAsync<CredentialRow>($"SELECT {CredentialColumns} FROM credentials WHERE id = @id", new { id }))?.ToModel()
                    ?? throw IdentityErrors.NotFound("credential", id);
                var updated = current with { ProjectId = projectId ?? current.ProjectId, Type = type ?? current.Type, Blob = blob ?? current.Blob };
                await session.ExecuteAsync("UPDATE credentials SET project_id = @ProjectId, type = @Type, blob = @Blob WHERE id = @Id", new { updated.Id, updated.ProjectId, updated.Type, updated.Blob });
                return updated;
            },
            cancellationToken);

    public async Task DeleteCredentialAsync(string id, CancellationToken cancellationToken) =>
        await _database.WriteAsync(
            async session =>
            {
                if (await session.ExecuteAsync("DELETE FROM credentials WHERE id = @id", new { id }) == 0)
                {
                    throw IdentityErrors.NotFound("credential", id);
                }
            },
            cancellationToken);

    /// <summary>The access key of an ec2 blob (<c>{"access": …, "secret": …}</c>), or null when it has none.</summary>
    internal static string? Ec2Access(string blob)
    {
        try
        {
            return JsonNode.Parse(blob) is JsonObject o && o["access"] is JsonValue v && v.TryGetValue<string>(out var access) && access.Length > 0 ? access : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}

#pragma warning disable CA1812 // Instantiated by Dapper.
internal sealed class CredentialRow
{
    public string Id { get; set; } = "";
    public string UserId { get; set; } = "";
    public string? ProjectId { get; set; }
    public string Type { get; set; } = "";
    public string Blob { get; set; } = "";

    public Credential ToModel() => new(Id, UserId, ProjectId, Type, Blob);
}
#pragma warning restore CA1812

using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Nimbus.Identity.Authentication;
using Nimbus.Identity.Tokens;
using Nimbus.Platform.Data;

namespace Nimbus.Identity.Resources;

/// <summary>
/// Identity's resources and Keystone's rules for them: domains, projects, users, groups, roles and
/// their assignments, the catalog and application credentials. HTTP handlers hand it typed
/// commands; it validates, decides and writes, each change in one transaction, and records a
/// revocation event after any change that makes issued tokens wrong.
/// </summary>
internal sealed partial class IdentityDirectory
{
    public const string DefaultDomainId = "default";
    public const int MaxNameLength = 255;

    /// <summary>Keystone's schema limit for domain, project and group names.</summary>
    public const int ShortNameLength = 64;

    private const string DomainColumns = "id AS Id, name AS Name, enabled AS Enabled, description AS Description, extra AS Extra";
    private const string ProjectColumns = "id AS Id, name AS Name, domain_id AS DomainId, parent_id AS ParentId, enabled AS Enabled, description AS Description, extra AS Extra";

    private readonly Database _database;
    private readonly TimeProvider _clock;
    private readonly PasswordHasher _hasher;
    private readonly ITokenRevoker _revoker;
    private readonly ILogger _logger;

    public IdentityDirectory(Database database, TimeProvider clock, PasswordHasher hasher, ITokenRevoker revoker, ILogger<IdentityDirectory> logger)
    {
        _database = database;
        _clock = clock;
        _hasher = hasher;
        _revoker = revoker;
        _logger = logger;
    }

    public Database Database => _database;

    public static string NewId() => Guid.NewGuid().ToString("N");

    // ---- Domains -------------------------------------------------------------------------

    public async Task<Domain> CreateDomainAsync(string name, string? description, bool enabled, string? id, CancellationToken cancellationToken)
    {
        ValidateName("name", name, ShortNameLength);
        var domain = new Domain(id ?? NewId(), name, enabled, description ?? "", []);
        try
        {
            await _database.WriteAsync(
                session => session.ExecuteAsync(
                    "INSERT INTO domains (id, name, enabled, description, extra) VALUES (@Id, @Name, @Enabled, @Description, '{}')",
                    new { domain.Id, domain.Name, domain.Enabled, domain.Description }),
                cancellationToken);
        }
        catch (DuplicateKeyException)
        {
            throw IdentityErrors.Duplicate("domain", name, null);
        }

        IdentityLog.Created(_logger, "domain", domain.Id);
        return domain;
    }

    public async Task<Domain> GetDomainAsync(string id, CancellationToken cancellationToken) =>
        await FindDomainAsync(id, cancellationToken) ?? throw IdentityErrors.NotFound("domain", id);

    public Task<Domain?> FindDomainAsync(string id, CancellationToken cancellationToken) =>
        _database.ReadAsync(session => FindDomainAsync(session, id), cancellationToken);

    public async Task<Domain?> FindDomainByNameAsync(string name, CancellationToken cancellationToken) =>
        (await _database.ReadAsync(session => session.QueryAsync<DomainRow>($"SELECT {DomainColumns} FROM domains WHERE name = @name", new { name }), cancellationToken))
            .Select(r => r.ToModel()).FirstOrDefault();

    public async Task<IReadOnlyList<Domain>> ListDomainsAsync(string? name, bool? enabled, CancellationToken cancellationToken)
    {
        var rows = await _database.ReadAsync(
            session => session.QueryAsync<DomainRow>(
                $"SELECT {DomainColumns} FROM domains WHERE (@name IS NULL OR name = @name) ORDER BY name",
                new { name }),
            cancellationToken);
        return rows.Select(r => r.ToModel()).Where(d => enabled is null || d.Enabled == enabled).ToList();
    }

    public async Task<Domain> UpdateDomainAsync(string id, string? name, string? description, bool? enabled, CancellationToken cancellationToken)
    {
        if (name is not null)
        {
            ValidateName("name", name, ShortNameLength);
        }

        Domain before;
        Domain after;
        try
        {
            (before, after) = await _database.WriteAsync(
                async session =>
                {
                    var current = await FindDomainAsync(session, id) ?? throw IdentityErrors.NotFound("domain", id);
                    var updated = current with { Name = name ?? current.Name, Description = description ?? current.Description, Enabled = enabled ?? current.Enabled };
                    await session.ExecuteAsync(
                        "UPDATE domains SET name = @Name, description = @Description, enabled = @Enabled WHERE id = @Id",
                        new { updated.Id, updated.Name, updated.Description, updated.Enabled });
                    return (current, updated);
                },
                cancellationToken);
        }
        catch (DuplicateKeyException)
        {
            throw IdentityErrors.Duplicate("domain", name!, null);
        }

        if (before.Enabled && !after.Enabled)
        {
            await RevokeAsync(new RevocationEvent { DomainId = id, IssuedBefore = Now(), RevokedAt = Now() }, cancellationToken);
        }

        return after;
    }

    /// <summary>Deletes a disabled domain with everything in it, as Keystone does.</summary>
    public async Task DeleteDomainAsync(string id, CancellationToken cancellationToken)
    {
        await _database.WriteAsync(
            async session =>
            {
                var domain = await FindDomainAsync(session, id) ?? throw IdentityErrors.NotFound("domain", id);
                if (domain.Enabled)
                {
                    throw IdentityErrors.Forbidden("domain_enabled", "Cannot delete a domain that is enabled, please disable it first.");
                }

                var args = new { id };
                await session.ExecuteAsync("DELETE FROM role_assignments WHERE target_type = 'project' AND target_id IN (SELECT id FROM projects WHERE domain_id = @id)", args);
                await session.ExecuteAsync("DELETE FROM role_assignments WHERE target_type = 'domain' AND target_id = @id", args);
                await session.ExecuteAsync("DELETE FROM role_assignments WHERE actor_type = 'user' AND actor_id IN (SELECT id FROM users WHERE domain_id = @id)", args);
                await session.ExecuteAsync("DELETE FROM role_assignments WHERE actor_type = 'group' AND actor_id IN (SELECT id FROM groups WHERE domain_id = @id)", args);
                await session.ExecuteAsync("DELETE FROM group_members WHERE group_id IN (SELECT id FROM groups WHERE domain_id = @id) OR user_id IN (SELECT id FROM users WHERE domain_id = @id)", args);
                await session.ExecuteAsync("DELETE FROM application_credential_roles WHERE application_credential_id IN (SELECT id FROM application_credentials WHERE user_id IN (SELECT id FROM users WHERE domain_id = @id))", args);
                await session.ExecuteAsync("DELETE FROM application_credentials WHERE user_id IN (SELECT id FROM users WHERE domain_id = @id)", args);
                await session.ExecuteAsync("DELETE FROM users WHERE domain_id = @id", args);
                await session.ExecuteAsync("DELETE FROM groups WHERE domain_id = @id", args);
                await session.ExecuteAsync("DELETE FROM projects WHERE domain_id = @id", args);
                await session.ExecuteAsync("DELETE FROM implied_roles WHERE prior_role_id IN (SELECT id FROM roles WHERE domain_id = @id) OR implied_role_id IN (SELECT id FROM roles WHERE domain_id = @id)", args);
                await session.ExecuteAsync("DELETE FROM roles WHERE domain_id = @id", args);
                await session.ExecuteAsync("DELETE FROM domains WHERE id = @id", args);
            },
            cancellationToken);
        IdentityLog.Deleted(_logger, "domain", id);
        await RevokeAsync(new RevocationEvent { DomainId = id, IssuedBefore = Now(), RevokedAt = Now() }, cancellationToken);
    }

    // ---- Projects ------------------------------------------------------------------------

    public async Task<Project> CreateProjectAsync(string name, string? domainId, string? parentId, string? description, bool enabled, JsonObject? extra, CancellationToken cancellationToken)
    {
        ValidateName("name", name, ShortNameLength);
        try
        {
            var project = await _database.WriteAsync(
                async session =>
                {
                    string domain;
                    if (parentId is not null)
                    {
                        var parent = await FindProjectAsync(session, parentId) ?? throw IdentityErrors.NotFound("project", parentId);
                        if (domainId is not null && domainId != parent.DomainId)
                        {
                            throw IdentityErrors.Forbidden("project_domain_mismatch", "Cannot create project, since its parent is in a different domain.");
                        }

                        domain = parent.DomainId;
                    }
                    else
                    {
                        domain = domainId ?? DefaultDomainId;
                    }

                    _ = await FindDomainAsync(session, domain) ?? throw IdentityErrors.NotFound("domain", domain);
                    var created = new Project(NewId(), name, domain, parentId, enabled, description ?? "", extra ?? []);
                    await session.ExecuteAsync(
                        "INSERT INTO projects (id, name, domain_id, parent_id, enabled, description, extra) VALUES (@Id, @Name, @DomainId, @ParentId, @Enabled, @Description, @Extra)",
                        new { created.Id, created.Name, created.DomainId, created.ParentId, created.Enabled, created.Description, Extra = Json.Write(created.Extra) });
                    return created;
                },
                cancellationToken);
            IdentityLog.Created(_logger, "project", project.Id);
            return project;
        }
        catch (DuplicateKeyException)
        {
            throw IdentityErrors.Duplicate("project", name, domainId ?? DefaultDomainId);
        }
    }

    public async Task<Project> GetProjectAsync(string id, CancellationToken cancellationToken) =>
        await FindProjectAsync(id, cancellationToken) ?? throw IdentityErrors.NotFound("project", id);

    public Task<Project?> FindProjectAsync(string id, CancellationToken cancellationToken) =>
        _database.ReadAsync(session => FindProjectAsync(session, id), cancellationToken);

    public async Task<Project?> FindProjectByNameAsync(string name, string domainId, CancellationToken cancellationToken) =>
        (await _database.ReadAsync(
            session => session.QueryAsync<ProjectRow>($"SELECT {ProjectColumns} FROM projects WHERE name = @name AND domain_id = @domainId", new { name, domainId }),
            cancellationToken)).Select(r => r.ToModel()).FirstOrDefault();

    public async Task<IReadOnlyList<Project>> ListProjectsAsync(ProjectFilter filter, CancellationToken cancellationToken)
    {
        var rows = await _database.ReadAsync(
            session => session.QueryAsync<ProjectRow>(
                $"SELECT {ProjectColumns} FROM projects WHERE (@Name IS NULL OR name = @Name) AND (@DomainId IS NULL OR domain_id = @DomainId) AND (@ParentId IS NULL OR parent_id = @ParentId) ORDER BY name",
                new { filter.Name, filter.DomainId, filter.ParentId }),
            cancellationToken);
        return rows.Select(r => r.ToModel())
            .Where(p => filter.Enabled is null || p.Enabled == filter.Enabled)
            .Where(p => filter.Ids is null || filter.Ids.Contains(p.Id))
            .ToList();
    }

    public async Task<Project> UpdateProjectAsync(string id, string? name, string? description, bool? enabled, JsonObject? extra, CancellationToken cancellationToken)
    {
        if (name is not null)
        {
            ValidateName("name", name, ShortNameLength);
        }

        Project before, after;
        try
        {
            (before, after) = await _database.WriteAsync(
                async session =>
                {
                    var current = await FindProjectAsync(session, id) ?? throw IdentityErrors.NotFound("project", id);
                    var merged = Merge(current.Extra, extra);
                    var updated = current with { Name = name ?? current.Name, Description = description ?? current.Description, Enabled = enabled ?? current.Enabled, Extra = merged };
                    await session.ExecuteAsync(
                        "UPDATE projects SET name = @Name, description = @Description, enabled = @Enabled, extra = @Extra WHERE id = @Id",
                        new { updated.Id, updated.Name, updated.Description, updated.Enabled, Extra = Json.Write(updated.Extra) });
                    return (current, updated);
                },
                cancellationToken);
        }
        catch (DuplicateKeyException)
        {
            throw IdentityErrors.Duplicate("project", name!, null);
        }

        if (before.Enabled && !after.Enabled)
        {
            await RevokeAsync(new RevocationEvent { ProjectId = id, IssuedBefore = Now(), RevokedAt = Now() }, cancellationToken);
        }

        return after;
    }

    public async Task DeleteProjectAsync(string id, CancellationToken cancellationToken)
    {
        await _database.WriteAsync(
            async session =>
            {
                _ = await FindProjectAsync(session, id) ?? throw IdentityErrors.NotFound("project", id);
                var children = await session.ScalarAsync<long>("SELECT COUNT(*) FROM projects WHERE parent_id = @id", new { id });
                if (children > 0)
                {
                    throw IdentityErrors.Forbidden("project_not_leaf", $"Cannot delete the project {id} since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.");
                }

                await session.ExecuteAsync("DELETE FROM role_assignments WHERE target_type = 'project' AND target_id = @id", new { id });
                await session.ExecuteAsync("DELETE FROM application_credential_roles WHERE application_credential_id IN (SELECT id FROM application_credentials WHERE project_id = @id)", new { id });
                await session.ExecuteAsync("DELETE FROM application_credentials WHERE project_id = @id", new { id });
                await session.ExecuteAsync("UPDATE users SET default_project_id = NULL WHERE default_project_id = @id", new { id });
                await session.ExecuteAsync("DELETE FROM projects WHERE id = @id", new { id });
            },
            cancellationToken);
        IdentityLog.Deleted(_logger, "project", id);
        await RevokeAsync(new RevocationEvent { ProjectId = id, IssuedBefore = Now(), RevokedAt = Now() }, cancellationToken);
    }

    // ---- Shared helpers ------------------------------------------------------------------

    private static async Task<Domain?> FindDomainAsync(DataSession session, string id) =>
        (await session.QueryAsync<DomainRow>($"SELECT {DomainColumns} FROM domains WHERE id = @id", new { id })).Select(r => r.ToModel()).FirstOrDefault();

    private static async Task<Project?> FindProjectAsync(DataSession session, string id) =>
        (await session.QueryAsync<ProjectRow>($"SELECT {ProjectColumns} FROM projects WHERE id = @id", new { id })).Select(r => r.ToModel()).FirstOrDefault();

    internal static void ValidateName(string field, string? name, int maxLength = MaxNameLength)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw IdentityErrors.Invalid(field, "must be a non-empty string.");
        }

        if (name.Length > maxLength)
        {
            throw IdentityErrors.Invalid(field, $"is longer than {maxLength} characters.");
        }
    }

    private static JsonObject Merge(JsonObject current, JsonObject? changes)
    {
        if (changes is null)
        {
            return current;
        }

        var merged = (JsonObject)current.DeepClone();
        foreach (var (key, value) in changes)
        {
            merged[key] = value?.DeepClone();
        }

        return merged;
    }

    private static T? FirstOrNull<T>(IReadOnlyList<T> rows)
        where T : class => rows.Count > 0 ? rows[0] : null;

    private DateTimeOffset Now() => _clock.GetUtcNow();

    private async Task RevokeAsync(RevocationEvent revocation, CancellationToken cancellationToken)
    {
        await _revoker.RevokeAsync(revocation, cancellationToken);
        IdentityLog.Revoked(_logger, revocation.UserId, revocation.ProjectId, revocation.DomainId, revocation.RoleId, revocation.ApplicationCredentialId);
    }
}

/// <summary>The filters of GET /v3/projects.</summary>
internal sealed record ProjectFilter(string? Name = null, string? DomainId = null, string? ParentId = null, bool? Enabled = null, IReadOnlySet<string>? Ids = null);

using System.Text.Json.Nodes;
using Nimbus.Identity.Authentication;
using Nimbus.Identity.Tokens;
using Nimbus.Platform.Data;

namespace Nimbus.Identity.Resources;

internal sealed partial class IdentityDirectory
{
    private const string UserColumns = "id AS Id, name AS Name, domain_id AS DomainId, enabled AS Enabled, password_hash AS PasswordHash, default_project_id AS DefaultProjectId, extra AS Extra, created_at AS CreatedAt";
    private const string GroupColumns = "id AS Id, name AS Name, domain_id AS DomainId, description AS Description, extra AS Extra";

    // ---- Users ---------------------------------------------------------------------------

    public async Task<User> CreateUserAsync(string name, string? domainId, string? password, bool enabled, string? defaultProjectId, JsonObject? extra, CancellationToken cancellationToken)
    {
        ValidateName("name", name);
        var domain = domainId ?? DefaultDomainId;
        var hash = password is null ? null : _hasher.Hash(password);
        try
        {
            var user = await _database.WriteAsync(
                async session =>
                {
                    _ = await FindDomainAsync(session, domain) ?? throw IdentityErrors.NotFound("domain", domain);
                    if (defaultProjectId is not null)
                    {
                        _ = await FindProjectAsync(session, defaultProjectId) ?? throw IdentityErrors.NotFound("project", defaultProjectId);
                    }

                    var created = new User(NewId(), name, domain, enabled, defaultProjectId, extra ?? [], Now());
                    await session.ExecuteAsync(
                        "INSERT INTO users (id, name, domain_id, enabled, password_hash, default_project_id, extra, created_at) VALUES (@Id, @Name, @DomainId, @Enabled, @Hash, @DefaultProjectId, @Extra, @CreatedAt)",
                        new { created.Id, created.Name, created.DomainId, created.Enabled, Hash = hash, created.DefaultProjectId, Extra = Json.Write(created.Extra), CreatedAt = created.CreatedAt.ToUnixTimeMilliseconds() });
                    return created;
                },
                cancellationToken);
            IdentityLog.Created(_logger, "user", user.Id);
            return user;
        }
        catch (DuplicateKeyException)
        {
            throw IdentityErrors.Duplicate("user", name, domain);
        }
    }

    public async Task<User> GetUserAsync(string id, CancellationToken cancellationToken) =>
        await FindUserAsync(id, cancellationToken) ?? throw IdentityErrors.NotFound("user", id);

    public async Task<User?> FindUserAsync(string id, CancellationToken cancellationToken) =>
        (await FindUserRowAsync(id, cancellationToken))?.ToModel();

    public async Task<User?> FindUserByNameAsync(string name, string domainId, CancellationToken cancellationToken) =>
        (await FindUserRowByNameAsync(name, domainId, cancellationToken))?.ToModel();

    public async Task<IReadOnlyList<User>> ListUsersAsync(string? name, string? domainId, bool? enabled, CancellationToken cancellationToken)
    {
        var rows = await _database.ReadAsync(
            session => session.QueryAsync<UserRow>(
                $"SELECT {UserColumns} FROM users WHERE (@name IS NULL OR name = @name) AND (@domainId IS NULL OR domain_id = @domainId) ORDER BY name",
                new { name, domainId }),
            cancellationToken);
        return rows.Select(r => r.ToModel()).Where(u => enabled is null || u.Enabled == enabled).ToList();
    }

    public async Task<User> UpdateUserAsync(string id, UserUpdate update, CancellationToken cancellationToken)
    {
        if (update.Name is not null)
        {
            ValidateName("name", update.Name);
        }

        var hash = update.Password is null ? null : _hasher.Hash(update.Password);
        User before, after;
        try
        {
            (before, after) = await _database.WriteAsync(
                async session =>
                {
                    var current = (await FindUserRowAsync(session, id))?.ToModel() ?? throw IdentityErrors.NotFound("user", id);
                    if (update.DefaultProjectId is not null)
                    {
                        _ = await FindProjectAsync(session, update.DefaultProjectId) ?? throw IdentityErrors.NotFound("project", update.DefaultProjectId);
                    }

                    var updated = current with
                    {
                        Name = update.Name ?? current.Name,
                        Enabled = update.Enabled ?? current.Enabled,
                        DefaultProjectId = update.DefaultProjectId ?? current.DefaultProjectId,
                        Extra = Merge(current.Extra, update.Extra),
                    };
                    await session.ExecuteAsync(
                        "UPDATE users SET name = @Name, enabled = @Enabled, default_project_id = @DefaultProjectId, extra = @Extra WHERE id = @Id",
                        new { updated.Id, updated.Name, updated.Enabled, updated.DefaultProjectId, Extra = Json.Write(updated.Extra) });
                    if (hash is not null)
                    {
                        await session.ExecuteAsync("UPDATE users SET password_hash = @hash WHERE id = @id", new { hash, id });
                    }

                    return (current, updated);
                },
                cancellationToken);
        }
        catch (DuplicateKeyException)
        {
            throw IdentityErrors.Duplicate("user", update.Name!, null);
        }

        if ((before.Enabled && !after.Enabled) || hash is not null)
        {
            await RevokeUserAsync(id, cancellationToken);
        }

        return after;
    }

    /// <summary>A user changes their own password (POST /v3/users/{id}/password); the old one must match.</summary>
    public async Task ChangePasswordAsync(string id, string originalPassword, string password, CancellationToken cancellationToken)
    {
        var row = await FindUserRowAsync(id, cancellationToken) ?? throw IdentityErrors.NotFound("user", id);
        if (!PasswordHasher.Verify(originalPassword, row.PasswordHash))
        {
            throw IdentityErrors.Unauthorized("identity.wrong_password");
        }

        var hash = _hasher.Hash(password);
        await _database.WriteAsync(session => session.ExecuteAsync("UPDATE users SET password_hash = @hash WHERE id = @id", new { hash, id }), cancellationToken);
        await RevokeUserAsync(id, cancellationToken);
    }

    public async Task DeleteUserAsync(string id, CancellationToken cancellationToken)
    {
        await _database.WriteAsync(
            async session =>
            {
                _ = await FindUserRowAsync(session, id) ?? throw IdentityErrors.NotFound("user", id);
                await session.ExecuteAsync("DELETE FROM role_assignments WHERE actor_type = 'user' AND actor_id = @id", new { id });
                await session.ExecuteAsync("DELETE FROM group_members WHERE user_id = @id", new { id });
                await session.ExecuteAsync("DELETE FROM application_credential_roles WHERE application_credential_id IN (SELECT id FROM application_credentials WHERE user_id = @id)", new { id });
                await session.ExecuteAsync("DELETE FROM application_credentials WHERE user_id = @id", new { id });
                await session.ExecuteAsync("DELETE FROM credentials WHERE user_id = @id", new { id });
                await session.ExecuteAsync("DELETE FROM users WHERE id = @id", new { id });
            },
            cancellationToken);
        IdentityLog.Deleted(_logger, "user", id);
        await RevokeUserAsync(id, cancellationToken);
    }

    /// <summary>Checks a password; the user row comes back only when it matches.</summary>
    internal async Task<bool> VerifyPasswordAsync(string userId, string password, CancellationToken cancellationToken)
    {
        var row = await FindUserRowAsync(userId, cancellationToken);
        return _hasher.Check(password, row?.PasswordHash);
    }

    /// <summary>Spends a password check on a user that does not exist, so its refusal takes a wrong password's time.</summary>
    internal void CheckPasswordOfNobody(string password) => _hasher.Check(password, null);

    /// <summary>The projects the user has a role on, directly or through a group.</summary>
    public async Task<IReadOnlyList<Project>> ListUserProjectsAsync(string userId, CancellationToken cancellationToken)
    {
        var ids = await _database.ReadAsync(
            session => session.QueryAsync<string>(
                "SELECT DISTINCT target_id FROM role_assignments WHERE target_type = 'project' AND ((actor_type = 'user' AND actor_id = @userId) OR (actor_type = 'group' AND actor_id IN (SELECT group_id FROM group_members WHERE user_id = @userId)))",
                new { userId }),
            cancellationToken);
        return ids.Count == 0 ? [] : await ListProjectsAsync(new ProjectFilter(Ids: ids.ToHashSet(StringComparer.Ordinal)), cancellationToken);
    }

    /// <summary>The domains the user has a role on, directly or through a group.</summary>
    public async Task<IReadOnlyList<Domain>> ListUserDomainsAsync(string userId, CancellationToken cancellationToken)
    {
        var ids = (await _database.ReadAsync(
            session => session.QueryAsync<string>(
                "SELECT DISTINCT target_id FROM role_assignments WHERE target_type = 'domain' AND ((actor_type = 'user' AND actor_id = @userId) OR (actor_type = 'group' AND actor_id IN (SELECT group_id FROM group_members WHERE user_id = @userId)))",
                new { userId }),
            cancellationToken)).ToHashSet(StringComparer.Ordinal);
        return (await ListDomainsAsync(null, null, cancellationToken)).Where(d => ids.Contains(d.Id)).ToList();
    }

    private Task<UserRow?> FindUserRowAsync(string id, CancellationToken cancellationToken) =>
        _database.ReadAsync(session => FindUserRowAsync(session, id), cancellationToken);

    private async Task<UserRow?> FindUserRowByNameAsync(string name, string domainId, CancellationToken cancellationToken) =>
        FirstOrNull(await _database.ReadAsync(
            session => session.QueryAsync<UserRow>($"SELECT {UserColumns} FROM users WHERE name = @name AND domain_id = @domainId", new { name, domainId }),
            cancellationToken));

    private static async Task<UserRow?> FindUserRowAsync(DataSession session, string id) =>
        FirstOrNull(await session.QueryAsync<UserRow>($"SELECT {UserColumns} FROM users WHERE id = @id", new { id }));

    private Task RevokeUserAsync(string userId, CancellationToken cancellationToken) =>
        RevokeAsync(new RevocationEvent { UserId = userId, IssuedBefore = Now(), RevokedAt = Now() }, cancellationToken);

    // ---- Groups --------------------------------------------------------------------------

    public async Task<Group> CreateGroupAsync(string name, string? domainId, string? description, CancellationToken cancellationToken)
    {
        ValidateName("name", name, ShortNameLength);
        var domain = domainId ?? DefaultDomainId;
        try
        {
            var group = await _database.WriteAsync(
                async session =>
                {
                    _ = await FindDomainAsync(session, domain) ?? throw IdentityErrors.NotFound("domain", domain);
                    var created = new Group(NewId(), name, domain, description ?? "", []);
                    await session.ExecuteAsync(
                        "INSERT INTO groups (id, name, domain_id, description, extra) VALUES (@Id, @Name, @DomainId, @Description, '{}')",
                        new { created.Id, created.Name, created.DomainId, created.Description });
                    return created;
                },
                cancellationToken);
            IdentityLog.Created(_logger, "group", group.Id);
            return group;
        }
        catch (DuplicateKeyException)
        {
            throw IdentityErrors.Duplicate("group", name, domain);
        }
    }

    public async Task<Group> GetGroupAsync(string id, CancellationToken cancellationToken) =>
        await _database.ReadAsync(session => FindGroupAsync(session, id), cancellationToken) ?? throw IdentityErrors.NotFound("group", id);

    public async Task<IReadOnlyList<Group>> ListGroupsAsync(string? name, string? domainId, CancellationToken cancellationToken) =>
        (await _database.ReadAsync(
            session => session.QueryAsync<GroupRow>(
                $"SELECT {GroupColumns} FROM groups WHERE (@name IS NULL OR name = @name) AND (@domainId IS NULL OR domain_id = @domainId) ORDER BY name",
                new { name, domainId }),
            cancellationToken)).Select(r => r.ToModel()).ToList();

    public async Task<Group> UpdateGroupAsync(string id, string? name, string? description, CancellationToken cancellationToken)
    {
        if (name is not null)
        {
            ValidateName("name", name, ShortNameLength);
        }

        try
        {
            return await _database.WriteAsync(
                async session =>
                {
                    var current = await FindGroupAsync(session, id) ?? throw IdentityErrors.NotFound("group", id);
                    var updated = current with { Name = name ?? current.Name, Description = description ?? current.Description };
                    await session.ExecuteAsync("UPDATE groups SET name = @Name, description = @Description WHERE id = @Id", new { updated.Id, updated.Name, updated.Description });
                    return updated;
                },
                cancellationToken);
        }
        catch (DuplicateKeyException)
        {
            throw IdentityErrors.Duplicate("group", name!, null);
        }
    }

    public async Task DeleteGroupAsync(string id, CancellationToken cancellationToken)
    {
        var members = await _database.WriteAsync(
            async session =>
            {
                _ = await FindGroupAsync(session, id) ?? throw IdentityErrors.NotFound("group", id);
                var hadRoles = await session.ScalarAsync<long>("SELECT COUNT(*) FROM role_assignments WHERE actor_type = 'group' AND actor_id = @id", new { id });
                var users = hadRoles > 0 ? await session.QueryAsync<string>("SELECT user_id FROM group_members WHERE group_id = @id", new { id }) : [];
                await session.ExecuteAsync("DELETE FROM role_assignments WHERE actor_type = 'group' AND actor_id = @id", new { id });
                await session.ExecuteAsync("DELETE FROM group_members WHERE group_id = @id", new { id });
                await session.ExecuteAsync("DELETE FROM groups WHERE id = @id", new { id });
                return users;
            },
            cancellationToken);
        IdentityLog.Deleted(_logger, "group", id);
        foreach (var user in members)
        {
            await RevokeUserAsync(user, cancellationToken);
        }
    }

    public async Task AddUserToGroupAsync(string groupId, string userId, CancellationToken cancellationToken) =>
        await _database.WriteAsync(
            async session =>
            {
                _ = await FindGroupAsync(session, groupId) ?? throw IdentityErrors.NotFound("group", groupId);
                _ = await FindUserRowAsync(session, userId) ?? throw IdentityErrors.NotFound("user", userId);
                var present = await session.ScalarAsync<long>("SELECT COUNT(*) FROM group_members WHERE group_id = @groupId AND user_id = @userId", new { groupId, userId });
                if (present == 0)
                {
                    await session.ExecuteAsync("INSERT INTO group_members (group_id, user_id) VALUES (@groupId, @userId)", new { groupId, userId });
                }
            },
            cancellationToken);

    /// <summary>Whether the user is in the group; 404 names the group or user that does not exist.</summary>
    public async Task<bool> IsUserInGroupAsync(string groupId, string userId, CancellationToken cancellationToken) =>
        await _database.ReadAsync(
            async session =>
            {
                _ = await FindGroupAsync(session, groupId) ?? throw IdentityErrors.NotFound("group", groupId);
                _ = await FindUserRowAsync(session, userId) ?? throw IdentityErrors.NotFound("user", userId);
                return await session.ScalarAsync<long>("SELECT COUNT(*) FROM group_members WHERE group_id = @groupId AND user_id = @userId", new { groupId, userId }) > 0;
            },
            cancellationToken);

    public async Task RemoveUserFromGroupAsync(string groupId, string userId, CancellationToken cancellationToken)
    {
        await _database.WriteAsync(
            async session =>
            {
                _ = await FindGroupAsync(session, groupId) ?? throw IdentityErrors.NotFound("group", groupId);
                _ = await FindUserRowAsync(session, userId) ?? throw IdentityErrors.NotFound("user", userId);
                var removed = await session.ExecuteAsync("DELETE FROM group_members WHERE group_id = @groupId AND user_id = @userId", new { groupId, userId });
                if (removed == 0)
                {
                    throw new Platform.Errors.NotFoundException("identity.membership_not_found", $"{userId} is not a member of group {groupId}.");
                }
            },
            cancellationToken);
        await RevokeUserAsync(userId, cancellationToken);
    }

    public async Task<IReadOnlyList<User>> ListGroupUsersAsync(string groupId, CancellationToken cancellationToken) =>
        await _database.ReadAsync(
            async session =>
            {
                _ = await FindGroupAsync(session, groupId) ?? throw IdentityErrors.NotFound("group", groupId);
                var rows = await session.QueryAsync<UserRow>($"SELECT {UserColumns} FROM users WHERE id IN (SELECT user_id FROM group_members WHERE group_id = @groupId) ORDER BY name", new { groupId });
                return (IReadOnlyList<User>)rows.Select(r => r.ToModel()).ToList();
            },
            cancellationToken);

    public async Task<IReadOnlyList<Group>> ListUserGroupsAsync(string userId, CancellationToken cancellationToken) =>
        await _database.ReadAsync(
            async session =>
            {
                _ = await FindUserRowAsync(session, userId) ?? throw IdentityErrors.NotFound("user", userId);
                var rows = await session.QueryAsync<GroupRow>($"SELECT {GroupColumns} FROM groups WHERE id IN (SELECT group_id FROM group_members WHERE user_id = @userId) ORDER BY name", new { userId });
                return (IReadOnlyList<Group>)rows.Select(r => r.ToModel()).ToList();
            },
            cancellationToken);

    private static async Task<Group?> FindGroupAsync(DataSession session, string id) =>
        (await session.QueryAsync<GroupRow>($"SELECT {GroupColumns} FROM groups WHERE id = @id", new { id })).Select(r => r.ToModel()).FirstOrDefault();
}

/// <summary>The changes of PATCH /v3/users/{id}; null leaves a field as it is.</summary>
internal sealed record UserUpdate(string? Name = null, bool? Enabled = null, string? Password = null, string? DefaultProjectId = null, JsonObject? Extra = null);

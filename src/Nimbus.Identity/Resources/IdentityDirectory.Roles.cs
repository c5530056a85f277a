using Nimbus.Identity.Data;
using Nimbus.Identity.Tokens;
using Nimbus.Platform.Data;
using Nimbus.Platform.Errors;

namespace Nimbus.Identity.Resources;

internal sealed partial class IdentityDirectory
{
    /// <summary>The target id of every system assignment.</summary>
    public const string SystemTarget = "all";

    private const string RoleColumns = "id AS Id, name AS Name, domain_id AS DomainId, description AS Description, extra AS Extra";
    private const string AssignmentColumns = "actor_type AS ActorType, actor_id AS ActorId, target_type AS TargetType, target_id AS TargetId, role_id AS RoleId";

    // ---- Roles ---------------------------------------------------------------------------

    public async Task<Role> CreateRoleAsync(string name, string? domainId, string? description, CancellationToken cancellationToken)
    {
        ValidateName("name", name);
        try
        {
            var role = await _database.WriteAsync(
                async session =>
                {
                    if (domainId is not null)
                    {
                        _ = await FindDomainAsync(session, domainId) ?? throw IdentityErrors.NotFound("domain", domainId);
                    }

                    var created = new Role(NewId(), name, domainId, description ?? "", []);
                    await session.ExecuteAsync(
                        "INSERT INTO roles (id, name, domain_id, description, extra) VALUES (@Id, @Name, @Domain, @Description, '{}')",
                        new { created.Id, created.Name, Domain = domainId ?? IdentitySchema.GlobalRoleDomain, created.Description });
                    return created;
                },
                cancellationToken);
            IdentityLog.Created(_logger, "role", role.Id);
            return role;
        }
        catch (DuplicateKeyException)
        {
            throw IdentityErrors.Duplicate("role", name, domainId);
        }
    }

    public async Task<Role> GetRoleAsync(string id, CancellationToken cancellationToken) =>
        await _database.ReadAsync(session => FindRoleAsync(session, id), cancellationToken) ?? throw IdentityErrors.NotFound("role", id);

    public async Task<Role?> FindRoleByNameAsync(string name, string? domainId, CancellationToken cancellationToken) =>
        (await _database.ReadAsync(
            session => session.QueryAsync<RoleRow>($"SELECT {RoleColumns} FROM roles WHERE name = @name AND domain_id = @domain", new { name, domain = domainId ?? IdentitySchema.GlobalRoleDomain }),
            cancellationToken)).Select(r => r.ToModel()).FirstOrDefault();

    public async Task<IReadOnlyList<Role>> ListRolesAsync(string? name, string? domainId, CancellationToken cancellationToken) =>
        (await _database.ReadAsync(
            session => session.QueryAsync<RoleRow>(
                $"SELECT {RoleColumns} FROM roles WHERE (@name IS NULL OR name = @name) AND domain_id = @domain ORDER BY name",
                new { name, domain = domainId ?? IdentitySchema.GlobalRoleDomain }),
            cancellationToken)).Select(r => r.ToModel()).ToList();

    public async Task<Role> UpdateRoleAsync(string id, string? name, string? description, CancellationToken cancellationToken)
    {
        if (name is not null)
        {
            ValidateName("name", name);
        }

        try
        {
            return await _database.WriteAsync(
                async session =>
                {
                    var current = await FindRoleAsync(session, id) ?? throw IdentityErrors.NotFound("role", id);
                    var updated = current with { Name = name ?? current.Name, Description = description ?? current.Description };
                    await session.ExecuteAsync("UPDATE roles SET name = @Name, description = @Description WHERE id = @Id", new { updated.Id, updated.Name, updated.Description });
                    return updated;
                },
                cancellationToken);
        }
        catch (DuplicateKeyException)
        {
            throw IdentityErrors.Duplicate("role", name!, null);
        }
    }

    public async Task DeleteRoleAsync(string id, CancellationToken cancellationToken)
    {
        await _database.WriteAsync(
            async session =>
            {
                _ = await FindRoleAsync(session, id) ?? throw IdentityErrors.NotFound("role", id);
                await session.ExecuteAsync("DELETE FROM role_assignments WHERE role_id = @id", new { id });
                await session.ExecuteAsync("DELETE FROM implied_roles WHERE prior_role_id = @id OR implied_role_id = @id", new { id });
                await session.ExecuteAsync("DELETE FROM application_credential_roles WHERE role_id = @id", new { id });
                await session.ExecuteAsync("DELETE FROM roles WHERE id = @id", new { id });
            },
            cancellationToken);
        IdentityLog.Deleted(_logger, "role", id);
        await RevokeAsync(new RevocationEvent { RoleId = id, IssuedBefore = Now(), RevokedAt = Now() }, cancellationToken);
    }

    // ---- Implied roles (api-ref "Roles: implied roles") ----------------------------------

    public async Task<ImpliedRole> CreateImpliedRoleAsync(string priorId, string impliedId, CancellationToken cancellationToken)
    {
        var created = await _database.WriteAsync(
            async session =>
            {
                var prior = await FindRoleAsync(session, priorId) ?? throw IdentityErrors.NotFound("role", priorId);
                var implied = await FindRoleAsync(session, impliedId) ?? throw IdentityErrors.NotFound("role", impliedId);
                var edges = await session.QueryAsync<ImpliedRow>("SELECT prior_role_id AS PriorRoleId, implied_role_id AS ImpliedRoleId FROM implied_roles");
                if (priorId == impliedId || Closure([impliedId], edges).Contains(priorId))
                {
                    throw IdentityErrors.Forbidden("implied_role_cycle", $"Cannot make role {priorId} imply role {impliedId}: the implication would be circular.");
                }

                if (!edges.Any(e => e.PriorRoleId == priorId && e.ImpliedRoleId == impliedId))
                {
                    await session.ExecuteAsync("INSERT INTO implied_roles (prior_role_id, implied_role_id) VALUES (@priorId, @impliedId)", new { priorId, impliedId });
                }

                return new ImpliedRole(prior, implied);
            },
            cancellationToken);
        return created;
    }

    public async Task<ImpliedRole> GetImpliedRoleAsync(string priorId, string impliedId, CancellationToken cancellationToken) =>
        await _database.ReadAsync(
            async session =>
            {
                var prior = await FindRoleAsync(session, priorId) ?? throw IdentityErrors.NotFound("role", priorId);
                var implied = await FindRoleAsync(session, impliedId) ?? throw IdentityErrors.NotFound("role", impliedId);
                var exists = await session.ScalarAsync<long>("SELECT COUNT(*) FROM implied_roles WHERE prior_role_id = @priorId AND implied_role_id = @impliedId", new { priorId, impliedId });
                return exists > 0 ? new ImpliedRole(prior, implied) : throw ImpliedNotFound(priorId, impliedId);
            },
            cancellationToken);

    public async Task DeleteImpliedRoleAsync(string priorId, string impliedId, CancellationToken cancellationToken)
    {
        await _database.WriteAsync(
            async session =>
            {
                _ = await FindRoleAsync(session, priorId) ?? throw IdentityErrors.NotFound("role", priorId);
                _ = await FindRoleAsync(session, impliedId) ?? throw IdentityErrors.NotFound("role", impliedId);
                var removed = await session.ExecuteAsync("DELETE FROM implied_roles WHERE prior_role_id = @priorId AND implied_role_id = @impliedId", new { priorId, impliedId });
                if (removed == 0)
                {
                    throw ImpliedNotFound(priorId, impliedId);
                }
            },
            cancellationToken);
        // Tokens carry the expanded roles: those holding the prior role lose the implied one.
        await RevokeAsync(new RevocationEvent { RoleId = priorId, IssuedBefore = Now(), RevokedAt = Now() }, cancellationToken);
    }

    /// <summary>Prior role → the roles it implies directly; <paramref name="priorId"/> limits it to one prior role.</summary>
    public async Task<IReadOnlyList<(Role Prior, IReadOnlyList<Role> Implies)>> ListImpliedRolesAsync(string? priorId, CancellationToken cancellationToken) =>
        await _database.ReadAsync(
            async session =>
            {
                if (priorId is not null)
                {
                    _ = await FindRoleAsync(session, priorId) ?? throw IdentityErrors.NotFound("role", priorId);
                }

                var roles = (await session.QueryAsync<RoleRow>($"SELECT {RoleColumns} FROM roles")).ToDictionary(r => r.Id, r => r.ToModel(), StringComparer.Ordinal);
                var edges = await session.QueryAsync<ImpliedRow>("SELECT prior_role_id AS PriorRoleId, implied_role_id AS ImpliedRoleId FROM implied_roles ORDER BY prior_role_id, implied_role_id");
                return (IReadOnlyList<(Role, IReadOnlyList<Role>)>)edges
                    .Where(e => priorId is null || e.PriorRoleId == priorId)
                    .GroupBy(e => e.PriorRoleId)
                    .Where(g => roles.ContainsKey(g.Key))
                    .Select(g => (roles[g.Key], (IReadOnlyList<Role>)g.Where(e => roles.ContainsKey(e.ImpliedRoleId)).Select(e => roles[e.ImpliedRoleId]).ToList()))
                    .ToList();
            },
            cancellationToken);

    private static NotFoundException ImpliedNotFound(string priorId, string impliedId) =>
        new("identity.implied_role_not_found", $"{priorId} does not imply {impliedId}.");

    // ---- Grants --------------------------------------------------------------------------

    public async Task GrantAsync(ActorType actorType, string actorId, TargetType targetType, string targetId, string roleId, CancellationToken cancellationToken) =>
        await _database.WriteAsync(
            async session =>
            {
                await RequireGrantPartsAsync(session, actorType, actorId, targetType, targetId, roleId);
                var args = AssignmentArgs(actorType, actorId, targetType, targetId, roleId);
                var present = await session.ScalarAsync<long>("SELECT COUNT(*) FROM role_assignments WHERE actor_type = @ActorType AND actor_id = @ActorId AND target_type = @TargetType AND target_id = @TargetId AND role_id = @RoleId", args);
                if (present == 0)
                {
                    await session.ExecuteAsync("INSERT INTO role_assignments (actor_type, actor_id, target_type, target_id, role_id) VALUES (@ActorType, @ActorId, @TargetType, @TargetId, @RoleId)", args);
                }
            },
            cancellationToken);

    public async Task<bool> HasGrantAsync(ActorType actorType, string actorId, TargetType targetType, string targetId, string roleId, CancellationToken cancellationToken) =>
        await _database.ReadAsync(
            async session =>
            {
                await RequireGrantPartsAsync(session, actorType, actorId, targetType, targetId, roleId);
                return await session.ScalarAsync<long>(
                    "SELECT COUNT(*) FROM role_assignments WHERE actor_type = @ActorType AND actor_id = @ActorId AND target_type = @TargetType AND target_id = @TargetId AND role_id = @RoleId",
                    AssignmentArgs(actorType, actorId, targetType, targetId, roleId)) > 0;
            },
            cancellationToken);

    public async Task RevokeGrantAsync(ActorType actorType, string actorId, TargetType targetType, string targetId, string roleId, CancellationToken cancellationToken)
    {
        var users = await _database.WriteAsync(
            async session =>
            {
                await RequireGrantPartsAsync(session, actorType, actorId, targetType, targetId, roleId);
                var removed = await session.ExecuteAsync(
                    "DELETE FROM role_assignments WHERE actor_type = @ActorType AND actor_id = @ActorId AND target_type = @TargetType AND target_id = @TargetId AND role_id = @RoleId",
                    AssignmentArgs(actorType, actorId, targetType, targetId, roleId));
                if (removed == 0)
                {
                    throw new NotFoundException(
                        "identity.role_assignment_not_found",
                        $"Could not find role assignment with role: {roleId}, user or group: {actorId}, project, domain, or system: {targetId}.");
                }

                return actorType == ActorType.User
                    ? [actorId]
                    : await session.QueryAsync<string>("SELECT user_id FROM group_members WHERE group_id = @actorId", new { actorId });
            },
            cancellationToken);
        foreach (var user in users)
        {
            await RevokeAsync(
                new RevocationEvent
                {
                    UserId = user,
                    ProjectId = targetType == TargetType.Project ? targetId : null,
                    DomainId = targetType == TargetType.Domain ? targetId : null,
                    IssuedBefore = Now(),
                    RevokedAt = Now(),
                },
                cancellationToken);
        }
    }

    /// <summary>The roles granted directly to one actor on one target (GET …/users/{u}/roles).</summary>
    public async Task<IReadOnlyList<Role>> ListGrantsAsync(ActorType actorType, string actorId, TargetType targetType, string targetId, CancellationToken cancellationToken) =>
        await _database.ReadAsync(
            async session =>
            {
                await RequireGrantPartsAsync(session, actorType, actorId, targetType, targetId, roleId: null);
                var rows = await session.QueryAsync<RoleRow>(
                    $"SELECT {RoleColumns} FROM roles WHERE id IN (SELECT role_id FROM role_assignments WHERE actor_type = @ActorType AND actor_id = @ActorId AND target_type = @TargetType AND target_id = @TargetId) ORDER BY name",
                    AssignmentArgs(actorType, actorId, targetType, targetId, ""));
                return (IReadOnlyList<Role>)rows.Select(r => r.ToModel()).ToList();
            },
            cancellationToken);

    // ---- Role assignments and effective roles --------------------------------------------

    /// <summary>GET /v3/role_assignments: direct rows, or with <see cref="AssignmentQuery.Effective"/> group rows expanded to their members and roles closed over implications.</summary>
    public async Task<IReadOnlyList<RoleAssignment>> ListRoleAssignmentsAsync(AssignmentQuery query, CancellationToken cancellationToken) =>
        await _database.ReadAsync(
            async session =>
            {
                var rows = (await session.QueryAsync<AssignmentRow>($"SELECT {AssignmentColumns} FROM role_assignments ORDER BY actor_type, actor_id, target_type, target_id, role_id"))
                    .Select(r => r.ToModel());
                if (query.Effective)
                {
                    var members = await session.QueryAsync<MemberRow>("SELECT group_id AS GroupId, user_id AS UserId FROM group_members");
                    var byGroup = members.ToLookup(m => m.GroupId, m => m.UserId, StringComparer.Ordinal);
                    var edges = await session.QueryAsync<ImpliedRow>("SELECT prior_role_id AS PriorRoleId, implied_role_id AS ImpliedRoleId FROM implied_roles");
                    rows = rows
                        .SelectMany(a => a.ActorType == ActorType.Group
                            ? byGroup[a.ActorId].Select(u => a with { ActorType = ActorType.User, ActorId = u, ViaGroupId = a.ActorId })
                            : [a])
                        .SelectMany(a => ExpandImplied(a, edges))
                        .DistinctBy(a => (a.ActorId, a.TargetType, a.TargetId, a.RoleId));
                    var domainSpecific = (await session.QueryAsync<string>("SELECT id FROM roles WHERE domain_id <> @global", new { global = IdentitySchema.GlobalRoleDomain })).ToHashSet(StringComparer.Ordinal);
                    rows = rows.Where(a => !domainSpecific.Contains(a.RoleId));
                }

                return (IReadOnlyList<RoleAssignment>)rows
                    .Where(a => query.UserId is null || (a.ActorType == ActorType.User && a.ActorId == query.UserId))
                    .Where(a => query.GroupId is null || (a.ActorType == ActorType.Group && a.ActorId == query.GroupId))
                    .Where(a => query.ProjectId is null || (a.TargetType == TargetType.Project && a.TargetId == query.ProjectId))
                    .Where(a => query.DomainId is null || (a.TargetType == TargetType.Domain && a.TargetId == query.DomainId))
                    .Where(a => !query.System || a.TargetType == TargetType.System)
                    .Where(a => query.RoleId is null || a.RoleId == query.RoleId)
                    .ToList();
            },
            cancellationToken);

    /// <summary>The user's roles on a project or domain: direct and through groups, closed over implied roles.</summary>
    public async Task<EffectiveRoles> EffectiveRolesAsync(string userId, TargetType targetType, string targetId, CancellationToken cancellationToken) =>
        await _database.ReadAsync(
            async session =>
            {
                var direct = await session.QueryAsync<string>(
                    "SELECT DISTINCT role_id FROM role_assignments WHERE target_type = @TargetType AND target_id = @TargetId AND ((actor_type = 'user' AND actor_id = @UserId) OR (actor_type = 'group' AND actor_id IN (SELECT group_id FROM group_members WHERE user_id = @UserId)))",
                    new { TargetType = Name(targetType), TargetId = targetId, UserId = userId });
                if (direct.Count == 0)
                {
                    return new EffectiveRoles([]);
                }

                var edges = await session.QueryAsync<ImpliedRow>("SELECT prior_role_id AS PriorRoleId, implied_role_id AS ImpliedRoleId FROM implied_roles");
                var ids = Closure(direct, edges);
                // Filtered here, not with IN @ids: list parameters are not portable across engines.
                var roles = await session.QueryAsync<RoleRow>($"SELECT {RoleColumns} FROM roles ORDER BY name");
                // Domain-specific roles only stand for what they imply; they never reach a token (Keystone).
                return new EffectiveRoles(roles.Where(r => ids.Contains(r.Id)).Select(r => r.ToModel()).Where(r => r.DomainId is null).ToList());
            },
            cancellationToken);

    public async Task<IReadOnlyDictionary<string, Role>> RolesByIdAsync(CancellationToken cancellationToken) =>
        (await _database.ReadAsync(session => session.QueryAsync<RoleRow>($"SELECT {RoleColumns} FROM roles"), cancellationToken))
            .ToDictionary(r => r.Id, r => r.ToModel(), StringComparer.Ordinal);

    private static IEnumerable<RoleAssignment> ExpandImplied(RoleAssignment assignment, IReadOnlyList<ImpliedRow> edges)
    {
        yield return assignment;
        foreach (var implied in Closure([assignment.RoleId], edges).Where(id => id != assignment.RoleId))
        {
            yield return assignment with { RoleId = implied, ImpliedFromRoleId = assignment.RoleId };
        }
    }

    private static HashSet<string> Closure(IEnumerable<string> roots, IReadOnlyList<ImpliedRow> edges)
    {
        var seen = new HashSet<string>(roots, StringComparer.Ordinal);
        var queue = new Queue<string>(seen);
        while (queue.TryDequeue(out var role))
        {
            foreach (var edge in edges)
            {
                if (edge.PriorRoleId == role && seen.Add(edge.ImpliedRoleId))
                {
                    queue.Enqueue(edge.ImpliedRoleId);
                }
            }
        }

        return seen;
    }

    private static async Task RequireGrantPartsAsync(DataSession session, ActorType actorType, string actorId, TargetType targetType, string targetId, string? roleId)
    {
        if (roleId is not null)
        {
            _ = await FindRoleAsync(session, roleId) ?? throw IdentityErrors.NotFound("role", roleId);
        }

        if (actorType == ActorType.User)
        {
            _ = await FindUserRowAsync(session, actorId) ?? throw IdentityErrors.NotFound("user", actorId);
        }
        else
        {
            _ = await FindGroupAsync(session, actorId) ?? throw IdentityErrors.NotFound("group", actorId);
        }

        switch (targetType)
        {
            case TargetType.Project:
                _ = await FindProjectAsync(session, targetId) ?? throw IdentityErrors.NotFound("project", targetId);
                break;
            case TargetType.Domain:
                _ = await FindDomainAsync(session, targetId) ?? throw IdentityErrors.NotFound("domain", targetId);
                break;
            default:
                if (targetId != SystemTarget)
                {
                    throw IdentityErrors.Invalid("system", $"'{targetId}' is not a system target; the only one is '{SystemTarget}'.");
                }

                break;
        }
    }

    private static object AssignmentArgs(ActorType actorType, string actorId, TargetType targetType, string targetId, string roleId) =>
        new { ActorType = Name(actorType), ActorId = actorId, TargetType = Name(targetType), TargetId = targetId, RoleId = roleId };

    private static string Name(ActorType actorType) => actorType == ActorType.Group ? "group" : "user";

    private static string Name(TargetType targetType) => targetType switch
    {
        TargetType.Domain => "domain",
        TargetType.System => "system",
        _ => "project",
    };

    private static async Task<Role?> FindRoleAsync(DataSession session, string id) =>
        (await session.QueryAsync<RoleRow>($"SELECT {RoleColumns} FROM roles WHERE id = @id", new { id })).Select(r => r.ToModel()).FirstOrDefault();
}

/// <summary>The filters of GET /v3/role_assignments.</summary>
internal sealed record AssignmentQuery(string? UserId = null, string? GroupId = null, string? ProjectId = null, string? DomainId = null, string? RoleId = null, bool Effective = false, bool System = false);

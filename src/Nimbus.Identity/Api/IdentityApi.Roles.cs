using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Nimbus.Identity.Resources;
using Nimbus.Platform.Auth;

namespace Nimbus.Identity.Api;

internal static partial class IdentityApi
{
    private static void MapRoles(RouteGroupBuilder v3)
    {
        v3.MapGet("/roles", ListRolesAsync);
        v3.MapPost("/roles", CreateRoleAsync);
        v3.MapGet("/roles/{roleId}", GetRoleAsync);
        v3.MapMethods("/roles/{roleId}", ["PATCH"], UpdateRoleAsync);
        v3.MapDelete("/roles/{roleId}", DeleteRoleAsync);
        v3.MapGet("/roles/{priorId}/implies", ListImpliesAsync);
        v3.MapPut("/roles/{priorId}/implies/{impliedId}", CreateImpliedAsync);
        v3.MapGet("/roles/{priorId}/implies/{impliedId}", GetImpliedAsync);
        v3.MapMethods("/roles/{priorId}/implies/{impliedId}", ["HEAD"], CheckImpliedAsync);
        v3.MapDelete("/roles/{priorId}/implies/{impliedId}", DeleteImpliedAsync);
        v3.MapGet("/role_inferences", ListInferencesAsync);
        v3.MapGet("/role_assignments", ListAssignmentsAsync);

        foreach (var (actorSegment, actor) in new[] { ("users", ActorType.User), ("groups", ActorType.Group) })
        {
            // System grants (api-ref "System Role Assignments"): the target is always "all".
            var route = $"/system/{actorSegment}/{{actorId}}/roles";
            const string all = IdentityDirectory.SystemTarget;
            v3.MapGet(route, (HttpContext context, IdentityDirectory directory, string actorId) => ListGrantsAsync(context, directory, actor, actorId, TargetType.System, all));
            v3.MapPut(route + "/{roleId}", (HttpContext context, IdentityDirectory directory, string actorId, string roleId) => GrantAsync(context, directory, actor, actorId, TargetType.System, all, roleId));
            v3.MapMethods(route + "/{roleId}", ["HEAD", "GET"], (HttpContext context, IdentityDirectory directory, string actorId, string roleId) => CheckGrantAsync(context, directory, actor, actorId, TargetType.System, all, roleId));
            v3.MapDelete(route + "/{roleId}", (HttpContext context, IdentityDirectory directory, string actorId, string roleId) => RevokeGrantAsync(context, directory, actor, actorId, TargetType.System, all, roleId));
        }

        foreach (var (targetSegment, target) in new[] { ("projects", TargetType.Project), ("domains", TargetType.Domain) })
        {
            foreach (var (actorSegment, actor) in new[] { ("users", ActorType.User), ("groups", ActorType.Group) })
            {
                var route = $"/{targetSegment}/{{targetId}}/{actorSegment}/{{actorId}}/roles";
                v3.MapGet(route, (HttpContext context, IdentityDirectory directory, string targetId, string actorId) => ListGrantsAsync(context, directory, actor, actorId, target, targetId));
                v3.MapPut(route + "/{roleId}", (HttpContext context, IdentityDirectory directory, string targetId, string actorId, string roleId) => GrantAsync(context, directory, actor, actorId, target, targetId, roleId));
                v3.MapMethods(route + "/{roleId}", ["HEAD", "GET"], (HttpContext context, IdentityDirectory directory, string targetId, string actorId, string roleId) => CheckGrantAsync(context, directory, actor, actorId, target, targetId, roleId));
                v3.MapDelete(route + "/{roleId}", (HttpContext context, IdentityDirectory directory, string targetId, string actorId, string roleId) => RevokeGrantAsync(context, directory, actor, actorId, target, targetId, roleId));
            }
        }
    }

    // ---- Roles ---------------------------------------------------------------------------

    private static async Task<IResult> ListRolesAsync(HttpContext context, IdentityDirectory directory)
    {
        Enforce(context, "identity:list_roles");
        var roles = await directory.ListRolesAsync(RequestBody.Query(context, "name"), RequestBody.Query(context, "domain_id"), context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "roles", roles.Select(r => IdentityJson.Role(context, r))));
    }

    private static async Task<IResult> CreateRoleAsync(HttpContext context, IdentityDirectory directory)
    {
        Enforce(context, "identity:create_role");
        var body = await RequestBody.ReadAsync(context, "role");
        var role = await directory.CreateRoleAsync(RequestBody.RequiredString(body, "name", "role"), RequestBody.String(body, "domain_id"), RequestBody.String(body, "description"), context.RequestAborted);
        return IdentityJson.Ok(new JsonObject { ["role"] = IdentityJson.Role(context, role) }, StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetRoleAsync(HttpContext context, IdentityDirectory directory, string roleId)
    {
        Enforce(context, "identity:get_role");
        return IdentityJson.Ok(new JsonObject { ["role"] = IdentityJson.Role(context, await directory.GetRoleAsync(roleId, context.RequestAborted)) });
    }

    private static async Task<IResult> UpdateRoleAsync(HttpContext context, IdentityDirectory directory, string roleId)
    {
        Enforce(context, "identity:update_role");
        var body = await RequestBody.ReadAsync(context, "role");
        var role = await directory.UpdateRoleAsync(roleId, RequestBody.String(body, "name"), RequestBody.String(body, "description"), context.RequestAborted);
        return IdentityJson.Ok(new JsonObject { ["role"] = IdentityJson.Role(context, role) });
    }

    private static async Task<IResult> DeleteRoleAsync(HttpContext context, IdentityDirectory directory, string roleId)
    {
        Enforce(context, "identity:delete_role");
        await directory.DeleteRoleAsync(roleId, context.RequestAborted);
        return Results.NoContent();
    }

    // ---- Implied roles -------------------------------------------------------------------

    private static JsonObject Inference(HttpContext context, Role prior, JsonNode implies) => new()
    {
        ["prior_role"] = IdentityJson.RoleRef(context, prior),
        ["implies"] = implies,
    };

    private static async Task<IResult> ListImpliesAsync(HttpContext context, IdentityDirectory directory, string priorId)
    {
        Enforce(context, "identity:list_implied_roles");
        var prior = await directory.GetRoleAsync(priorId, context.RequestAborted);
        var rules = await directory.ListImpliedRolesAsync(priorId, context.RequestAborted);
        var implies = new JsonArray([.. rules.SelectMany(r => r.Implies).Select(r => (JsonNode)IdentityJson.RoleRef(context, r))]);
        return IdentityJson.Ok(new JsonObject
        {
            ["role_inference"] = Inference(context, prior, implies),
            ["links"] = IdentityJson.Links($"{IdentityJson.V3Base(context)}/roles/{priorId}/implies"),
        });
    }

    private static async Task<IResult> CreateImpliedAsync(HttpContext context, IdentityDirectory directory, string priorId, string impliedId)
    {
        Enforce(context, "identity:create_implied_role");
        var rule = await directory.CreateImpliedRoleAsync(priorId, impliedId, context.RequestAborted);
        return ImpliedBody(context, rule, StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetImpliedAsync(HttpContext context, IdentityDirectory directory, string priorId, string impliedId)
    {
        Enforce(context, "identity:get_implied_role");
        return ImpliedBody(context, await directory.GetImpliedRoleAsync(priorId, impliedId, context.RequestAborted), StatusCodes.Status200OK);
    }

    private static async Task<IResult> CheckImpliedAsync(HttpContext context, IdentityDirectory directory, string priorId, string impliedId)
    {
        Enforce(context, "identity:get_implied_role");
        _ = await directory.GetImpliedRoleAsync(priorId, impliedId, context.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> DeleteImpliedAsync(HttpContext context, IdentityDirectory directory, string priorId, string impliedId)
    {
        Enforce(context, "identity:delete_implied_role");
        await directory.DeleteImpliedRoleAsync(priorId, impliedId, context.RequestAborted);
        return Results.NoContent();
    }

    private static IResult ImpliedBody(HttpContext context, ImpliedRole rule, int status) =>
        IdentityJson.Ok(
            new JsonObject
            {
                ["role_inference"] = Inference(context, rule.Prior, IdentityJson.RoleRef(context, rule.Implied)),
                ["links"] = IdentityJson.Links($"{IdentityJson.V3Base(context)}/roles/{rule.Prior.Id}/implies/{rule.Implied.Id}"),
            },
            status);

    private static async Task<IResult> ListInferencesAsync(HttpContext context, IdentityDirectory directory)
    {
        Enforce(context, "identity:list_role_inference_rules");
        var rules = await directory.ListImpliedRolesAsync(null, context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(
            context,
            "role_inferences",
            rules.Select(r => (JsonNode)Inference(context, r.Prior, new JsonArray([.. r.Implies.Select(i => (JsonNode)IdentityJson.RoleRef(context, i))])))));
    }

    // ---- Grants --------------------------------------------------------------------------

    private static async Task<IResult> ListGrantsAsync(HttpContext context, IdentityDirectory directory, ActorType actor, string actorId, TargetType target, string targetId)
    {
        Enforce(context, "identity:list_grants", GrantTarget(actor, actorId, target, targetId));
        var roles = await directory.ListGrantsAsync(actor, actorId, target, targetId, context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "roles", roles.Select(r => IdentityJson.Role(context, r))));
    }

    private static async Task<IResult> GrantAsync(HttpContext context, IdentityDirectory directory, ActorType actor, string actorId, TargetType target, string targetId, string roleId)
    {
        Enforce(context, "identity:create_grant", GrantTarget(actor, actorId, target, targetId));
        await directory.GrantAsync(actor, actorId, target, targetId, roleId, context.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> CheckGrantAsync(HttpContext context, IdentityDirectory directory, ActorType actor, string actorId, TargetType target, string targetId, string roleId)
    {
        Enforce(context, "identity:check_grant", GrantTarget(actor, actorId, target, targetId));
        return await directory.HasGrantAsync(actor, actorId, target, targetId, roleId, context.RequestAborted)
            ? Results.NoContent()
            : throw new Platform.Errors.NotFoundException(
                "identity.role_assignment_not_found",
                $"Could not find role assignment with role: {roleId}, user or group: {actorId}, project, domain, or system: {targetId}.");
    }

    private static async Task<IResult> RevokeGrantAsync(HttpContext context, IdentityDirectory directory, ActorType actor, string actorId, TargetType target, string targetId, string roleId)
    {
        Enforce(context, "identity:revoke_grant", GrantTarget(actor, actorId, target, targetId));
        await directory.RevokeGrantAsync(actor, actorId, target, targetId, roleId, context.RequestAborted);
        return Results.NoContent();
    }

    private static PolicyTarget GrantTarget(ActorType actor, string actorId, TargetType target, string targetId) =>
        new(
            ProjectId: target == TargetType.Project ? targetId : null,
            UserId: actor == ActorType.User ? actorId : null,
            DomainId: target == TargetType.Domain ? targetId : null);

    // ---- Role assignments (api-ref "List role assignments") ------------------------------

    private static async Task<IResult> ListAssignmentsAsync(HttpContext context, IdentityDirectory directory)
    {
        var query = new AssignmentQuery(
            RequestBody.Query(context, "user.id"),
            RequestBody.Query(context, "group.id"),
            RequestBody.Query(context, "scope.project.id"),
            RequestBody.Query(context, "scope.domain.id"),
            RequestBody.Query(context, "role.id"),
            RequestBody.QueryBool(context, "effective") == true,
            RequestBody.Query(context, "scope.system") is not null);
        // Anyone may list their own assignments; the rest is admin's.
        Enforce(context, "identity:list_role_assignments", new PolicyTarget(UserId: query.UserId));
        if (query.Effective && query.GroupId is not null)
        {
            throw IdentityErrors.Invalid("group.id", "cannot be combined with effective, which lists users' assignments.");
        }

        var assignments = await directory.ListRoleAssignmentsAsync(query, context.RequestAborted);
        var names = RequestBody.QueryBool(context, "include_names") == true ? await NamesAsync(directory, context.RequestAborted) : null;
        return IdentityJson.Ok(IdentityJson.Collection(context, "role_assignments", assignments.Select(a => (JsonNode)Assignment(context, a, names))));
    }

    private static JsonObject Assignment(HttpContext context, RoleAssignment assignment, AssignmentNames? names)
    {
        var v3 = IdentityJson.V3Base(context);
        var targetSegment = assignment.TargetType switch
        {
            TargetType.Project => "projects",
            TargetType.Domain => "domains",
            _ => "system",
        };
        var actorSegment = assignment.ActorType == ActorType.User ? "users" : "groups";
        // An effective row from a group links to the group's own assignment and the membership.
        var grantedActor = assignment.ViaGroupId is not null ? $"groups/{assignment.ViaGroupId}" : $"{actorSegment}/{assignment.ActorId}";
        var grantedRole = assignment.ImpliedFromRoleId ?? assignment.RoleId;
        var targetPath = assignment.TargetType == TargetType.System ? targetSegment : $"{targetSegment}/{assignment.TargetId}";
        var links = new JsonObject { ["assignment"] = $"{v3}/{targetPath}/{grantedActor}/roles/{grantedRole}" };
        if (assignment.ViaGroupId is not null)
        {
            links["membership"] = $"{v3}/groups/{assignment.ViaGroupId}/users/{assignment.ActorId}";
        }

        if (assignment.ImpliedFromRoleId is not null)
        {
            links["prior_role"] = $"{v3}/roles/{assignment.ImpliedFromRoleId}/implies/{assignment.RoleId}";
        }

        var role = new JsonObject { ["id"] = assignment.RoleId };
        var actor = new JsonObject { ["id"] = assignment.ActorId };
        var target = new JsonObject { ["id"] = assignment.TargetId };
        if (names is not null)
        {
            if (names.Roles.TryGetValue(assignment.RoleId, out var r))
            {
                role["name"] = r.Name;
                if (r.DomainId is not null)
                {
                    role["domain"] = DomainRef(names, r.DomainId);
                }
            }

            if (assignment.ActorType == ActorType.User && names.Users.TryGetValue(assignment.ActorId, out var u))
            {
                actor["name"] = u.Name;
                actor["domain"] = DomainRef(names, u.DomainId);
            }
            else if (assignment.ActorType == ActorType.Group && names.Groups.TryGetValue(assignment.ActorId, out var g))
            {
                actor["name"] = g.Name;
                actor["domain"] = DomainRef(names, g.DomainId);
            }

            if (assignment.TargetType == TargetType.Project && names.Projects.TryGetValue(assignment.TargetId, out var p))
            {
                target["name"] = p.Name;
                target["domain"] = DomainRef(names, p.DomainId);
            }
            else if (assignment.TargetType == TargetType.Domain && names.Domains.TryGetValue(assignment.TargetId, out var d))
            {
                target["name"] = d.Name;
            }
        }

        return new JsonObject
        {
            ["role"] = role,
            [assignment.ActorType == ActorType.User ? "user" : "group"] = actor,
            ["scope"] = assignment.TargetType == TargetType.System
                ? new JsonObject { ["system"] = new JsonObject { ["all"] = true } }
                : new JsonObject { [assignment.TargetType == TargetType.Project ? "project" : "domain"] = target },
            ["links"] = links,
        };
    }

    private static JsonObject DomainRef(AssignmentNames names, string domainId) => new()
    {
        ["id"] = domainId,
        ["name"] = names.Domains.TryGetValue(domainId, out var d) ? d.Name : null,
    };

    private static async Task<AssignmentNames> NamesAsync(IdentityDirectory directory, CancellationToken cancellationToken) =>
        new(
            await directory.RolesByIdAsync(cancellationToken),
            (await directory.ListUsersAsync(null, null, null, cancellationToken)).ToDictionary(u => u.Id, StringComparer.Ordinal),
            (await directory.ListGroupsAsync(null, null, cancellationToken)).ToDictionary(g => g.Id, StringComparer.Ordinal),
            (await directory.ListProjectsAsync(new ProjectFilter(), cancellationToken)).ToDictionary(p => p.Id, StringComparer.Ordinal),
            (await directory.ListDomainsAsync(null, null, cancellationToken)).ToDictionary(d => d.Id, StringComparer.Ordinal));

    private sealed record AssignmentNames(
        IReadOnlyDictionary<string, Role> Roles,
        IReadOnlyDictionary<string, User> Users,
        IReadOnlyDictionary<string, Group> Groups,
        IReadOnlyDictionary<string, Project> Projects,
        IReadOnlyDictionary<string, Domain> Domains);
}

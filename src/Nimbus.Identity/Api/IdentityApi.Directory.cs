using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Nimbus.Identity.Resources;
using Nimbus.Platform.Auth;

namespace Nimbus.Identity.Api;

internal static partial class IdentityApi
{
    private static void MapDirectory(RouteGroupBuilder v3)
    {
        v3.MapGet("/domains", ListDomainsAsync);
        v3.MapPost("/domains", CreateDomainAsync);
        v3.MapGet("/domains/{domainId}", GetDomainAsync);
        v3.MapMethods("/domains/{domainId}", ["PATCH"], UpdateDomainAsync);
        v3.MapDelete("/domains/{domainId}", DeleteDomainAsync);

        v3.MapGet("/projects", ListProjectsAsync);
        v3.MapPost("/projects", CreateProjectAsync);
        v3.MapGet("/projects/{projectId}", GetProjectAsync);
        v3.MapMethods("/projects/{projectId}", ["PATCH"], UpdateProjectAsync);
        v3.MapDelete("/projects/{projectId}", DeleteProjectAsync);

        v3.MapGet("/users", ListUsersAsync);
        v3.MapPost("/users", CreateUserAsync);
        v3.MapGet("/users/{userId}", GetUserAsync);
        v3.MapMethods("/users/{userId}", ["PATCH"], UpdateUserAsync);
        v3.MapDelete("/users/{userId}", DeleteUserAsync);
        v3.MapPost("/users/{userId}/password", ChangePasswordAsync);
        v3.MapGet("/users/{userId}/groups", ListUserGroupsAsync);
        v3.MapGet("/users/{userId}/projects", ListUserProjectsAsync);

        v3.MapGet("/groups", ListGroupsAsync);
        v3.MapPost("/groups", CreateGroupAsync);
        v3.MapGet("/groups/{groupId}", GetGroupAsync);
        v3.MapMethods("/groups/{groupId}", ["PATCH"], UpdateGroupAsync);
        v3.MapDelete("/groups/{groupId}", DeleteGroupAsync);
        v3.MapGet("/groups/{groupId}/users", ListGroupUsersAsync);
        v3.MapPut("/groups/{groupId}/users/{userId}", AddGroupUserAsync);
        v3.MapMethods("/groups/{groupId}/users/{userId}", ["HEAD", "GET"], CheckGroupUserAsync);
        v3.MapDelete("/groups/{groupId}/users/{userId}", RemoveGroupUserAsync);
    }

    // ---- Domains -------------------------------------------------------------------------

    private static async Task<IResult> ListDomainsAsync(HttpContext context, IdentityDirectory directory)
    {
        Enforce(context, "identity:list_domains");
        var domains = await directory.ListDomainsAsync(RequestBody.Query(context, "name"), RequestBody.QueryBool(context, "enabled"), context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "domains", domains.Select(d => IdentityJson.Domain(context, d))));
    }

    private static async Task<IResult> CreateDomainAsync(HttpContext context, IdentityDirectory directory)
    {
        Enforce(context, "identity:create_domain");
        var body = await RequestBody.ReadAsync(context, "domain");
        var domain = await directory.CreateDomainAsync(
            RequestBody.RequiredString(body, "name", "domain"),
            RequestBody.String(body, "description"),
            RequestBody.Bool(body, "enabled") ?? true,
            RequestBody.String(body, "explicit_domain_id"),
            context.RequestAborted);
        return IdentityJson.Ok(new System.Text.Json.Nodes.JsonObject { ["domain"] = IdentityJson.Domain(context, domain) }, StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetDomainAsync(HttpContext context, IdentityDirectory directory, string domainId)
    {
        Enforce(context, "identity:get_domain", new PolicyTarget(DomainId: domainId));
        var domain = await directory.GetDomainAsync(domainId, context.RequestAborted);
        return IdentityJson.Ok(new System.Text.Json.Nodes.JsonObject { ["domain"] = IdentityJson.Domain(context, domain) });
    }

    private static async Task<IResult> UpdateDomainAsync(HttpContext context, IdentityDirectory directory, string domainId)
    {
        Enforce(context, "identity:update_domain", new PolicyTarget(DomainId: domainId));
        var body = await RequestBody.ReadAsync(context, "domain");
        var domain = await directory.UpdateDomainAsync(domainId, RequestBody.String(body, "name"), RequestBody.String(body, "description"), RequestBody.Bool(body, "enabled"), context.RequestAborted);
        return IdentityJson.Ok(new System.Text.Json.Nodes.JsonObject { ["domain"] = IdentityJson.Domain(context, domain) });
    }

    private static async Task<IResult> DeleteDomainAsync(HttpContext context, IdentityDirectory directory, string domainId)
    {
        Enforce(context, "identity:delete_domain", new PolicyTarget(DomainId: domainId));
        await directory.DeleteDomainAsync(domainId, context.RequestAborted);
        return Results.NoContent();
    }

    // ---- Projects ------------------------------------------------------------------------

    private static readonly string[] ProjectFields = ["name", "domain_id", "parent_id", "description", "enabled", "is_domain", "options"];

    private static async Task<IResult> ListProjectsAsync(HttpContext context, IdentityDirectory directory)
    {
        Enforce(context, "identity:list_projects");
        var parentId = RequestBody.Query(context, "parent_id");
        var filter = new ProjectFilter(RequestBody.Query(context, "name"), RequestBody.Query(context, "domain_id"), null, RequestBody.QueryBool(context, "enabled"));
        var projects = await directory.ListProjectsAsync(filter, context.RequestAborted);
        // A top-level project's parent_id is its domain, as the listing shows it.
        var shown = parentId is null ? projects : projects.Where(p => (p.ParentId ?? p.DomainId) == parentId);
        return IdentityJson.Ok(IdentityJson.Collection(context, "projects", shown.Select(p => IdentityJson.Project(context, p))));
    }

    private static async Task<IResult> CreateProjectAsync(HttpContext context, IdentityDirectory directory)
    {
        var caller = Enforce(context, "identity:create_project");
        var body = await RequestBody.ReadAsync(context, "project");
        if (RequestBody.Bool(body, "is_domain") == true)
        {
            throw IdentityErrors.Invalid("is_domain", "projects acting as domains are not supported; create a domain instead.");
        }

        var domainId = RequestBody.String(body, "domain_id");
        var parentId = RequestBody.String(body, "parent_id");
        if (parentId is not null && await directory.FindDomainAsync(parentId, context.RequestAborted) is not null)
        {
            // A parent that is a domain means a top-level project in it.
            domainId ??= parentId;
            parentId = null;
        }

        var project = await directory.CreateProjectAsync(
            RequestBody.RequiredString(body, "name", "project"),
            domainId ?? (parentId is null ? DefaultDomain(caller) : null),
            parentId,
            RequestBody.String(body, "description"),
            RequestBody.Bool(body, "enabled") ?? true,
            RequestBody.Extra(body, ProjectFields),
            context.RequestAborted);
        return IdentityJson.Ok(new System.Text.Json.Nodes.JsonObject { ["project"] = IdentityJson.Project(context, project) }, StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetProjectAsync(HttpContext context, IdentityDirectory directory, string projectId)
    {
        Enforce(context, "identity:get_project", new PolicyTarget(ProjectId: projectId));
        var project = await directory.GetProjectAsync(projectId, context.RequestAborted);
        return IdentityJson.Ok(new System.Text.Json.Nodes.JsonObject { ["project"] = IdentityJson.Project(context, project) });
    }

    private static async Task<IResult> UpdateProjectAsync(HttpContext context, IdentityDirectory directory, string projectId)
    {
        Enforce(context, "identity:update_project", new PolicyTarget(ProjectId: projectId));
        var body = await RequestBody.ReadAsync(context, "project");
        var project = await directory.UpdateProjectAsync(
            projectId,
            RequestBody.String(body, "name"),
            RequestBody.String(body, "description"),
            RequestBody.Bool(body, "enabled"),
            RequestBody.Extra(body, ProjectFields),
            context.RequestAborted);
        return IdentityJson.Ok(new System.Text.Json.Nodes.JsonObject { ["project"] = IdentityJson.Project(context, project) });
    }

    private static async Task<IResult> DeleteProjectAsync(HttpContext context, IdentityDirectory directory, string projectId)
    {
        Enforce(context, "identity:delete_project", new PolicyTarget(ProjectId: projectId));
        await directory.DeleteProjectAsync(projectId, context.RequestAborted);
        return Results.NoContent();
    }

    // ---- Users ---------------------------------------------------------------------------

    private static readonly string[] UserFields = ["name", "domain_id", "password", "enabled", "default_project_id", "options", "federated"];

    private static async Task<IResult> ListUsersAsync(HttpContext context, IdentityDirectory directory)
    {
        Enforce(context, "identity:list_users");
        var users = await directory.ListUsersAsync(RequestBody.Query(context, "name"), RequestBody.Query(context, "domain_id"), RequestBody.QueryBool(context, "enabled"), context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "users", users.Select(u => IdentityJson.User(context, u))));
    }

    private static async Task<IResult> CreateUserAsync(HttpContext context, IdentityDirectory directory)
    {
        var caller = Enforce(context, "identity:create_user");
        var body = await RequestBody.ReadAsync(context, "user");
        var user = await directory.CreateUserAsync(
            RequestBody.RequiredString(body, "name", "user"),
            RequestBody.String(body, "domain_id") ?? DefaultDomain(caller),
            RequestBody.String(body, "password"),
            RequestBody.Bool(body, "enabled") ?? true,
            RequestBody.String(body, "default_project_id"),
            RequestBody.Extra(body, UserFields),
            context.RequestAborted);
        return IdentityJson.Ok(new System.Text.Json.Nodes.JsonObject { ["user"] = IdentityJson.User(context, user) }, StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetUserAsync(HttpContext context, IdentityDirectory directory, string userId)
    {
        Enforce(context, "identity:get_user", new PolicyTarget(UserId: userId));
        var user = await directory.GetUserAsync(userId, context.RequestAborted);
        return IdentityJson.Ok(new System.Text.Json.Nodes.JsonObject { ["user"] = IdentityJson.User(context, user) });
    }

    private static async Task<IResult> UpdateUserAsync(HttpContext context, IdentityDirectory directory, string userId)
    {
        Enforce(context, "identity:update_user", new PolicyTarget(UserId: userId));
        var body = await RequestBody.ReadAsync(context, "user");
        var update = new UserUpdate(
            RequestBody.String(body, "name"),
            RequestBody.Bool(body, "enabled"),
            RequestBody.String(body, "password"),
            RequestBody.String(body, "default_project_id"),
            RequestBody.Extra(body, [.. UserFields, "id"]));
        var user = await directory.UpdateUserAsync(userId, update, context.RequestAborted);
        return IdentityJson.Ok(new System.Text.Json.Nodes.JsonObject { ["user"] = IdentityJson.User(context, user) });
    }

    private static async Task<IResult> DeleteUserAsync(HttpContext context, IdentityDirectory directory, string userId)
    {
        Enforce(context, "identity:delete_user", new PolicyTarget(UserId: userId));
        await directory.DeleteUserAsync(userId, context.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> ChangePasswordAsync(HttpContext context, IdentityDirectory directory, string userId)
    {
        Enforce(context, "identity:change_password", new PolicyTarget(UserId: userId));
        var body = await RequestBody.ReadAsync(context, "user");
        await directory.ChangePasswordAsync(
            userId,
            RequestBody.RequiredString(body, "original_password", "user"),
            RequestBody.RequiredString(body, "password", "user"),
            context.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> ListUserGroupsAsync(HttpContext context, IdentityDirectory directory, string userId)
    {
        Enforce(context, "identity:list_groups_for_user", new PolicyTarget(UserId: userId));
        var groups = await directory.ListUserGroupsAsync(userId, context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "groups", groups.Select(g => IdentityJson.Group(context, g))));
    }

    private static async Task<IResult> ListUserProjectsAsync(HttpContext context, IdentityDirectory directory, string userId)
    {
        Enforce(context, "identity:list_user_projects", new PolicyTarget(UserId: userId));
        _ = await directory.GetUserAsync(userId, context.RequestAborted);
        var projects = await directory.ListUserProjectsAsync(userId, context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "projects", projects.Select(p => IdentityJson.Project(context, p))));
    }

    // ---- Groups --------------------------------------------------------------------------

    private static async Task<IResult> ListGroupsAsync(HttpContext context, IdentityDirectory directory)
    {
        Enforce(context, "identity:list_groups");
        var groups = await directory.ListGroupsAsync(RequestBody.Query(context, "name"), RequestBody.Query(context, "domain_id"), context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "groups", groups.Select(g => IdentityJson.Group(context, g))));
    }

    private static async Task<IResult> CreateGroupAsync(HttpContext context, IdentityDirectory directory)
    {
        var caller = Enforce(context, "identity:create_group");
        var body = await RequestBody.ReadAsync(context, "group");
        var group = await directory.CreateGroupAsync(
            RequestBody.RequiredString(body, "name", "group"),
            RequestBody.String(body, "domain_id") ?? DefaultDomain(caller),
            RequestBody.String(body, "description"),
            context.RequestAborted);
        return IdentityJson.Ok(new System.Text.Json.Nodes.JsonObject { ["group"] = IdentityJson.Group(context, group) }, StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetGroupAsync(HttpContext context, IdentityDirectory directory, string groupId)
    {
        Enforce(context, "identity:get_group");
        var group = await directory.GetGroupAsync(groupId, context.RequestAborted);
        return IdentityJson.Ok(new System.Text.Json.Nodes.JsonObject { ["group"] = IdentityJson.Group(context, group) });
    }

    private static async Task<IResult> UpdateGroupAsync(HttpContext context, IdentityDirectory directory, string groupId)
    {
        Enforce(context, "identity:update_group");
        var body = await RequestBody.ReadAsync(context, "group");
        var group = await directory.UpdateGroupAsync(groupId, RequestBody.String(body, "name"), RequestBody.String(body, "description"), context.RequestAborted);
        return IdentityJson.Ok(new System.Text.Json.Nodes.JsonObject { ["group"] = IdentityJson.Group(context, group) });
    }

    private static async Task<IResult> DeleteGroupAsync(HttpContext context, IdentityDirectory directory, string groupId)
    {
        Enforce(context, "identity:delete_group");
        await directory.DeleteGroupAsync(groupId, context.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> ListGroupUsersAsync(HttpContext context, IdentityDirectory directory, string groupId)
    {
        Enforce(context, "identity:list_users_in_group");
        var users = await directory.ListGroupUsersAsync(groupId, context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "users", users.Select(u => IdentityJson.User(context, u))));
    }

    private static async Task<IResult> AddGroupUserAsync(HttpContext context, IdentityDirectory directory, string groupId, string userId)
    {
        Enforce(context, "identity:add_user_to_group");
        await directory.AddUserToGroupAsync(groupId, userId, context.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> CheckGroupUserAsync(HttpContext context, IdentityDirectory directory, string groupId, string userId)
    {
        Enforce(context, "identity:check_user_in_group");
        return await directory.IsUserInGroupAsync(groupId, userId, context.RequestAborted)
            ? Results.NoContent()
            : throw new Platform.Errors.NotFoundException("identity.membership_not_found", $"{userId} is not a member of group {groupId}.");
    }

    private static async Task<IResult> RemoveGroupUserAsync(HttpContext context, IdentityDirectory directory, string groupId, string userId)
    {
        Enforce(context, "identity:remove_user_from_group");
        await directory.RemoveUserFromGroupAsync(groupId, userId, context.RequestAborted);
        return Results.NoContent();
    }
}

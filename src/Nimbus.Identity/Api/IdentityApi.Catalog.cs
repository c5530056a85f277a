using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Nimbus.Identity.Policy;
using Nimbus.Identity.Resources;
using Nimbus.Platform.Auth;
using Nimbus.Platform.Errors;

namespace Nimbus.Identity.Api;

internal static partial class IdentityApi
{
    private static void MapCatalog(RouteGroupBuilder v3)
    {
        v3.MapGet("/regions", ListRegionsAsync);
        v3.MapPost("/regions", CreateRegionAsync);
        v3.MapPut("/regions/{regionId}", CreateRegionWithIdAsync);
        v3.MapGet("/regions/{regionId}", GetRegionAsync);
        v3.MapMethods("/regions/{regionId}", ["PATCH"], UpdateRegionAsync);
        v3.MapDelete("/regions/{regionId}", DeleteRegionAsync);

        v3.MapGet("/services", ListServicesAsync);
        v3.MapPost("/services", CreateServiceAsync);
        v3.MapGet("/services/{serviceId}", GetServiceAsync);
        v3.MapMethods("/services/{serviceId}", ["PATCH"], UpdateServiceAsync);
        v3.MapDelete("/services/{serviceId}", DeleteServiceAsync);

        v3.MapGet("/endpoints", ListEndpointsAsync);
        v3.MapPost("/endpoints", CreateEndpointAsync);
        v3.MapGet("/endpoints/{endpointId}", GetEndpointAsync);
        v3.MapMethods("/endpoints/{endpointId}", ["PATCH"], UpdateEndpointAsync);
        v3.MapDelete("/endpoints/{endpointId}", DeleteEndpointAsync);

        v3.MapGet("/users/{userId}/application_credentials", ListApplicationCredentialsAsync);
        v3.MapPost("/users/{userId}/application_credentials", CreateApplicationCredentialAsync);
        v3.MapGet("/users/{userId}/application_credentials/{credentialId}", GetApplicationCredentialAsync);
        v3.MapDelete("/users/{userId}/application_credentials/{credentialId}", DeleteApplicationCredentialAsync);
    }

    // ---- Regions -------------------------------------------------------------------------

    private static async Task<IResult> ListRegionsAsync(HttpContext context, IdentityDirectory directory)
    {
        Enforce(context, "identity:list_regions");
        var regions = await directory.ListRegionsAsync(RequestBody.Query(context, "parent_region_id"), context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "regions", regions.Select(r => IdentityJson.Region(context, r))));
    }

    private static Task<IResult> CreateRegionAsync(HttpContext context, IdentityDirectory directory) => CreateRegionWithIdAsync(context, directory, null);

    private static async Task<IResult> CreateRegionWithIdAsync(HttpContext context, IdentityDirectory directory, string? regionId)
    {
        Enforce(context, "identity:create_region");
        var body = await RequestBody.ReadAsync(context, "region");
        var region = await directory.CreateRegionAsync(regionId ?? RequestBody.String(body, "id"), RequestBody.String(body, "description"), RequestBody.String(body, "parent_region_id"), context.RequestAborted);
        return IdentityJson.Ok(new JsonObject { ["region"] = IdentityJson.Region(context, region) }, StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetRegionAsync(HttpContext context, IdentityDirectory directory, string regionId)
    {
        Enforce(context, "identity:get_region");
        return IdentityJson.Ok(new JsonObject { ["region"] = IdentityJson.Region(context, await directory.GetRegionAsync(regionId, context.RequestAborted)) });
    }

    private static async Task<IResult> UpdateRegionAsync(HttpContext context, IdentityDirectory directory, string regionId)
    {
        Enforce(context, "identity:update_region");
        var body = await RequestBody.ReadAsync(context, "region");
        var region = await directory.UpdateRegionAsync(regionId, RequestBody.String(body, "description"), RequestBody.String(body, "parent_region_id"), context.RequestAborted);
        return IdentityJson.Ok(new JsonObject { ["region"] = IdentityJson.Region(context, region) });
    }

    private static async Task<IResult> DeleteRegionAsync(HttpContext context, IdentityDirectory directory, string regionId)
    {
        Enforce(context, "identity:delete_region");
        await directory.DeleteRegionAsync(regionId, context.RequestAborted);
        return Results.NoContent();
    }

    // ---- Services ------------------------------------------------------------------------

    private static async Task<IResult> ListServicesAsync(HttpContext context, IdentityDirectory directory)
    {
        Enforce(context, "identity:list_services");
        var services = await directory.ListServicesAsync(RequestBody.Query(context, "type"), RequestBody.Query(context, "name"), context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "services", services.Select(s => IdentityJson.Service(context, s))));
    }

    private static async Task<IResult> CreateServiceAsync(HttpContext context, IdentityDirectory directory)
    {
        Enforce(context, "identity:create_service");
        var body = await RequestBody.ReadAsync(context, "service");
        var service = await directory.CreateServiceAsync(
            RequestBody.RequiredString(body, "type", "service"),
            RequestBody.String(body, "name"),
            RequestBody.String(body, "description"),
            RequestBody.Bool(body, "enabled") ?? true,
            context.RequestAborted);
        return IdentityJson.Ok(new JsonObject { ["service"] = IdentityJson.Service(context, service) }, StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetServiceAsync(HttpContext context, IdentityDirectory directory, string serviceId)
    {
        Enforce(context, "identity:get_service");
        return IdentityJson.Ok(new JsonObject { ["service"] = IdentityJson.Service(context, await directory.GetServiceAsync(serviceId, context.RequestAborted)) });
    }

    private static async Task<IResult> UpdateServiceAsync(HttpContext context, IdentityDirectory directory, string serviceId)
    {
        Enforce(context, "identity:update_service");
        var body = await RequestBody.ReadAsync(context, "service");
        var service = await directory.UpdateServiceAsync(serviceId, RequestBody.String(body, "type"), RequestBody.String(body, "name"), RequestBody.String(body, "description"), RequestBody.Bool(body, "enabled"), context.RequestAborted);
        return IdentityJson.Ok(new JsonObject { ["service"] = IdentityJson.Service(context, service) });
    }

    private static async Task<IResult> DeleteServiceAsync(HttpContext context, IdentityDirectory directory, string serviceId)
    {
        Enforce(context, "identity:delete_service");
        await directory.DeleteServiceAsync(serviceId, context.RequestAborted);
        return Results.NoContent();
    }

    // ---- Endpoints -----------------------------------------------------------------------

    private static async Task<IResult> ListEndpointsAsync(HttpContext context, IdentityDirectory directory)
    {
        Enforce(context, "identity:list_endpoints");
        var endpoints = await directory.ListEndpointsAsync(RequestBody.Query(context, "service_id"), RequestBody.Query(context, "interface"), RequestBody.Query(context, "region_id"), context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "endpoints", endpoints.Select(e => IdentityJson.CatalogEndpoint(context, e))));
    }

    private static async Task<IResult> CreateEndpointAsync(HttpContext context, IdentityDirectory directory)
    {
        Enforce(context, "identity:create_endpoint");
        var body = await RequestBody.ReadAsync(context, "endpoint");
        var endpoint = await directory.CreateEndpointAsync(
            RequestBody.RequiredString(body, "service_id", "endpoint"),
            RequestBody.RequiredString(body, "interface", "endpoint"),
            RequestBody.RequiredString(body, "url", "endpoint"),
            RequestBody.String(body, "region_id") ?? RequestBody.String(body, "region"),
            RequestBody.Bool(body, "enabled") ?? true,
            context.RequestAborted,
            createRegion: RequestBody.String(body, "region_id") is null);
        return IdentityJson.Ok(new JsonObject { ["endpoint"] = IdentityJson.CatalogEndpoint(context, endpoint) }, StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetEndpointAsync(HttpContext context, IdentityDirectory directory, string endpointId)
    {
        Enforce(context, "identity:get_endpoint");
        return IdentityJson.Ok(new JsonObject { ["endpoint"] = IdentityJson.CatalogEndpoint(context, await directory.GetEndpointAsync(endpointId, context.RequestAborted)) });
    }

    private static async Task<IResult> UpdateEndpointAsync(HttpContext context, IdentityDirectory directory, string endpointId)
    {
        Enforce(context, "identity:update_endpoint");
        var body = await RequestBody.ReadAsync(context, "endpoint");
        var endpoint = await directory.UpdateEndpointAsync(
            endpointId,
            RequestBody.String(body, "service_id"),
            RequestBody.String(body, "interface"),
            RequestBody.String(body, "url"),
            RequestBody.String(body, "region_id") ?? RequestBody.String(body, "region"),
            RequestBody.Bool(body, "enabled"),
            context.RequestAborted,
            createRegion: RequestBody.String(body, "region_id") is null);
        return IdentityJson.Ok(new JsonObject { ["endpoint"] = IdentityJson.CatalogEndpoint(context, endpoint) });
    }

    private static async Task<IResult> DeleteEndpointAsync(HttpContext context, IdentityDirectory directory, string endpointId)
    {
        Enforce(context, "identity:delete_endpoint");
        await directory.DeleteEndpointAsync(endpointId, context.RequestAborted);
        return Results.NoContent();
    }

    // ---- Application credentials (api-ref "Application Credentials") --------------------

    private static async Task<IResult> ListApplicationCredentialsAsync(HttpContext context, IdentityDirectory directory, string userId)
    {
        await EnforceCredentialPolicyAsync(context, directory, "identity:list_application_credentials", userId);
        var credentials = await directory.ListApplicationCredentialsAsync(userId, RequestBody.Query(context, "name"), context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "application_credentials", credentials.Select(c => IdentityJson.ApplicationCredential(context, c))));
    }

    private static async Task<IResult> CreateApplicationCredentialAsync(HttpContext context, IdentityDirectory directory, string userId)
    {
        var caller = await EnforceCredentialPolicyAsync(context, directory, "identity:create_application_credential", userId);
        var body = await RequestBody.ReadAsync(context, "application_credential");
        if (caller.ProjectId is null)
        {
            throw new ForbiddenException("identity.application_credential_scope", "Application credentials are created with a project-scoped token; get one with `openstack token issue --os-project-name …`.");
        }

        var roles = new List<RoleReference>();
        if (body["roles"] is JsonArray requested)
        {
            foreach (var item in requested)
            {
                var role = item as JsonObject ?? throw IdentityErrors.Invalid("roles", "each role must be an object with an id or a name.");
                var reference = new RoleReference(RequestBody.String(role, "id"), RequestBody.String(role, "name"));
                roles.Add(reference.Id is null && reference.Name is null ? throw IdentityErrors.Invalid("roles", "each role needs an id or a name.") : reference);
            }
        }

        DateTimeOffset? expiresAt = null;
        if (RequestBody.String(body, "expires_at") is { } expiresText)
        {
            expiresAt = DateTimeOffset.TryParse(expiresText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
                ? parsed
                : throw IdentityErrors.Invalid("expires_at", $"'{expiresText}' is not an ISO 8601 time.");
        }

        // Keystone checks the roles the creator holds on the token's project now, not those the token carries.
        var creatorRoles = (await directory.EffectiveRolesAsync(caller.UserId, TargetType.Project, caller.ProjectId, context.RequestAborted)).Roles;
        var created = await directory.CreateApplicationCredentialAsync(
            new ApplicationCredentialCreate(
                userId,
                caller.ProjectId,
                RequestBody.RequiredString(body, "name", "application_credential"),
                RequestBody.String(body, "secret"),
                RequestBody.String(body, "description"),
                expiresAt,
                RequestBody.Bool(body, "unrestricted") ?? false,
                roles),
            creatorRoles,
            context.RequestAborted);
        return IdentityJson.Ok(new JsonObject { ["application_credential"] = IdentityJson.ApplicationCredential(context, created.Credential, created.Secret) }, StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetApplicationCredentialAsync(HttpContext context, IdentityDirectory directory, string userId, string credentialId)
    {
        await EnforceCredentialPolicyAsync(context, directory, "identity:get_application_credential", userId);
        var credential = await directory.GetApplicationCredentialAsync(userId, credentialId, context.RequestAborted);
        return IdentityJson.Ok(new JsonObject { ["application_credential"] = IdentityJson.ApplicationCredential(context, credential) });
    }

    private static async Task<IResult> DeleteApplicationCredentialAsync(HttpContext context, IdentityDirectory directory, string userId, string credentialId)
    {
        await EnforceCredentialPolicyAsync(context, directory, "identity:delete_application_credential", userId);
        await directory.DeleteApplicationCredentialAsync(userId, credentialId, context.RequestAborted);
        return Results.NoContent();
    }

    /// <summary>
    /// The policy check for application credentials. A token from an unrestricted credential is
    /// judged as its user's own token; a restricted one is refused by the rules.
    /// </summary>
    private static async Task<AuthContext> EnforceCredentialPolicyAsync(HttpContext context, IdentityDirectory directory, string action, string userId)
    {
        var caller = context.Caller();
        var judged = caller;
        if (caller.ApplicationCredentialId is { } credentialId
            && await directory.FindApplicationCredentialAsync(credentialId, context.RequestAborted) is { Unrestricted: true })
        {
            judged = caller with { ApplicationCredentialId = null };
        }

        IdentityPolicy.Table.Enforce(judged, action, new PolicyTarget(UserId: userId));
        return caller;
    }
}

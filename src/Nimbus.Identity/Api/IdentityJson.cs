using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Nimbus.Identity.Resources;
using Nimbus.Platform.Errors;

namespace Nimbus.Identity.Api;

/// <summary>Keystone's JSON shapes for each resource, with absolute <c>links</c> built from the request.</summary>
internal static class IdentityJson
{
    /// <summary>The base of every link: scheme, host and /identity/v3 as the client addressed us.</summary>
    public static string V3Base(HttpContext context) =>
        $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}/identity/v3";

    public static string Time(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public static JsonObject Links(string self) => new() { ["self"] = self };

    public static JsonObject ListLinks(HttpContext context) => new()
    {
        ["self"] = $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{context.Request.Path}{context.Request.QueryString}",
        ["previous"] = null,
        ["next"] = null,
    };

    public static JsonObject Collection(HttpContext context, string name, IEnumerable<JsonNode> items) => new()
    {
        [name] = new JsonArray([.. items]),
        ["links"] = ListLinks(context),
    };

    public static JsonObject Domain(HttpContext context, Domain domain) => new()
    {
        ["id"] = domain.Id,
        ["name"] = domain.Name,
        ["description"] = domain.Description,
        ["enabled"] = domain.Enabled,
        ["tags"] = new JsonArray(),
        ["options"] = new JsonObject(),
        ["links"] = Links($"{V3Base(context)}/domains/{domain.Id}"),
    };

    public static JsonObject Project(HttpContext context, Project project)
    {
        var json = WithExtra(project.Extra);
        json["id"] = project.Id;
        json["name"] = project.Name;
        json["domain_id"] = project.DomainId;
        // Keystone: a top-level project's parent is its domain (acting as a project).
        json["parent_id"] = project.ParentId ?? project.DomainId;
        json["is_domain"] = false;
        json["description"] = project.Description;
        json["enabled"] = project.Enabled;
        json["tags"] ??= new JsonArray();
        json["options"] = new JsonObject();
        json["links"] = Links($"{V3Base(context)}/projects/{project.Id}");
        return json;
    }

    public static JsonObject User(HttpContext context, User user)
    {
        var json = WithExtra(user.Extra);
        json["id"] = user.Id;
        json["name"] = user.Name;
        json["domain_id"] = user.DomainId;
        json["enabled"] = user.Enabled;
        if (user.DefaultProjectId is not null)
        {
            json["default_project_id"] = user.DefaultProjectId;
        }

        json["password_expires_at"] = null;
        json["options"] = new JsonObject();
        json["links"] = Links($"{V3Base(context)}/users/{user.Id}");
        return json;
    }

    public static JsonObject Group(HttpContext context, Group group) => new()
    {
        ["id"] = group.Id,
        ["name"] = group.Name,
        ["domain_id"] = group.DomainId,
        ["description"] = group.Description,
        ["links"] = Links($"{V3Base(context)}/groups/{group.Id}"),
    };

    public static JsonObject Role(HttpContext context, Role role) => new()
    {
        ["id"] = role.Id,
        ["name"] = role.Name,
        ["domain_id"] = role.DomainId,
        ["description"] = role.Description,
        ["options"] = new JsonObject(),
        ["links"] = Links($"{V3Base(context)}/roles/{role.Id}"),
    };

    public static JsonObject RoleRef(HttpContext context, Role role) => new()
    {
        ["id"] = role.Id,
        ["name"] = role.Name,
        ["links"] = Links($"{V3Base(context)}/roles/{role.Id}"),
    };

    public static JsonObject Region(HttpContext context, Region region) => new()
    {
        ["id"] = region.Id,
        ["description"] = region.Description,
        ["parent_region_id"] = region.ParentRegionId,
        ["links"] = Links($"{V3Base(context)}/regions/{region.Id}"),
    };

    public static JsonObject Service(HttpContext context, CatalogService service) => new()
    {
        ["id"] = service.Id,
        ["type"] = service.Type,
        ["name"] = service.Name,
        ["description"] = service.Description,
        ["enabled"] = service.Enabled,
        ["links"] = Links($"{V3Base(context)}/services/{service.Id}"),
    };

    public static JsonObject CatalogEndpoint(HttpContext context, CatalogEndpoint endpoint) => new()
    {
        ["id"] = endpoint.Id,
        ["interface"] = endpoint.Interface,
        ["region_id"] = endpoint.RegionId,
        ["region"] = endpoint.RegionId,
        ["url"] = endpoint.Url,
        ["service_id"] = endpoint.ServiceId,
        ["enabled"] = endpoint.Enabled,
        ["links"] = Links($"{V3Base(context)}/endpoints/{endpoint.Id}"),
    };

    public static JsonObject ApplicationCredential(HttpContext context, ApplicationCredential credential, string? secret = null)
    {
        var json = new JsonObject
        {
            ["id"] = credential.Id,
            ["name"] = credential.Name,
            ["description"] = credential.Description,
            ["user_id"] = credential.UserId,
            ["project_id"] = credential.ProjectId,
            // Keystone echoes an application credential's expiry without a zone designator.
            ["expires_at"] = credential.ExpiresAt is { } expires ? expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture) : null,
            ["unrestricted"] = credential.Unrestricted,
            ["roles"] = new JsonArray([.. credential.Roles.Select(r => (JsonNode)new JsonObject { ["id"] = r.Id, ["name"] = r.Name, ["domain_id"] = r.DomainId })]),
            ["access_rules"] = new JsonArray(),
            ["links"] = Links($"{V3Base(context)}/users/{credential.UserId}/application_credentials/{credential.Id}"),
        };
        if (secret is not null)
        {
            json["secret"] = secret;
        }

        return json;
    }

    /// <summary>The token's catalog; <c>$(project_id)s</c> is filled in, and endpoints needing a project are left out of unscoped catalogs.</summary>
    public static JsonArray Catalog(IReadOnlyList<CatalogEntry> catalog, string? projectId) =>
        new([.. catalog.Select(entry => (JsonNode)new JsonObject
        {
            ["endpoints"] = new JsonArray([.. entry.Endpoints
                .Select(e => (Endpoint: e, Url: Substitute(e.Url, projectId)))
                .Where(e => e.Url is not null)
                .Select(e => (JsonNode)new JsonObject
                {
                    ["id"] = e.Endpoint.Id,
                    ["interface"] = e.Endpoint.Interface,
                    ["region"] = e.Endpoint.RegionId,
                    ["region_id"] = e.Endpoint.RegionId,
                    ["url"] = e.Url,
                })]),
            ["id"] = entry.Service.Id,
            ["type"] = entry.Service.Type,
            ["name"] = entry.Service.Name,
        })]);

    private static string? Substitute(string url, string? projectId)
    {
        string[] markers = ["$(project_id)s", "%(project_id)s", "$(tenant_id)s", "%(tenant_id)s"];
        if (!markers.Any(m => url.Contains(m, StringComparison.Ordinal)))
        {
            return url;
        }

        return projectId is null ? null : markers.Aggregate(url, (u, m) => u.Replace(m, projectId, StringComparison.Ordinal));
    }

    private static JsonObject WithExtra(JsonObject extra) => (JsonObject)extra.DeepClone();

    public static IResult Ok(JsonNode body, int status = StatusCodes.Status200OK) =>
        Results.Text(body.ToJsonString(), "application/json", System.Text.Encoding.UTF8, status);
}

/// <summary>Reads request bodies into JSON and typed values, refusing bad input with the field it concerns.</summary>
internal static class RequestBody
{
    public static async Task<JsonObject> ReadAsync(HttpContext context, string? wrapper)
    {
        JsonNode? node;
        try
        {
            node = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException("identity.malformed_body", $"The request body is not valid JSON: {ex.Message}");
        }

        if (node is not JsonObject root)
        {
            throw new InvalidInputException("identity.malformed_body", "The request body must be a JSON object.");
        }

        if (wrapper is null)
        {
            return root;
        }

        return root[wrapper] as JsonObject ?? throw Resources.IdentityErrors.Missing(wrapper, "the request body");
    }

    public static string? String(JsonObject body, string field)
    {
        var node = body[field];
        if (node is null)
        {
            return null;
        }

        return node is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw Resources.IdentityErrors.Invalid(field, $"{node.ToJsonString()} is not of type 'string'.");
    }

    public static string RequiredString(JsonObject body, string field, string target) =>
        String(body, field) ?? throw Resources.IdentityErrors.Missing(field, target);

    public static bool? Bool(JsonObject body, string field)
    {
        var node = body[field];
        if (node is null)
        {
            return null;
        }

        return node is JsonValue value && value.TryGetValue<bool>(out var flag)
            ? flag
            : throw Resources.IdentityErrors.Invalid(field, $"{node.ToJsonString()} is not of type 'boolean'.");
    }

    /// <summary>The attributes outside <paramref name="known"/>, kept as Keystone keeps a user's email.</summary>
    public static JsonObject? Extra(JsonObject body, params string[] known)
    {
        var extra = new JsonObject();
        foreach (var (key, value) in body)
        {
            if (!known.Contains(key, StringComparer.Ordinal))
            {
                extra[key] = value?.DeepClone();
            }
        }

        return extra.Count == 0 ? null : extra;
    }

    public static bool? QueryBool(HttpContext context, string name)
    {
        var text = context.Request.Query[name].ToString();
        if (text.Length == 0)
        {
            return context.Request.Query.ContainsKey(name) ? true : null;
        }

        // oslo's bool_from_string, as Keystone reads query flags.
        return text.ToLowerInvariant() switch
        {
            "1" or "true" or "yes" or "on" or "y" or "t" => true,
            _ => false,
        };
    }

    public static string? Query(HttpContext context, string name) =>
        context.Request.Query.TryGetValue(name, out var value) && value.Count > 0 && !string.IsNullOrEmpty(value[0]) ? value[0] : null;
}

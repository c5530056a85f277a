using System.Text.Json;
using System.Text.Json.Nodes;
using Nimbus.Identity.Data;

namespace Nimbus.Identity.Resources;

// Rows as the engines return them; Dapper fills them by column alias. Kept apart from the
// records the rest of Identity sees so SQL types never leak past the directory.
#pragma warning disable CA1812 // Instantiated by Dapper.
internal sealed class DomainRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public bool Enabled { get; set; }
    public string Description { get; set; } = "";
    public string Extra { get; set; } = "{}";

    public Domain ToModel() => new(Id, Name, Enabled, Description, Json.Parse(Extra));
}

internal sealed class ProjectRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string DomainId { get; set; } = "";
    public string? ParentId { get; set; }
    public bool Enabled { get; set; }
    public string Description { get; set; } = "";
    public string Extra { get; set; } = "{}";

    public Project ToModel() => new(Id, Name, DomainId, ParentId, Enabled, Description, Json.Parse(Extra));
}

internal sealed class UserRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string DomainId { get; set; } = "";
    public bool Enabled { get; set; }
    public string? PasswordHash { get; set; }
    public string? DefaultProjectId { get; set; }
    public string Extra { get; set; } = "{}";
    public long CreatedAt { get; set; }

    public User ToModel() => new(Id, Name, DomainId, Enabled, DefaultProjectId, Json.Parse(Extra), DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt));
}

internal sealed class GroupRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string DomainId { get; set; } = "";
    public string Description { get; set; } = "";
    public string Extra { get; set; } = "{}";

    public Group ToModel() => new(Id, Name, DomainId, Description, Json.Parse(Extra));
}

internal sealed class RoleRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string DomainId { get; set; } = "";
    public string Description { get; set; } = "";
    public string Extra { get; set; } = "{}";

    public Role ToModel() => new(Id, Name, DomainId == IdentitySchema.GlobalRoleDomain ? null : DomainId, Description, Json.Parse(Extra));
}

internal sealed class ImpliedRow
{
    public string PriorRoleId { get; set; } = "";
    public string ImpliedRoleId { get; set; } = "";
}

internal sealed class MemberRow
{
    public string GroupId { get; set; } = "";
    public string UserId { get; set; } = "";
}

internal sealed class AssignmentRow
{
    public string ActorType { get; set; } = "";
    public string ActorId { get; set; } = "";
    public string TargetType { get; set; } = "";
    public string TargetId { get; set; } = "";
    public string RoleId { get; set; } = "";

    public RoleAssignment ToModel() => new(
        ActorType == "group" ? Resources.ActorType.Group : Resources.ActorType.User,
        ActorId,
        TargetType switch
        {
            "domain" => Resources.TargetType.Domain,
            "system" => Resources.TargetType.System,
            _ => Resources.TargetType.Project,
        },
        TargetId,
        RoleId);
}

internal sealed class RegionRow
{
    public string Id { get; set; } = "";
    public string Description { get; set; } = "";
    public string? ParentRegionId { get; set; }
    public string Extra { get; set; } = "{}";

    public Region ToModel() => new(Id, Description, ParentRegionId, Json.Parse(Extra));
}

internal sealed class ServiceRow
{
    public string Id { get; set; } = "";
    public string Type { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public bool Enabled { get; set; }
    public string Extra { get; set; } = "{}";

    public CatalogService ToModel() => new(Id, Type, Name, Description, Enabled, Json.Parse(Extra));
}

internal sealed class EndpointRow
{
    public string Id { get; set; } = "";
    public string ServiceId { get; set; } = "";
    public string Interface { get; set; } = "";
    public string? RegionId { get; set; }
    public string Url { get; set; } = "";
    public bool Enabled { get; set; }
    public string Extra { get; set; } = "{}";

    public CatalogEndpoint ToModel() => new(Id, ServiceId, Interface, RegionId, Url, Enabled, Json.Parse(Extra));
}

internal sealed class AppCredRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string UserId { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string SecretHash { get; set; } = "";
    public string Description { get; set; } = "";
    public long? ExpiresAt { get; set; }
    public bool Unrestricted { get; set; }
}

internal sealed class AppCredRoleRow
{
    public string CredentialId { get; set; } = "";
    public string RoleId { get; set; } = "";
}
#pragma warning restore CA1812

/// <summary>Extra attributes as stored: a JSON object in a TEXT column.</summary>
internal static class Json
{
    public static JsonObject Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        try
        {
            return JsonNode.Parse(text) as JsonObject ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    public static string Write(JsonObject? extra) => extra is null ? "{}" : extra.ToJsonString();
}

using System.Text.Json.Nodes;

namespace Nimbus.Identity.Resources;

/// <summary>A domain: the namespace of users, groups and projects (api-ref identity v3, "Domains").</summary>
internal sealed record Domain(string Id, string Name, bool Enabled, string Description, JsonObject Extra);

internal sealed record Project(string Id, string Name, string DomainId, string? ParentId, bool Enabled, string Description, JsonObject Extra);

/// <summary>A user; the password hash never leaves the directory.</summary>
internal sealed record User(string Id, string Name, string DomainId, bool Enabled, string? DefaultProjectId, JsonObject Extra, DateTimeOffset CreatedAt);

internal sealed record Group(string Id, string Name, string DomainId, string Description, JsonObject Extra);

/// <summary>A role; <see cref="DomainId"/> is null for a global role.</summary>
internal sealed record Role(string Id, string Name, string? DomainId, string Description, JsonObject Extra);

internal sealed record ImpliedRole(Role Prior, Role Implied);

internal enum ActorType
{
    User,
    Group,
}

internal enum TargetType
{
    Project,
    Domain,

    /// <summary>The deployment as a whole (Keystone's system scope); its one target id is <c>all</c>.</summary>
    System,
}

/// <summary>One row of role_assignments; effective listings also say which group it came through.</summary>
internal sealed record RoleAssignment(ActorType ActorType, string ActorId, TargetType TargetType, string TargetId, string RoleId, string? ViaGroupId = null, string? ImpliedFromRoleId = null);

internal sealed record Region(string Id, string Description, string? ParentRegionId, JsonObject Extra);

internal sealed record CatalogService(string Id, string Type, string Name, string Description, bool Enabled, JsonObject Extra);

internal sealed record CatalogEndpoint(string Id, string ServiceId, string Interface, string? RegionId, string Url, bool Enabled, JsonObject Extra);

internal sealed record ApplicationCredential(
    string Id,
    string Name,
    string UserId,
    string ProjectId,
    string Description,
    DateTimeOffset? ExpiresAt,
    bool Unrestricted,
    IReadOnlyList<Role> Roles);

/// <summary>An application credential as created: the only time its secret is shown.</summary>
internal sealed record CreatedApplicationCredential(ApplicationCredential Credential, string Secret);

/// <summary>The effective roles of an actor on one scope, implied roles included.</summary>
internal sealed record EffectiveRoles(IReadOnlyList<Role> Roles)
{
    public bool IsEmpty => Roles.Count == 0;
}

/// <summary>One service of the catalog with its enabled endpoints.</summary>
internal sealed record CatalogEntry(CatalogService Service, IReadOnlyList<CatalogEndpoint> Endpoints);

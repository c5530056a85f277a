using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Nimbus.Identity.Resources;

namespace Nimbus.Identity.Bootstrap;

/// <summary>What a bootstrap run did; <see cref="GeneratedPassword"/> is set only the time it made one up.</summary>
public sealed record BootstrapResult(bool CreatedAdmin, string? GeneratedPassword, string AdminUserId, string AdminProjectId);

/// <summary>
/// keystone-manage bootstrap: the default domain, the admin/member/reader roles (admin ⊃ member ⊃
/// reader) and object storage's ResellerAdmin role, the admin and service projects, the admin user with the admin role on its project and
/// on the default domain, the region, and the catalog of this host's services. Idempotent: a later
/// run creates only what is missing and moves the endpoints it made to a new base address.
/// </summary>
internal sealed class IdentityBootstrap
{
    private readonly IdentityDirectory _directory;
    private readonly ILogger _logger;

    public IdentityBootstrap(IdentityDirectory directory, ILogger<IdentityBootstrap> logger)
    {
        _directory = directory;
        _logger = logger;
    }

    /// <summary>The role object storage treats as a reseller admin (Swift's keystoneauth <c>reseller_admin_role</c>).</summary>
    public const string ResellerAdminRole = "ResellerAdmin";

    /// <summary>The services bootstrap lists, and the path of each under the public base URL.</summary>
    internal static IReadOnlyList<(string Type, string Name, string Path)> CatalogServices { get; } =
    [
        ("identity", "keystone", "/identity"),
        ("image", "glance", "/image"),
        ("object-store", "swift", "/v1/AUTH_$(project_id)s"),
    ];

    public async Task<BootstrapResult> BootstrapAsync(BootstrapSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var domain = await _directory.FindDomainAsync(IdentityDirectory.DefaultDomainId, cancellationToken)
            ?? await CreatedAsync("domain Default", _directory.CreateDomainAsync("Default", "The default domain", true, IdentityDirectory.DefaultDomainId, cancellationToken));

        var admin = await RoleAsync("admin", cancellationToken);
        var member = await RoleAsync("member", cancellationToken);
        var reader = await RoleAsync("reader", cancellationToken);
        await _directory.CreateImpliedRoleAsync(admin.Id, member.Id, cancellationToken);
        await _directory.CreateImpliedRoleAsync(member.Id, reader.Id, cancellationToken);
        // Object storage's keystoneauth (reseller_admin_role) and account quotas give this role every account, as DevStack's swift setup makes it.
        _ = await RoleAsync(ResellerAdminRole, cancellationToken);

        var adminProject = await ProjectAsync(settings.AdminProjectName, "Bootstrap project for initializing the cloud.", domain.Id, cancellationToken);
        _ = await ProjectAsync("service", "Project of the services' own users.", domain.Id, cancellationToken);

        string? generated = null;
        var user = await _directory.FindUserByNameAsync(settings.AdminUserName, domain.Id, cancellationToken);
        var createdAdmin = user is null;
        if (user is null)
        {
            var password = settings.AdminPassword ?? (generated = NewPassword());
            user = await CreatedAsync($"user {settings.AdminUserName}", _directory.CreateUserAsync(settings.AdminUserName, domain.Id, password, true, null, null, cancellationToken));
        }

        await _directory.GrantAsync(ActorType.User, user.Id, TargetType.Project, adminProject.Id, admin.Id, cancellationToken);
        await _directory.GrantAsync(ActorType.User, user.Id, TargetType.Domain, domain.Id, admin.Id, cancellationToken);

        if ((await _directory.ListRegionsAsync(null, cancellationToken)).All(r => r.Id != settings.RegionId))
        {
            await CreatedAsync($"region {settings.RegionId}", _directory.CreateRegionAsync(settings.RegionId, "", null, cancellationToken));
        }

        var baseUrl = settings.PublicBaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');
        foreach (var (type, name, path) in CatalogServices)
        {
            var service = await _directory.ListServicesAsync(type, name, cancellationToken) is [var known, ..]
                ? known
                : await CreatedAsync($"service {name}", _directory.CreateServiceAsync(type, name, null, true, cancellationToken));
            foreach (var @interface in new[] { "public", "internal", "admin" })
            {
                await _directory.EnsureBootstrapEndpointAsync($"{type}.{@interface}", service.Id, @interface, settings.RegionId, baseUrl + path, cancellationToken);
            }
        }

        return new BootstrapResult(createdAdmin, generated, user.Id, adminProject.Id);
    }

    private async Task<Role> RoleAsync(string name, CancellationToken cancellationToken) =>
        await _directory.FindRoleByNameAsync(name, null, cancellationToken)
            ?? await CreatedAsync($"role {name}", _directory.CreateRoleAsync(name, null, null, cancellationToken));

    private async Task<Project> ProjectAsync(string name, string description, string domainId, CancellationToken cancellationToken) =>
        await _directory.FindProjectByNameAsync(name, domainId, cancellationToken)
            ?? await CreatedAsync($"project {name}", _directory.CreateProjectAsync(name, domainId, null, description, true, null, cancellationToken));

    private async Task<T> CreatedAsync<T>(string what, Task<T> creation)
    {
        var created = await creation;
        IdentityLog.BootstrapCreated(_logger, what);
        return created;
    }

    /// <summary>24 url-safe characters (144 bits) for the first admin's password.</summary>
    private static string NewPassword() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');
}

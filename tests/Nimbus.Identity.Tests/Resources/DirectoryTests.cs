using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nimbus.Identity.Authentication;
using Nimbus.Identity.Bootstrap;
using Nimbus.Identity.Data;
using Nimbus.Identity.Resources;
using Nimbus.Identity.Tokens;
using Nimbus.Platform.Data;
using Nimbus.Platform.Errors;
using Nimbus.TestSupport;

namespace Nimbus.Identity.Tests.Resources;

/// <summary>The directory's rules, run on every engine.</summary>
public abstract class DirectoryTests(DataProvider provider) : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero)) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };
    private readonly RecordingRevoker _revoker = new();
    private TestDatabase _database = null!;
    private IdentityDirectory _directory = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(provider);
        var database = _database.Factory.Open("identity");
        await database.MigrateAsync(IdentitySchema.Migrations, CancellationToken.None);
        _directory = new IdentityDirectory(database, _clock, new PasswordHasher(10), _revoker, NullLogger<IdentityDirectory>.Instance);
        await _directory.CreateDomainAsync("Default", null, true, IdentityDirectory.DefaultDomainId, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Duplicate_user_name_in_a_domain_is_409_with_keystones_message()
    {
        await _directory.CreateUserAsync("alice", "default", "pw", true, null, null, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<ConflictException>(() => _directory.CreateUserAsync("alice", "default", "pw", true, null, null, CancellationToken.None));
        Assert.Equal("Conflict occurred attempting to store user - Duplicate entry found with name alice at domain ID default.", ex.Message);
    }

    [Fact]
    public async Task Same_user_name_in_another_domain_is_a_different_user()
    {
        var other = await _directory.CreateDomainAsync("other", null, true, null, CancellationToken.None);
        var first = await _directory.CreateUserAsync("alice", "default", "pw", true, null, null, CancellationToken.None);
        var second = await _directory.CreateUserAsync("alice", other.Id, "pw", true, null, null, CancellationToken.None);
        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(32, second.Id.Length);
    }

    [Fact]
    public async Task Missing_user_is_404_naming_it()
    {
        var ex = await Assert.ThrowsAsync<NotFoundException>(() => _directory.GetUserAsync("nosuch", CancellationToken.None));
        Assert.Equal("Could not find user: nosuch.", ex.Message);
    }

    [Fact]
    public async Task Blank_name_is_400_naming_the_field()
    {
        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => _directory.CreateProjectAsync(" ", "default", null, null, true, null, CancellationToken.None));
        Assert.Contains("'name'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enabled_domain_cannot_be_deleted_and_a_disabled_one_takes_its_contents_along()
    {
        var domain = await _directory.CreateDomainAsync("doomed", null, true, null, CancellationToken.None);
        var user = await _directory.CreateUserAsync("bob", domain.Id, "pw", true, null, null, CancellationToken.None);
        var project = await _directory.CreateProjectAsync("p", domain.Id, null, null, true, null, CancellationToken.None);

        var refused = await Assert.ThrowsAsync<ForbiddenException>(() => _directory.DeleteDomainAsync(domain.Id, CancellationToken.None));
        Assert.Equal("Cannot delete a domain that is enabled, please disable it first.", refused.Message);

        await _directory.UpdateDomainAsync(domain.Id, null, null, false, CancellationToken.None);
        Assert.Contains(_revoker.Events, e => e.DomainId == domain.Id);
        await _directory.DeleteDomainAsync(domain.Id, CancellationToken.None);
        Assert.Null(await _directory.FindUserAsync(user.Id, CancellationToken.None));
        Assert.Null(await _directory.FindProjectAsync(project.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Project_with_children_cannot_be_deleted()
    {
        var parent = await _directory.CreateProjectAsync("parent", "default", null, null, true, null, CancellationToken.None);
        var child = await _directory.CreateProjectAsync("child", null, parent.Id, null, true, null, CancellationToken.None);
        Assert.Equal("default", child.DomainId);
        await Assert.ThrowsAsync<ForbiddenException>(() => _directory.DeleteProjectAsync(parent.Id, CancellationToken.None));
        await _directory.DeleteProjectAsync(child.Id, CancellationToken.None);
        await _directory.DeleteProjectAsync(parent.Id, CancellationToken.None);
        Assert.Contains(_revoker.Events, e => e.ProjectId == parent.Id);
    }

    [Fact]
    public async Task Effective_roles_come_through_groups_and_implied_roles()
    {
        var (admin, member, reader) = await StandardRolesAsync();
        var project = await _directory.CreateProjectAsync("p", "default", null, null, true, null, CancellationToken.None);
        var user = await _directory.CreateUserAsync("carol", "default", "pw", true, null, null, CancellationToken.None);
        var group = await _directory.CreateGroupAsync("devs", "default", null, CancellationToken.None);
        await _directory.AddUserToGroupAsync(group.Id, user.Id, CancellationToken.None);
        await _directory.GrantAsync(ActorType.Group, group.Id, TargetType.Project, project.Id, member.Id, CancellationToken.None);

        var roles = await _directory.EffectiveRolesAsync(user.Id, TargetType.Project, project.Id, CancellationToken.None);
        Assert.Equal(["member", "reader"], roles.Roles.Select(r => r.Name).Order());
        Assert.DoesNotContain(roles.Roles, r => r.Id == admin.Id);

        var effective = await _directory.ListRoleAssignmentsAsync(new AssignmentQuery(UserId: user.Id, Effective: true), CancellationToken.None);
        Assert.Equal(2, effective.Count);
        Assert.All(effective, a => Assert.Equal(group.Id, a.ViaGroupId));
        Assert.Contains(effective, a => a.RoleId == reader.Id && a.ImpliedFromRoleId == member.Id);
        var direct = await _directory.ListRoleAssignmentsAsync(new AssignmentQuery(UserId: user.Id), CancellationToken.None);
        Assert.Empty(direct);
    }

    [Fact]
    public async Task Removing_a_group_grant_revokes_the_tokens_of_each_member_on_that_project()
    {
        var (_, member, _) = await StandardRolesAsync();
        var project = await _directory.CreateProjectAsync("p", "default", null, null, true, null, CancellationToken.None);
        var group = await _directory.CreateGroupAsync("devs", "default", null, CancellationToken.None);
        var dave = await _directory.CreateUserAsync("dave", "default", "pw", true, null, null, CancellationToken.None);
        var erin = await _directory.CreateUserAsync("erin", "default", "pw", true, null, null, CancellationToken.None);
        await _directory.AddUserToGroupAsync(group.Id, dave.Id, CancellationToken.None);
        await _directory.AddUserToGroupAsync(group.Id, erin.Id, CancellationToken.None);
        await _directory.GrantAsync(ActorType.Group, group.Id, TargetType.Project, project.Id, member.Id, CancellationToken.None);

        await _directory.RevokeGrantAsync(ActorType.Group, group.Id, TargetType.Project, project.Id, member.Id, CancellationToken.None);

        Assert.Contains(_revoker.Events, e => e.UserId == dave.Id && e.ProjectId == project.Id);
        Assert.Contains(_revoker.Events, e => e.UserId == erin.Id && e.ProjectId == project.Id);
        await Assert.ThrowsAsync<NotFoundException>(() => _directory.RevokeGrantAsync(ActorType.Group, group.Id, TargetType.Project, project.Id, member.Id, CancellationToken.None));
    }

    [Fact]
    public async Task User_changes_that_end_tokens_record_revocation_events()
    {
        var (_, _, reader) = await StandardRolesAsync();
        var user = await _directory.CreateUserAsync("frank", "default", "old", true, null, null, CancellationToken.None);
        var group = await _directory.CreateGroupAsync("g", "default", null, CancellationToken.None);
        await _directory.AddUserToGroupAsync(group.Id, user.Id, CancellationToken.None);

        await _directory.ChangePasswordAsync(user.Id, "old", "new", CancellationToken.None);
        Assert.True(await _directory.VerifyPasswordAsync(user.Id, "new", CancellationToken.None));
        await Assert.ThrowsAsync<UnauthorizedException>(() => _directory.ChangePasswordAsync(user.Id, "wrong", "newer", CancellationToken.None));
        await _directory.RemoveUserFromGroupAsync(group.Id, user.Id, CancellationToken.None);
        await _directory.UpdateUserAsync(user.Id, new UserUpdate(Enabled: false), CancellationToken.None);
        await _directory.DeleteRoleAsync(reader.Id, CancellationToken.None);

        Assert.Equal(3, _revoker.Events.Count(e => e.UserId == user.Id));
        Assert.Contains(_revoker.Events, e => e.RoleId == reader.Id);
    }

    [Fact]
    public async Task Circular_role_implication_is_refused()
    {
        var (admin, _, reader) = await StandardRolesAsync();
        await Assert.ThrowsAsync<ForbiddenException>(() => _directory.CreateImpliedRoleAsync(reader.Id, admin.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Application_credential_roles_must_be_among_the_creators_and_the_secret_is_kept_hashed()
    {
        var (admin, member, reader) = await StandardRolesAsync();
        var project = await _directory.CreateProjectAsync("p", "default", null, null, true, null, CancellationToken.None);
        var user = await _directory.CreateUserAsync("gina", "default", "pw", true, null, null, CancellationToken.None);
        Role[] held = [member, reader];

        await Assert.ThrowsAsync<ForbiddenException>(() => _directory.CreateApplicationCredentialAsync(
            new ApplicationCredentialCreate(user.Id, project.Id, "too-much", null, null, null, false, [new RoleReference(admin.Id, null)]), held, CancellationToken.None));

        var created = await _directory.CreateApplicationCredentialAsync(
            new ApplicationCredentialCreate(user.Id, project.Id, "ci", null, null, null, false, [new RoleReference(null, "reader")]), held, CancellationToken.None);
        Assert.Equal([reader.Id], created.Credential.Roles.Select(r => r.Id));
        Assert.True(created.Secret.Length >= 64);

        var hashes = await _directory.Database.ReadAsync(s => s.QueryAsync<string>("SELECT secret_hash FROM application_credentials"), CancellationToken.None);
        Assert.DoesNotContain(created.Secret, hashes.Single(), StringComparison.Ordinal);
        Assert.NotNull(await _directory.VerifyApplicationCredentialAsync(created.Credential.Id, null, null, created.Secret, CancellationToken.None));
        Assert.NotNull(await _directory.VerifyApplicationCredentialAsync(null, "ci", user.Id, created.Secret, CancellationToken.None));
        Assert.Null(await _directory.VerifyApplicationCredentialAsync(created.Credential.Id, null, null, "wrong", CancellationToken.None));

        await _directory.DeleteApplicationCredentialAsync(user.Id, created.Credential.Id, CancellationToken.None);
        Assert.Contains(_revoker.Events, e => e.ApplicationCredentialId == created.Credential.Id);
    }

    [Fact]
    public async Task Bootstrap_is_idempotent_and_moves_only_its_own_endpoints_to_a_new_address()
    {
        var bootstrap = new IdentityBootstrap(_directory, NullLogger<IdentityBootstrap>.Instance);
        var settings = new BootstrapSettings { PublicBaseUrl = new Uri("http://10.0.0.1:8700") };
        var first = await bootstrap.BootstrapAsync(settings, CancellationToken.None);
        Assert.True(first.CreatedAdmin);
        Assert.NotNull(first.GeneratedPassword);
        var identity = (await _directory.ListServicesAsync("identity", null, CancellationToken.None)).Single();
        var handMade = await _directory.CreateEndpointAsync(identity.Id, "public", "http://elsewhere:5000/identity", "RegionOne", true, CancellationToken.None);

        var second = await bootstrap.BootstrapAsync(settings with { PublicBaseUrl = new Uri("http://10.0.0.2:8700"), AdminPassword = "ignored" }, CancellationToken.None);

        Assert.False(second.CreatedAdmin);
        Assert.Null(second.GeneratedPassword);
        Assert.Equal(first.AdminUserId, second.AdminUserId);
        Assert.True(await _directory.VerifyPasswordAsync(first.AdminUserId, first.GeneratedPassword!, CancellationToken.None));
        var endpoints = await _directory.ListEndpointsAsync(null, null, null, CancellationToken.None);
        Assert.Equal(10, endpoints.Count);
        Assert.Equal(9, endpoints.Count(e => e.Url.StartsWith("http://10.0.0.2:8700/", StringComparison.Ordinal)));
        Assert.Contains(endpoints, e => e.Id == handMade.Id && e.Url == "http://elsewhere:5000/identity");
        Assert.Equal(3, (await _directory.ListServicesAsync(null, null, CancellationToken.None)).Count);
        Assert.Equal(["ResellerAdmin", "admin", "member", "reader"], (await _directory.ListRolesAsync(null, null, CancellationToken.None)).Select(r => r.Name).Order(StringComparer.Ordinal));
        var adminRoles = await _directory.EffectiveRolesAsync(first.AdminUserId, TargetType.Project, first.AdminProjectId, CancellationToken.None);
        Assert.Equal(["admin", "member", "reader"], adminRoles.Roles.Select(r => r.Name).Order());
    }

    [Fact]
    public async Task Bootstrap_creates_the_ResellerAdmin_role_that_object_storage_gives_every_account()
    {
        var bootstrap = new IdentityBootstrap(_directory, NullLogger<IdentityBootstrap>.Instance);

        await bootstrap.BootstrapAsync(new BootstrapSettings { PublicBaseUrl = new Uri("http://10.0.0.1:8700") }, CancellationToken.None);

        var role = await _directory.FindRoleByNameAsync("ResellerAdmin", null, CancellationToken.None);
        Assert.NotNull(role);
        var adminUser = await _directory.FindUserByNameAsync("admin", IdentityDirectory.DefaultDomainId, CancellationToken.None);
        var adminProject = await _directory.FindProjectByNameAsync("admin", IdentityDirectory.DefaultDomainId, CancellationToken.None);
        var adminRoles = await _directory.EffectiveRolesAsync(adminUser!.Id, TargetType.Project, adminProject!.Id, CancellationToken.None);
        Assert.DoesNotContain(adminRoles.Roles, r => r.Name == "ResellerAdmin");
    }

    private async Task<(Role Admin, Role Member, Role Reader)> StandardRolesAsync()
    {
        var admin = await _directory.CreateRoleAsync("admin", null, null, CancellationToken.None);
        var member = await _directory.CreateRoleAsync("member", null, null, CancellationToken.None);
        var reader = await _directory.CreateRoleAsync("reader", null, null, CancellationToken.None);
        await _directory.CreateImpliedRoleAsync(admin.Id, member.Id, CancellationToken.None);
        await _directory.CreateImpliedRoleAsync(member.Id, reader.Id, CancellationToken.None);
        return (admin, member, reader);
    }

    private sealed class RecordingRevoker : ITokenRevoker
    {
        private readonly List<RevocationEvent> _events = [];

        public IReadOnlyList<RevocationEvent> Events
        {
            get
            {
                lock (_events)
                {
                    return [.. _events];
                }
            }
        }

        public Task RevokeAsync(RevocationEvent revocation, CancellationToken cancellationToken)
        {
            lock (_events)
            {
                _events.Add(revocation);
            }

            return Task.CompletedTask;
        }
    }
}

public sealed class SqliteDirectoryTests() : DirectoryTests(DataProvider.Sqlite);

public sealed class PostgresDirectoryTests() : DirectoryTests(DataProvider.Postgres);

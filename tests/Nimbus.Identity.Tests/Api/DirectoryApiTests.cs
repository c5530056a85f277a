using System.Net;
using System.Text.Json.Nodes;

namespace Nimbus.Identity.Tests.Api;

/// <summary>Users, projects, groups, roles and grants over HTTP, as the openstack client drives them.</summary>
public sealed class DirectoryApiTests : IAsyncLifetime
{
    private IdentityTestHost _host = null!;
    private string _admin = null!;

    public async Task InitializeAsync()
    {
        _host = await IdentityTestHost.StartAsync();
        _admin = await _host.AdminTokenAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task User_crud_answers_with_keystones_409_and_404_messages()
    {
        var created = await CreateUserAsync("alice", "pw", extra: new JsonObject { ["email"] = "alice@example.org" });
        var id = (string)created["id"]!;
        Assert.Equal("alice@example.org", (string?)created["email"]);
        Assert.Null(created["password"]);
        Assert.Equal($"{_host.BaseUrl.ToString().TrimEnd('/')}/identity/v3/users/{id}", (string?)created["links"]!["self"]);

        using (var duplicate = await _host.SendAsync(HttpMethod.Post, "/identity/v3/users", _admin, new JsonObject { ["user"] = new JsonObject { ["name"] = "alice" } }))
        {
            Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
            var error = JsonNode.Parse(await duplicate.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("Conflict occurred attempting to store user - Duplicate entry found with name alice at domain ID default.", (string?)error["message"]);
        }

        var renamed = await _host.JsonAsync(HttpMethod.Patch, $"/identity/v3/users/{id}", _admin, new JsonObject { ["user"] = new JsonObject { ["name"] = "alicia" } }, HttpStatusCode.OK);
        Assert.Equal("alicia", (string?)renamed["user"]!["name"]);
        var listed = await _host.JsonAsync(HttpMethod.Get, "/identity/v3/users?name=alicia", _admin, null, HttpStatusCode.OK);
        Assert.Equal(id, (string?)listed["users"]!.AsArray().Single()!["id"]);
        Assert.Null((string?)listed["links"]!["next"]);

        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Delete, $"/identity/v3/users/{id}", _admin));
        var missing = await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/users/{id}", _admin, null, HttpStatusCode.NotFound);
        Assert.Equal($"Could not find user: {id}.", (string?)missing["error"]!["message"]);
    }

    [Fact]
    public async Task Project_crud_filters_and_refuses_bad_input_naming_the_field()
    {
        var parent = await CreateProjectAsync("parent");
        var child = await _host.JsonAsync(HttpMethod.Post, "/identity/v3/projects", _admin, new JsonObject { ["project"] = new JsonObject { ["name"] = "child", ["parent_id"] = parent } }, HttpStatusCode.Created);
        Assert.Equal(parent, (string?)child["project"]!["parent_id"]);

        var children = await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/projects?parent_id={parent}", _admin, null, HttpStatusCode.OK);
        Assert.Equal("child", (string?)children["projects"]!.AsArray().Single()!["name"]);
        var byName = await _host.JsonAsync(HttpMethod.Get, "/identity/v3/projects?name=parent&domain_id=default", _admin, null, HttpStatusCode.OK);
        Assert.Single(byName["projects"]!.AsArray());

        await _host.JsonAsync(HttpMethod.Post, "/identity/v3/projects", _admin, new JsonObject { ["project"] = new JsonObject { ["name"] = "parent" } }, HttpStatusCode.Conflict);
        var bad = await _host.JsonAsync(HttpMethod.Post, "/identity/v3/projects", _admin, new JsonObject { ["project"] = new JsonObject { ["name"] = "x", ["enabled"] = "yes" } }, HttpStatusCode.BadRequest);
        Assert.Contains("'enabled'", (string?)bad["error"]!["message"], StringComparison.Ordinal);
        await _host.JsonAsync(HttpMethod.Delete, $"/identity/v3/projects/{parent}", _admin, null, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Disabled_user_cannot_authenticate_and_their_tokens_stop_working()
    {
        var user = await CreateUserAsync("bob", "pw");
        var project = await CreateProjectAsync("bobs");
        await GrantAsync($"/identity/v3/projects/{project}/users/{user["id"]}/roles/{await RoleIdAsync("member")}");
        var token = await _host.TokenAsync("bob", "pw", "bobs");
        Assert.Equal(HttpStatusCode.OK, await _host.StatusAsync(HttpMethod.Get, "/identity/v3/auth/catalog", token));

        _host.Clock.Advance(TimeSpan.FromSeconds(1));
        await _host.JsonAsync(HttpMethod.Patch, $"/identity/v3/users/{user["id"]}", _admin, new JsonObject { ["user"] = new JsonObject { ["enabled"] = false } }, HttpStatusCode.OK);
        _host.Clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(HttpStatusCode.Unauthorized, await _host.StatusAsync(HttpMethod.Get, "/identity/v3/auth/catalog", token));
        using var refused = await _host.PasswordAuthAsync("bob", "pw", IdentityTestHost.ProjectScope("bobs"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task User_without_a_role_on_the_project_gets_401_for_a_scoped_token()
    {
        await CreateUserAsync("carol", "pw");
        await CreateProjectAsync("not-carols");
        using var refused = await _host.PasswordAuthAsync("carol", "pw", IdentityTestHost.ProjectScope("not-carols"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Role_granted_to_a_group_shows_in_effective_assignments_with_implied_roles_and_in_the_token()
    {
        var user = (string)(await CreateUserAsync("dave", "pw"))["id"]!;
        var project = await CreateProjectAsync("team");
        var group = (string)(await _host.JsonAsync(HttpMethod.Post, "/identity/v3/groups", _admin, new JsonObject { ["group"] = new JsonObject { ["name"] = "devs" } }, HttpStatusCode.Created))["group"]!["id"]!;
        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Put, $"/identity/v3/groups/{group}/users/{user}", _admin));
        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Head, $"/identity/v3/groups/{group}/users/{user}", _admin));
        var member = await RoleIdAsync("member");
        await GrantAsync($"/identity/v3/projects/{project}/groups/{group}/roles/{member}");
        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Head, $"/identity/v3/projects/{project}/groups/{group}/roles/{member}", _admin));

        var effective = await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/role_assignments?user.id={user}&effective&include_names", _admin, null, HttpStatusCode.OK);
        var rows = effective["role_assignments"]!.AsArray();
        Assert.Equal(["member", "reader"], rows.Select(r => (string?)r!["role"]!["name"]).Order());
        Assert.All(rows, r => Assert.EndsWith($"/groups/{group}/users/{user}", (string?)r!["links"]!["membership"], StringComparison.Ordinal));
        Assert.All(rows, r => Assert.Equal("team", (string?)r!["scope"]!["project"]!["name"]));

        using var auth = await _host.PasswordAuthAsync("dave", "pw", IdentityTestHost.ProjectScope("team"));
        var roles = JsonNode.Parse(await auth.Content.ReadAsStringAsync())!["token"]!["roles"]!.AsArray().Select(r => (string?)r!["name"]).Order();
        Assert.Equal(["member", "reader"], roles);

        var direct = await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/role_assignments?scope.project.id={project}", _admin, null, HttpStatusCode.OK);
        Assert.Equal(group, (string?)direct["role_assignments"]!.AsArray().Single()!["group"]!["id"]);
    }

    [Fact]
    public async Task Removing_a_users_grant_revokes_their_token_on_that_project()
    {
        var user = (string)(await CreateUserAsync("erin", "pw"))["id"]!;
        var project = await CreateProjectAsync("erins");
        var member = await RoleIdAsync("member");
        await GrantAsync($"/identity/v3/projects/{project}/users/{user}/roles/{member}");
        var token = await _host.TokenAsync("erin", "pw", "erins");
        var granted = await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/projects/{project}/users/{user}/roles", _admin, null, HttpStatusCode.OK);
        Assert.Equal("member", (string?)granted["roles"]!.AsArray().Single()!["name"]);

        _host.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Delete, $"/identity/v3/projects/{project}/users/{user}/roles/{member}", _admin));
        _host.Clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(HttpStatusCode.Unauthorized, await _host.StatusAsync(HttpMethod.Get, "/identity/v3/auth/catalog", token));
        Assert.Equal(HttpStatusCode.NotFound, await _host.StatusAsync(HttpMethod.Head, $"/identity/v3/projects/{project}/users/{user}/roles/{member}", _admin));
    }

    [Fact]
    public async Task Non_admin_is_refused_admin_actions_but_sees_and_changes_their_own_things()
    {
        var user = (string)(await CreateUserAsync("frank", "pw"))["id"]!;
        var project = await CreateProjectAsync("franks");
        await GrantAsync($"/identity/v3/projects/{project}/users/{user}/roles/{await RoleIdAsync("member")}");
        var token = await _host.TokenAsync("frank", "pw", "franks");

        var refused = await _host.JsonAsync(HttpMethod.Post, "/identity/v3/users", token, new JsonObject { ["user"] = new JsonObject { ["name"] = "mallory" } }, HttpStatusCode.Forbidden);
        Assert.Equal("You are not authorized to perform the requested action: identity:create_user.", (string?)refused["error"]!["message"]);
        await _host.JsonAsync(HttpMethod.Get, "/identity/v3/users", token, null, HttpStatusCode.Forbidden);
        await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/users/{_host.Bootstrap.AdminUserId}", token, null, HttpStatusCode.Forbidden);
        await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/projects/{_host.Bootstrap.AdminProjectId}", token, null, HttpStatusCode.Forbidden);

        await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/users/{user}", token, null, HttpStatusCode.OK);
        await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/projects/{project}", token, null, HttpStatusCode.OK);
        var mine = await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/users/{user}/projects", token, null, HttpStatusCode.OK);
        Assert.Equal(project, (string?)mine["projects"]!.AsArray().Single()!["id"]);
        await _host.JsonAsync(HttpMethod.Get, "/identity/v3/roles", token, null, HttpStatusCode.OK);

        var change = new JsonObject { ["user"] = new JsonObject { ["original_password"] = "pw", ["password"] = "pw2" } };
        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Post, $"/identity/v3/users/{user}/password", token, change));
        _host.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.Unauthorized, await _host.StatusAsync(HttpMethod.Get, $"/identity/v3/users/{user}", token));
        await _host.TokenAsync("frank", "pw2", "franks");
    }

    [Fact]
    public async Task Role_and_implied_role_crud_follows_keystone()
    {
        var role = (string)(await _host.JsonAsync(HttpMethod.Post, "/identity/v3/roles", _admin, new JsonObject { ["role"] = new JsonObject { ["name"] = "auditor" } }, HttpStatusCode.Created))["role"]!["id"]!;
        await _host.JsonAsync(HttpMethod.Post, "/identity/v3/roles", _admin, new JsonObject { ["role"] = new JsonObject { ["name"] = "auditor" } }, HttpStatusCode.Conflict);
        var reader = await RoleIdAsync("reader");
        var rule = await _host.JsonAsync(HttpMethod.Put, $"/identity/v3/roles/{role}/implies/{reader}", _admin, null, HttpStatusCode.Created);
        Assert.Equal(reader, (string?)rule["role_inference"]!["implies"]!["id"]);
        var inferences = await _host.JsonAsync(HttpMethod.Get, "/identity/v3/role_inferences", _admin, null, HttpStatusCode.OK);
        Assert.Equal(3, inferences["role_inferences"]!.AsArray().Count);
        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Delete, $"/identity/v3/roles/{role}/implies/{reader}", _admin));
        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Delete, $"/identity/v3/roles/{role}", _admin));
        var missing = await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/roles/{role}", _admin, null, HttpStatusCode.NotFound);
        Assert.Equal($"Could not find role: {role}.", (string?)missing["error"]!["message"]);
    }

    [Fact]
    public async Task Catalog_resources_can_be_added_and_show_up_in_new_tokens()
    {
        var service = (string)(await _host.JsonAsync(HttpMethod.Post, "/identity/v3/services", _admin, new JsonObject { ["service"] = new JsonObject { ["type"] = "compute", ["name"] = "nova" } }, HttpStatusCode.Created))["service"]!["id"]!;
        var endpoint = new JsonObject { ["endpoint"] = new JsonObject { ["service_id"] = service, ["interface"] = "public", ["url"] = "http://127.0.0.1:8700/compute/v2.1", ["region_id"] = "RegionOne" } };
        await _host.JsonAsync(HttpMethod.Post, "/identity/v3/endpoints", _admin, endpoint, HttpStatusCode.Created);
        var bad = new JsonObject { ["endpoint"] = new JsonObject { ["service_id"] = service, ["interface"] = "sideways", ["url"] = "http://x" } };
        await _host.JsonAsync(HttpMethod.Post, "/identity/v3/endpoints", _admin, bad, HttpStatusCode.BadRequest);

        var catalog = await _host.JsonAsync(HttpMethod.Get, "/identity/v3/auth/catalog", await _host.AdminTokenAsync(), null, HttpStatusCode.OK);
        Assert.Contains(catalog["catalog"]!.AsArray(), s => (string?)s!["type"] == "compute");
    }

    [Fact]
    public async Task System_grants_are_kept_and_listed_with_a_system_scope()
    {
        var user = (string)(await CreateUserAsync("oscar", "pw"))["id"]!;
        var reader = await RoleIdAsync("reader");
        await GrantAsync($"/identity/v3/system/users/{user}/roles/{reader}");
        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Head, $"/identity/v3/system/users/{user}/roles/{reader}", _admin));

        var listed = await _host.JsonAsync(HttpMethod.Get, "/identity/v3/role_assignments?scope.system=all", _admin, null, HttpStatusCode.OK);
        var row = listed["role_assignments"]!.AsArray().Single()!;
        Assert.True((bool)row["scope"]!["system"]!["all"]!);
        Assert.EndsWith($"/identity/v3/system/users/{user}/roles/{reader}", (string?)row["links"]!["assignment"], StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Delete, $"/identity/v3/system/users/{user}/roles/{reader}", _admin));
        Assert.Equal(HttpStatusCode.NotFound, await _host.StatusAsync(HttpMethod.Head, $"/identity/v3/system/users/{user}/roles/{reader}", _admin));
    }

    private async Task<JsonObject> CreateUserAsync(string name, string password, JsonObject? extra = null)
    {
        var user = new JsonObject { ["name"] = name, ["password"] = password, ["domain_id"] = "default" };
        foreach (var (key, value) in extra ?? [])
        {
            user[key] = value?.DeepClone();
        }

        var created = await _host.JsonAsync(HttpMethod.Post, "/identity/v3/users", _admin, new JsonObject { ["user"] = user }, HttpStatusCode.Created);
        return created["user"]!.AsObject();
    }

    private async Task<string> CreateProjectAsync(string name)
    {
        var created = await _host.JsonAsync(HttpMethod.Post, "/identity/v3/projects", _admin, new JsonObject { ["project"] = new JsonObject { ["name"] = name, ["domain_id"] = "default" } }, HttpStatusCode.Created);
        return (string)created["project"]!["id"]!;
    }

    private async Task<string> RoleIdAsync(string name)
    {
        var roles = await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/roles?name={name}", _admin, null, HttpStatusCode.OK);
        return (string)roles["roles"]!.AsArray().Single()!["id"]!;
    }

    private async Task GrantAsync(string path) =>
        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Put, path, _admin));
}

using System.Net;
using System.Text.Json.Nodes;
using Nimbus.Platform.Data;

namespace Nimbus.Identity.Tests.Api;

/// <summary>
/// The requests `openstack` sends for token issue, project create, user create, role add and an
/// application credential, in order, on every engine.
/// </summary>
public abstract class OpenStackClientFlowTests(DataProvider provider) : IAsyncLifetime
{
    private IdentityTestHost _host = null!;

    public async Task InitializeAsync() => _host = await IdentityTestHost.StartAsync(provider);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Admin_sets_up_a_project_user_and_credential_that_then_authenticates()
    {
        var admin = await _host.AdminTokenAsync();
        var project = await _host.JsonAsync(HttpMethod.Post, "/identity/v3/projects", admin, new JsonObject { ["project"] = new JsonObject { ["name"] = "demo", ["domain_id"] = "default", ["enabled"] = true } }, HttpStatusCode.Created);
        var projectId = (string)project["project"]!["id"]!;
        var user = await _host.JsonAsync(HttpMethod.Post, "/identity/v3/users", admin, new JsonObject { ["user"] = new JsonObject { ["name"] = "demo", ["password"] = "pw", ["default_project_id"] = projectId, ["enabled"] = true } }, HttpStatusCode.Created);
        var userId = (string)user["user"]!["id"]!;
        var member = (string)(await _host.JsonAsync(HttpMethod.Get, "/identity/v3/roles?name=member", admin, null, HttpStatusCode.OK))["roles"]![0]!["id"]!;
        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Put, $"/identity/v3/projects/{projectId}/users/{userId}/roles/{member}", admin));

        // No scope asked: the default project is used, as Keystone does.
        using var auth = await _host.PasswordAuthAsync("demo", "pw");
        Assert.Equal(HttpStatusCode.Created, auth.StatusCode);
        var token = auth.Headers.GetValues("X-Subject-Token").Single();
        Assert.Equal(projectId, (string?)JsonNode.Parse(await auth.Content.ReadAsStringAsync())!["token"]!["project"]!["id"]);

        var credential = await _host.JsonAsync(HttpMethod.Post, $"/identity/v3/users/{userId}/application_credentials", token, new JsonObject { ["application_credential"] = new JsonObject { ["name"] = "ci" } }, HttpStatusCode.Created);
        var body = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("application_credential"),
                    ["application_credential"] = new JsonObject { ["id"] = credential["application_credential"]!["id"]!.DeepClone(), ["secret"] = credential["application_credential"]!["secret"]!.DeepClone() },
                },
            },
        };
        var issued = await _host.JsonAsync(HttpMethod.Post, "/identity/v3/auth/tokens", null, body, HttpStatusCode.Created);
        Assert.Equal(["member", "reader"], issued["token"]!["roles"]!.AsArray().Select(r => (string?)r!["name"]).Order());
    }
}

public sealed class SqliteOpenStackClientFlowTests() : OpenStackClientFlowTests(DataProvider.Sqlite);

public sealed class PostgresOpenStackClientFlowTests() : OpenStackClientFlowTests(DataProvider.Postgres);

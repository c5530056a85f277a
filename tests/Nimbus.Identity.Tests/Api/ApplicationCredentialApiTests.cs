using System.Net;
using System.Text.Json.Nodes;

namespace Nimbus.Identity.Tests.Api;

public sealed class ApplicationCredentialApiTests : IAsyncLifetime
{
    private IdentityTestHost _host = null!;
    private string _admin = null!;
    private string _userId = null!;
    private string _token = null!;

    public async Task InitializeAsync()
    {
        _host = await IdentityTestHost.StartAsync();
        _admin = await _host.AdminTokenAsync();
        var user = await _host.JsonAsync(HttpMethod.Post, "/identity/v3/users", _admin, new JsonObject { ["user"] = new JsonObject { ["name"] = "ci", ["password"] = "pw" } }, HttpStatusCode.Created);
        _userId = (string)user["user"]!["id"]!;
        var project = await _host.JsonAsync(HttpMethod.Post, "/identity/v3/projects", _admin, new JsonObject { ["project"] = new JsonObject { ["name"] = "builds" } }, HttpStatusCode.Created);
        var roles = await _host.JsonAsync(HttpMethod.Get, "/identity/v3/roles?name=member", _admin, null, HttpStatusCode.OK);
        var member = (string)roles["roles"]![0]!["id"]!;
        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Put, $"/identity/v3/projects/{project["project"]!["id"]}/users/{_userId}/roles/{member}", _admin));
        _token = await _host.TokenAsync("ci", "pw", "builds");
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Created_credential_authenticates_scoped_to_its_project_with_its_roles()
    {
        var created = await CreateAsync(new JsonObject { ["name"] = "deploy", ["roles"] = new JsonArray(new JsonObject { ["name"] = "reader" }) });
        var secret = (string)created["secret"]!;
        var listed = await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/users/{_userId}/application_credentials", _token, null, HttpStatusCode.OK);
        Assert.Null(listed["application_credentials"]![0]!["secret"]);

        using var auth = await AuthenticateAsync(new JsonObject { ["id"] = created["id"]!.DeepClone(), ["secret"] = secret });
        Assert.Equal(HttpStatusCode.Created, auth.StatusCode);
        var token = JsonNode.Parse(await auth.Content.ReadAsStringAsync())!["token"]!;
        Assert.Equal("builds", (string?)token["project"]!["name"]);
        Assert.Equal(["reader"], token["roles"]!.AsArray().Select(r => (string?)r!["name"]));
        Assert.Equal("application_credential", (string?)token["methods"]![0]);
        Assert.True((bool)token["application_credential"]!["restricted"]!);

        using var byName = await AuthenticateAsync(new JsonObject { ["name"] = "deploy", ["user"] = new JsonObject { ["name"] = "ci", ["domain"] = new JsonObject { ["id"] = "default" } }, ["secret"] = secret });
        Assert.Equal(HttpStatusCode.Created, byName.StatusCode);
        using var wrong = await AuthenticateAsync(new JsonObject { ["id"] = created["id"]!.DeepClone(), ["secret"] = "nope" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public async Task Role_the_creator_does_not_hold_is_refused()
    {
        var refused = await _host.JsonAsync(
            HttpMethod.Post,
            $"/identity/v3/users/{_userId}/application_credentials",
            _token,
            new JsonObject { ["application_credential"] = new JsonObject { ["name"] = "greedy", ["roles"] = new JsonArray(new JsonObject { ["name"] = "admin" }) } },
            HttpStatusCode.Forbidden);
        Assert.Contains("admin", (string?)refused["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Expired_credential_is_refused()
    {
        var expires = _host.Clock.GetUtcNow().AddMinutes(5).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture);
        var created = await CreateAsync(new JsonObject { ["name"] = "short", ["secret"] = "s3cret", ["expires_at"] = expires });
        Assert.Equal(expires, (string?)created["expires_at"]);
        using (var before = await AuthenticateAsync(new JsonObject { ["id"] = created["id"]!.DeepClone(), ["secret"] = "s3cret" }))
        {
            Assert.Equal(HttpStatusCode.Created, before.StatusCode);
        }

        _host.Clock.Advance(TimeSpan.FromMinutes(6));
        using var after = await AuthenticateAsync(new JsonObject { ["id"] = created["id"]!.DeepClone(), ["secret"] = "s3cret" });
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task Deleting_a_credential_revokes_its_tokens()
    {
        var created = await CreateAsync(new JsonObject { ["name"] = "gone", ["secret"] = "s3cret" });
        using var auth = await AuthenticateAsync(new JsonObject { ["id"] = created["id"]!.DeepClone(), ["secret"] = "s3cret" });
        var token = auth.Headers.GetValues("X-Subject-Token").Single();
        Assert.Equal(HttpStatusCode.OK, await _host.StatusAsync(HttpMethod.Get, "/identity/v3/auth/catalog", token));

        _host.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Delete, $"/identity/v3/users/{_userId}/application_credentials/{created["id"]}", _token));
        _host.Clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(HttpStatusCode.Unauthorized, await _host.StatusAsync(HttpMethod.Get, "/identity/v3/auth/catalog", token));
        var missing = await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/users/{_userId}/application_credentials/{created["id"]}", _token, null, HttpStatusCode.NotFound);
        Assert.Equal($"Could not find Application Credential: {created["id"]}.", (string?)missing["error"]!["message"]);
    }

    [Fact]
    public async Task Restricted_credential_token_cannot_make_more_credentials()
    {
        var created = await CreateAsync(new JsonObject { ["name"] = "restricted", ["secret"] = "s3cret" });
        using var auth = await AuthenticateAsync(new JsonObject { ["id"] = created["id"]!.DeepClone(), ["secret"] = "s3cret" });
        var token = auth.Headers.GetValues("X-Subject-Token").Single();
        await _host.JsonAsync(HttpMethod.Post, $"/identity/v3/users/{_userId}/application_credentials", token, new JsonObject { ["application_credential"] = new JsonObject { ["name"] = "child" } }, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Another_users_credentials_are_out_of_reach()
    {
        await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/users/{_host.Bootstrap.AdminUserId}/application_credentials", _token, null, HttpStatusCode.Forbidden);
        await _host.JsonAsync(HttpMethod.Post, $"/identity/v3/users/{_host.Bootstrap.AdminUserId}/application_credentials", _token, new JsonObject { ["application_credential"] = new JsonObject { ["name"] = "x" } }, HttpStatusCode.Forbidden);
    }

    private async Task<JsonObject> CreateAsync(JsonObject body)
    {
        var created = await _host.JsonAsync(HttpMethod.Post, $"/identity/v3/users/{_userId}/application_credentials", _token, new JsonObject { ["application_credential"] = body }, HttpStatusCode.Created);
        return created["application_credential"]!.AsObject();
    }

    private Task<HttpResponseMessage> AuthenticateAsync(JsonObject credential) =>
        _host.SendAsync(
            HttpMethod.Post,
            "/identity/v3/auth/tokens",
            null,
            new JsonObject
            {
                ["auth"] = new JsonObject
                {
                    ["identity"] = new JsonObject { ["methods"] = new JsonArray("application_credential"), ["application_credential"] = credential },
                },
            });
}

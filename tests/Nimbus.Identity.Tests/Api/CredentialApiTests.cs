using System.Net;
using System.Text.Json.Nodes;

namespace Nimbus.Identity.Tests.Api;

public sealed class CredentialApiTests : IAsyncLifetime
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
    public async Task Ec2_credential_is_made_for_the_users_project_and_found_by_access_key()
    {
        var user = _host.Bootstrap.AdminUserId;
        var created = await _host.JsonAsync(HttpMethod.Post, $"/identity/v3/users/{user}/credentials/OS-EC2", _admin, new JsonObject { ["tenant_id"] = _host.Bootstrap.AdminProjectId }, HttpStatusCode.Created);
        var access = (string)created["credential"]!["access"]!;
        Assert.Equal(32, ((string)created["credential"]!["secret"]!).Length);

        var shown = await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/users/{user}/credentials/OS-EC2/{access}", _admin, null, HttpStatusCode.OK);
        Assert.Equal(_host.Bootstrap.AdminProjectId, (string?)shown["credential"]!["tenant_id"]);
        var generic = await _host.JsonAsync(HttpMethod.Get, "/identity/v3/credentials?type=ec2", _admin, null, HttpStatusCode.OK);
        Assert.Equal(64, ((string)generic["credentials"]![0]!["id"]!).Length);

        Assert.Equal(HttpStatusCode.NoContent, await _host.StatusAsync(HttpMethod.Delete, $"/identity/v3/users/{user}/credentials/OS-EC2/{access}", _admin));
        Assert.Equal(HttpStatusCode.NotFound, await _host.StatusAsync(HttpMethod.Get, $"/identity/v3/users/{user}/credentials/OS-EC2/{access}", _admin));
    }

    [Fact]
    public async Task Other_users_credentials_are_hidden_from_a_non_admin()
    {
        var created = await _host.JsonAsync(
            HttpMethod.Post,
            "/identity/v3/credentials",
            _admin,
            new JsonObject { ["credential"] = new JsonObject { ["user_id"] = _host.Bootstrap.AdminUserId, ["type"] = "totp", ["blob"] = "seed" } },
            HttpStatusCode.Created);
        var user = await _host.JsonAsync(HttpMethod.Post, "/identity/v3/users", _admin, new JsonObject { ["user"] = new JsonObject { ["name"] = "eve", ["password"] = "pw" } }, HttpStatusCode.Created);
        var roles = await _host.JsonAsync(HttpMethod.Get, "/identity/v3/roles?name=reader", _admin, null, HttpStatusCode.OK);
        await _host.StatusAsync(HttpMethod.Put, $"/identity/v3/projects/{_host.Bootstrap.AdminProjectId}/users/{user["user"]!["id"]}/roles/{roles["roles"]![0]!["id"]}", _admin);
        var eve = await _host.TokenAsync("eve", "pw", "admin");

        var listed = await _host.JsonAsync(HttpMethod.Get, "/identity/v3/credentials", eve, null, HttpStatusCode.OK);
        Assert.Empty(listed["credentials"]!.AsArray());
        await _host.JsonAsync(HttpMethod.Get, $"/identity/v3/credentials/{created["credential"]!["id"]}", eve, null, HttpStatusCode.NotFound);
    }
}

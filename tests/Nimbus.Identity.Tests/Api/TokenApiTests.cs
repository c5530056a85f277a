using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Nimbus.Identity.Authentication;

namespace Nimbus.Identity.Tests.Api;

public sealed class TokenApiTests : IAsyncLifetime
{
    private IdentityTestHost _host = null!;

    public async Task InitializeAsync() => _host = await IdentityTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Version_discovery_offers_v3_with_its_self_link()
    {
        var versions = await _host.JsonAsync(HttpMethod.Get, "/identity", null, null, HttpStatusCode.MultipleChoices);
        var v3 = versions["versions"]!["values"]![0]!;
        Assert.Equal("stable", (string?)v3["status"]);
        Assert.Equal($"{_host.BaseUrl.ToString().TrimEnd('/')}/identity/v3/", (string?)v3["links"]![0]!["href"]);

        var version = await _host.JsonAsync(HttpMethod.Get, "/identity/v3", null, null, HttpStatusCode.OK);
        Assert.Equal("application/vnd.openstack.identity-v3+json", (string?)version["version"]!["media-types"]![0]!["type"]);
    }

    [Fact]
    public async Task Password_auth_scoped_to_a_project_returns_a_token_with_roles_and_catalog()
    {
        using var response = await _host.PasswordAuthAsync("admin", IdentityTestHost.AdminPassword, IdentityTestHost.ProjectScope("admin"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.False(string.IsNullOrEmpty(response.Headers.GetValues("X-Subject-Token").Single()));
        var token = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["token"]!;
        Assert.Equal("admin", (string?)token["project"]!["name"]);
        Assert.Equal("default", (string?)token["project"]!["domain"]!["id"]);
        Assert.Equal("password", (string?)token["methods"]![0]);
        var roles = token["roles"]!.AsArray().Select(r => (string?)r!["name"]).ToHashSet();
        Assert.Superset(new HashSet<string?> { "admin", "member", "reader" }, roles);
        var catalog = token["catalog"]!.AsArray();
        var objectStore = catalog.Single(s => (string?)s!["type"] == "object-store")!;
        var publicUrl = (string?)objectStore["endpoints"]!.AsArray().Single(e => (string?)e!["interface"] == "public")!["url"];
        Assert.Equal($"http://127.0.0.1:8700/v1/AUTH_{_host.Bootstrap.AdminProjectId}", publicUrl);
        Assert.Contains(catalog, s => (string?)s!["type"] == "identity");
        Assert.EndsWith("Z", (string?)token["expires_at"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Password_auth_with_nocatalog_leaves_the_catalog_out()
    {
        var body = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("password"),
                    ["password"] = new JsonObject { ["user"] = new JsonObject { ["id"] = _host.Bootstrap.AdminUserId, ["password"] = IdentityTestHost.AdminPassword } },
                },
                ["scope"] = new JsonObject { ["project"] = new JsonObject { ["id"] = _host.Bootstrap.AdminProjectId } },
            },
        };
        var token = await _host.JsonAsync(HttpMethod.Post, "/identity/v3/auth/tokens?nocatalog", null, body, HttpStatusCode.Created);
        Assert.Null(token["token"]!["catalog"]);
        Assert.Equal(_host.Bootstrap.AdminProjectId, (string?)token["token"]!["project"]!["id"]);
    }

    [Fact]
    public async Task Wrong_password_is_401_with_keystones_body_and_www_authenticate()
    {
        using var response = await _host.PasswordAuthAsync("admin", "not-the-password");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Keystone uri=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(401, (int)error["code"]!);
        Assert.Equal("The request you have made requires authentication.", (string?)error["message"]);
        Assert.Equal("Unauthorized", (string?)error["title"]);
    }

    [Fact]
    public async Task Unknown_user_is_refused_like_a_wrong_password()
    {
        using var response = await _host.PasswordAuthAsync("nobody", "whatever");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task An_unknown_user_costs_a_password_hash_as_a_wrong_password_does()
    {
        var hasher = _host.App.Services.GetRequiredService<PasswordHasher>();

        var before = hasher.Checks;
        using var unknownName = await _host.PasswordAuthAsync("nobody", "whatever");
        var afterName = hasher.Checks;
        using var unknownId = await _host.SendAsync(HttpMethod.Post, "/identity/v3/auth/tokens", null, new JsonObject
        {
            ["auth"] = new JsonObject { ["identity"] = new JsonObject { ["methods"] = new JsonArray("password"), ["password"] = new JsonObject { ["user"] = new JsonObject { ["id"] = "0123456789abcdef0123456789abcdef", ["password"] = "whatever" } } } },
        });
        var afterId = hasher.Checks;
        using var wrongPassword = await _host.PasswordAuthAsync("admin", "not-the-password");

        Assert.Equal(HttpStatusCode.Unauthorized, unknownName.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknownId.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.StatusCode);
        Assert.Equal(1, afterName - before);
        Assert.Equal(1, afterId - afterName);
        Assert.Equal(1, hasher.Checks - afterId);
    }

    [Fact]
    public async Task Domain_scoped_and_unscoped_tokens_carry_their_scope()
    {
        using var domainScoped = await _host.PasswordAuthAsync("admin", IdentityTestHost.AdminPassword, new JsonObject { ["domain"] = new JsonObject { ["id"] = "default" } });
        Assert.Equal(HttpStatusCode.Created, domainScoped.StatusCode);
        var domainToken = JsonNode.Parse(await domainScoped.Content.ReadAsStringAsync())!["token"]!;
        Assert.Equal("Default", (string?)domainToken["domain"]!["name"]);
        Assert.Null(domainToken["project"]);

        using var unscoped = await _host.PasswordAuthAsync("admin", IdentityTestHost.AdminPassword);
        Assert.Equal(HttpStatusCode.Created, unscoped.StatusCode);
        var unscopedToken = JsonNode.Parse(await unscoped.Content.ReadAsStringAsync())!["token"]!;
        Assert.Null(unscopedToken["project"]);
        Assert.Null(unscopedToken["roles"]);
    }

    [Fact]
    public async Task Unscoped_token_rescoped_to_a_project_keeps_the_audit_chain()
    {
        using var unscoped = await _host.PasswordAuthAsync("admin", IdentityTestHost.AdminPassword);
        var unscopedToken = unscoped.Headers.GetValues("X-Subject-Token").Single();
        var firstAudit = (string?)JsonNode.Parse(await unscoped.Content.ReadAsStringAsync())!["token"]!["audit_ids"]![0];

        var body = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject { ["methods"] = new JsonArray("token"), ["token"] = new JsonObject { ["id"] = unscopedToken } },
                ["scope"] = IdentityTestHost.ProjectScope("admin"),
            },
        };
        var rescoped = await _host.JsonAsync(HttpMethod.Post, "/identity/v3/auth/tokens", null, body, HttpStatusCode.Created);
        Assert.Equal("admin", (string?)rescoped["token"]!["project"]!["name"]);
        Assert.Equal(firstAudit, (string?)rescoped["token"]!["audit_ids"]![1]);
        Assert.Contains("token", rescoped["token"]!["methods"]!.AsArray().Select(m => (string?)m));
    }

    [Fact]
    public async Task Validate_head_and_delete_follow_the_subject_token()
    {
        var admin = await _host.AdminTokenAsync();
        var subject = await _host.AdminTokenAsync();
        var headers = new Dictionary<string, string> { ["X-Subject-Token"] = subject };

        using (var validated = await _host.SendAsync(HttpMethod.Get, "/identity/v3/auth/tokens", admin, null, headers))
        {
            Assert.Equal(HttpStatusCode.OK, validated.StatusCode);
            Assert.Equal(subject, validated.Headers.GetValues("X-Subject-Token").Single());
        }

        using (var checkedToken = await _host.SendAsync(HttpMethod.Head, "/identity/v3/auth/tokens", admin, null, headers))
        {
            Assert.Equal(HttpStatusCode.OK, checkedToken.StatusCode);
        }

        using (var revoked = await _host.SendAsync(HttpMethod.Delete, "/identity/v3/auth/tokens", admin, null, headers))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        using (var gone = await _host.SendAsync(HttpMethod.Get, "/identity/v3/auth/tokens", admin, null, headers))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await _host.StatusAsync(HttpMethod.Get, "/identity/v3/auth/catalog", subject));
        Assert.Equal(HttpStatusCode.OK, await _host.StatusAsync(HttpMethod.Get, "/identity/v3/auth/catalog", admin));
    }

    [Fact]
    public async Task Invalid_subject_token_is_404()
    {
        var admin = await _host.AdminTokenAsync();
        using var response = await _host.SendAsync(HttpMethod.Get, "/identity/v3/auth/tokens", admin, null, new Dictionary<string, string> { ["X-Subject-Token"] = "bm90LWEtdG9rZW4=" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Requests_without_a_token_are_401()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await _host.StatusAsync(HttpMethod.Get, "/identity/v3/projects", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await _host.StatusAsync(HttpMethod.Get, "/identity/v3/projects", "garbage"));
    }

    [Fact]
    public async Task Auth_catalog_projects_and_domains_list_the_callers_own()
    {
        var admin = await _host.AdminTokenAsync();
        var catalog = await _host.JsonAsync(HttpMethod.Get, "/identity/v3/auth/catalog", admin, null, HttpStatusCode.OK);
        Assert.Equal(3, catalog["catalog"]!.AsArray().Count);
        var projects = await _host.JsonAsync(HttpMethod.Get, "/identity/v3/auth/projects", admin, null, HttpStatusCode.OK);
        Assert.Equal("admin", (string?)projects["projects"]!.AsArray().Single()!["name"]);
        var domains = await _host.JsonAsync(HttpMethod.Get, "/identity/v3/auth/domains", admin, null, HttpStatusCode.OK);
        Assert.Equal("default", (string?)domains["domains"]!.AsArray().Single()!["id"]);
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Nimbus.Identity.Bootstrap;
using Nimbus.TestSupport;

namespace Nimbus.Daemon.Tests;

/// <summary>A caller of the all-in-one's APIs: a token, the project it is scoped to, and its object storage account.</summary>
internal sealed record CloudCaller(string Token, string ProjectId)
{
    public string Account => "AUTH_" + ProjectId;
}

/// <summary>
/// The callers a multi-project test needs: the bootstrap admin, and members of new projects made
/// through the Identity API as an operator would.
/// </summary>
internal static class CloudCallers
{
    public static Task<CloudCaller> AdminAsync(TestDaemon daemon)
    {
        var rc = ClientConfigFiles.ReadOpenRc(daemon.Home) ?? throw new InvalidOperationException($"nimbusd wrote no openrc in {daemon.Home}");
        return TokenAsync(daemon.Http, rc["OS_USERNAME"], rc["OS_PASSWORD"], rc["OS_PROJECT_NAME"]);
    }

    /// <summary>Creates project <paramref name="project"/> and a user of the same name holding the member role on it.</summary>
    public static async Task<CloudCaller> MemberAsync(TestDaemon daemon, CloudCaller admin, string project)
    {
        var projectId = await CreateAsync(daemon, admin, "/identity/v3/projects", "project", new JsonObject { ["name"] = project, ["domain_id"] = "default" });
        const string password = "member-password-1";
        var userId = await CreateAsync(daemon, admin, "/identity/v3/users", "user", new JsonObject { ["name"] = project, ["domain_id"] = "default", ["password"] = password });
        using var roles = await SendAsync(daemon.Http, admin.Token, HttpMethod.Get, "/identity/v3/roles?name=member");
        var roleId = (string)JsonNode.Parse(await roles.Content.ReadAsStringAsync())!["roles"]![0]!["id"]!;
        using var grant = await SendAsync(daemon.Http, admin.Token, HttpMethod.Put, $"/identity/v3/projects/{projectId}/users/{userId}/roles/{roleId}");
        Assert.Equal(HttpStatusCode.NoContent, grant.StatusCode);
        return await TokenAsync(daemon.Http, project, password, project);
    }

    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, string? token, HttpMethod method, string path, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null)
        {
            request.Headers.Add("X-Auth-Token", token);
        }

        return await http.SendAsync(request);
    }

    /// <summary>
    /// Sends <paramref name="rawTarget"/> exactly as written, dot segments and escapes included, as
    /// <c>curl --path-as-is</c> does; HttpClient would otherwise resolve them before sending.
    /// </summary>
    public static async Task<HttpResponseMessage> SendRawAsync(HttpClient http, string? token, HttpMethod method, string rawTarget, HttpContent? content = null)
    {
        var url = new Uri(http.BaseAddress!.GetLeftPart(UriPartial.Authority) + rawTarget, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(method, url) { Content = content };
        if (token is not null)
        {
            request.Headers.Add("X-Auth-Token", token);
        }

        return await http.SendAsync(request);
    }

    private static async Task<string> CreateAsync(TestDaemon daemon, CloudCaller admin, string path, string kind, JsonObject body)
    {
        using var created = await SendAsync(daemon.Http, admin.Token, HttpMethod.Post, path, JsonContent.Create(new JsonObject { [kind] = body }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())![kind]!["id"]!;
    }

    private static async Task<CloudCaller> TokenAsync(HttpClient http, string user, string password, string project)
    {
        var request = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("password"),
                    ["password"] = new JsonObject { ["user"] = new JsonObject { ["name"] = user, ["domain"] = new JsonObject { ["id"] = "default" }, ["password"] = password } },
                },
                ["scope"] = new JsonObject { ["project"] = new JsonObject { ["name"] = project, ["domain"] = new JsonObject { ["id"] = "default" } } },
            },
        };
        using var response = await http.PostAsJsonAsync("/identity/v3/auth/tokens", request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return new CloudCaller(response.Headers.GetValues("X-Subject-Token").Single(), (string)body["token"]!["project"]!["id"]!);
    }
}

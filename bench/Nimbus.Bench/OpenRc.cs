using System.Net;
using System.Text.Json.Nodes;
using Nimbus.Identity.Bootstrap;

namespace Nimbus.Bench;

/// <summary>The credentials nimbusd writes to $NIMBUS_HOME/openrc, and a password token from them.</summary>
internal sealed record OpenRc(Uri AuthUrl, string User, string Password, string Project)
{
    public static OpenRc Read(string home)
    {
        var variables = ClientConfigFiles.ReadOpenRc(home) ?? throw new InvalidOperationException($"nimbusd wrote no openrc in {home}");
        return new OpenRc(new Uri(variables["OS_AUTH_URL"].TrimEnd('/') + "/"), variables["OS_USERNAME"], variables["OS_PASSWORD"], variables["OS_PROJECT_NAME"]);
    }

    /// <summary>The API host's base URL (the identity endpoint without /identity).</summary>
    public Uri ApiUrl => new(AuthUrl, "..");

    /// <summary>POST /identity/v3/auth/tokens with the password method, scoped to the project.</summary>
    public async Task<string> IssueTokenAsync(HttpClient http)
    {
        var body = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("password"),
                    ["password"] = new JsonObject
                    {
                        ["user"] = new JsonObject { ["name"] = User, ["domain"] = new JsonObject { ["name"] = "Default" }, ["password"] = Password },
                    },
                },
                ["scope"] = new JsonObject { ["project"] = new JsonObject { ["name"] = Project, ["domain"] = new JsonObject { ["name"] = "Default" } } },
            },
        };
        using var response = await http.PostAsJsonAsync(new Uri(AuthUrl, "v3/auth/tokens?nocatalog"), body);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"token issue answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        return response.Headers.GetValues("X-Subject-Token").Single();
    }
}

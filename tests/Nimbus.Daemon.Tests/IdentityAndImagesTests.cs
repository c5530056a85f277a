using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Nimbus.Identity.Bootstrap;
using Nimbus.TestSupport;

namespace Nimbus.Daemon.Tests;

/// <summary>The all-in-one's Identity and Images: bootstrap, openrc, the image stores, and Identity tokens on object storage.</summary>
public sealed class IdentityAndImagesTests
{
    [Fact]
    public async Task First_start_bootstraps_identity_and_writes_an_openrc_that_authenticates()
    {
        await using var daemon = await TestDaemon.StartAsync();

        var rc = OpenRc(daemon.Home);
        Assert.Equal($"{daemon.Url.GetLeftPart(UriPartial.Authority)}/identity", rc["OS_AUTH_URL"]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(daemon.Home, "openrc")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(daemon.Home, "clouds.yaml")));
        var (token, body) = await IssueTokenAsync(daemon.Http, rc["OS_USERNAME"], rc["OS_PASSWORD"], rc["OS_PROJECT_NAME"]);
        Assert.False(string.IsNullOrEmpty(token));
        var types = body["token"]!["catalog"]!.AsArray().Select(s => (string?)s!["type"]).ToHashSet();
        Assert.Superset(new HashSet<string?> { "identity", "image", "object-store" }, types);
        Assert.Contains("admin", body["token"]!["roles"]!.AsArray().Select(r => (string?)r!["name"]));
    }

    [Fact]
    public async Task A_restart_on_another_port_keeps_the_admin_password_and_moves_openrc_and_the_catalog()
    {
        using var home = new TempDirectory();
        IReadOnlyDictionary<string, string> first;
        await using (var daemon = await TestDaemon.StartAsync(home.Path))
        {
            first = OpenRc(home.Path);
        }

        await using var restarted = await TestDaemon.StartAsync(home.Path);
        var second = OpenRc(home.Path);

        Assert.Equal(first["OS_PASSWORD"], second["OS_PASSWORD"]);
        Assert.Equal($"{restarted.Url.GetLeftPart(UriPartial.Authority)}/identity", second["OS_AUTH_URL"]);
        var (_, body) = await IssueTokenAsync(restarted.Http, second["OS_USERNAME"], second["OS_PASSWORD"], second["OS_PROJECT_NAME"]);
        var image = body["token"]!["catalog"]!.AsArray().Single(s => (string?)s!["type"] == "image")!;
        Assert.All(image["endpoints"]!.AsArray(), e => Assert.Equal($"{restarted.Url.GetLeftPart(UriPartial.Authority)}/image", (string?)e!["url"]));
    }

    [Fact]
    public async Task Images_in_the_swift_store_are_objects_in_the_clouds_own_object_storage()
    {
        var settings = TestDaemon.WithObjects();
        settings["Images:Store"] = "swift";
        await using var daemon = await TestDaemon.StartAsync(settings: settings);
        var rc = OpenRc(daemon.Home);
        var (token, _) = await IssueTokenAsync(daemon.Http, rc["OS_USERNAME"], rc["OS_PASSWORD"], rc["OS_PROJECT_NAME"]);
        var data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);

        using var created = await SendAsync(daemon.Http, token, HttpMethod.Post, "/image/v2/images", JsonContent.Create(new JsonObject { ["name"] = "in-swift", ["disk_format"] = "raw", ["container_format"] = "bare" }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!;
        var upload = new ByteArrayContent(data);
        upload.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using (var uploaded = await SendAsync(daemon.Http, token, HttpMethod.Put, $"/image/v2/images/{id}/file", upload))
        {
            Assert.Equal(HttpStatusCode.NoContent, uploaded.StatusCode);
        }

        using var downloaded = await SendAsync(daemon.Http, token, HttpMethod.Get, $"/image/v2/images/{id}/file");
        Assert.Equal(data, await downloaded.Content.ReadAsByteArrayAsync());

        var swiftToken = await TempAuthTokenAsync(daemon);
        using var listing = await SendAsync(daemon.Http, swiftToken, HttpMethod.Get, "/v1/AUTH_admin/glance");
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        Assert.Contains(id, await listing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_identity_token_reaches_its_projects_object_storage_account()
    {
        await using var daemon = await TestDaemon.StartAsync(settings: TestDaemon.WithObjects());
        var rc = OpenRc(daemon.Home);
        var (token, body) = await IssueTokenAsync(daemon.Http, rc["OS_USERNAME"], rc["OS_PASSWORD"], rc["OS_PROJECT_NAME"]);
        var account = "AUTH_" + (string)body["token"]!["project"]!["id"]!;

        using var put = await SendAsync(daemon.Http, token, HttpMethod.Put, $"/v1/{account}/backups");
        using var listing = await SendAsync(daemon.Http, token, HttpMethod.Get, $"/v1/{account}");
        using var other = await SendAsync(daemon.Http, token, HttpMethod.Get, "/v1/AUTH_someone-else");

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Contains("backups", await listing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
    }

    [Fact]
    public async Task The_swift_image_store_without_object_storage_is_refused_naming_both_settings()
    {
        using var home = new TempDirectory();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var settings = new Dictionary<string, string?> { ["Daemon:Port"] = "0", ["Images:Store"] = "swift", ["Objects:Enabled"] = "false" };

        var exitCode = await NimbusDaemon.RunAsync(new DaemonLaunch(home.Path, null, settings, new Dictionary<string, string?>()), output, error);

        Assert.Equal(3, exitCode);
        Assert.Contains("Images:Store is swift but object storage is off (Objects:Enabled is false)", error.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(home.Path, "openrc")));
    }

    private static IReadOnlyDictionary<string, string> OpenRc(string home) =>
        ClientConfigFiles.ReadOpenRc(home) ?? throw new InvalidOperationException($"nimbusd wrote no openrc in {home}");

    private static async Task<(string Token, JsonNode Body)> IssueTokenAsync(HttpClient http, string user, string password, string project)
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
        return (response.Headers.GetValues("X-Subject-Token").Single(), JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private static async Task<string> TempAuthTokenAsync(TestDaemon daemon)
    {
        var rc = (await File.ReadAllLinesAsync(Path.Combine(daemon.Home, "swiftrc")))
            .Where(l => l.StartsWith("export ", StringComparison.Ordinal))
            .ToDictionary(l => l["export ".Length..l.IndexOf('=', StringComparison.Ordinal)], l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/v1.0");
        request.Headers.Add("X-Auth-User", rc["ST_USER"]);
        request.Headers.Add("X-Auth-Key", rc["ST_KEY"]);
        using var response = await daemon.Http.SendAsync(request);
        return response.Headers.GetValues("X-Auth-Token").Single();
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string token, HttpMethod method, string path, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add("X-Auth-Token", token);
        return await http.SendAsync(request);
    }
}

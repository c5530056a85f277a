using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Nimbus.Daemon.Virt;
using Nimbus.Identity.Bootstrap;
using Nimbus.TestSupport;

namespace Nimbus.Daemon.Tests;

/// <summary>Each service's own series at /metrics, scraped after requests, and log lines kept readable.</summary>
public sealed class ServiceMetricsTests
{
    [Fact]
    public async Task Metrics_count_identity_requests_by_route_and_status_and_tokens_issued_and_validated()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var rc = ClientConfigFiles.ReadOpenRc(daemon.Home)!;
        var token = await IssueTokenAsync(daemon.Http, rc["OS_USERNAME"], rc["OS_PASSWORD"], rc["OS_PROJECT_NAME"]);
        using (var check = new HttpRequestMessage(HttpMethod.Get, "/identity/v3/auth/tokens"))
        {
            check.Headers.Add("X-Auth-Token", token);
            check.Headers.Add("X-Subject-Token", token);
            using var valid = await daemon.Http.SendAsync(check);
            Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        }

        using (var bogus = new HttpRequestMessage(HttpMethod.Get, "/identity/v3/projects"))
        {
            bogus.Headers.Add("X-Auth-Token", "not-a-token");
            using var refused = await daemon.Http.SendAsync(bogus);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var metrics = await ScrapeAsync(daemon);

        Assert.Equal(1, Value(metrics, "nimbus_identity_tokens_issued_total", "methods=\"password\""));
        Assert.True(Value(metrics, "nimbus_identity_tokens_validated_total", "result=\"valid\"") >= 1);
        Assert.True(Value(metrics, "nimbus_identity_tokens_validated_total", "result=\"malformed\"") >= 1);
        Assert.Equal(1, Value(metrics, "http_requests_received_total", "method=\"POST\"", "endpoint=\"/identity/v3/auth/tokens\"", "code=\"2xx\""));
        Assert.Equal(1, Value(metrics, "http_request_duration_seconds_count", "method=\"POST\"", "endpoint=\"/identity/v3/auth/tokens\""));
        Assert.Contains("http_request_duration_seconds_bucket{", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_count_swift_requests_by_target_and_status_and_the_objects_and_bytes_stored()
    {
        await using var daemon = await TestDaemon.StartAsync(settings: TestDaemon.WithObjects());
        var (storage, token) = await TempAuthAsync(daemon);
        using (var container = await SendAsync(daemon.Http, token, HttpMethod.Put, $"{storage}/photos"))
        {
            Assert.Equal(HttpStatusCode.Created, container.StatusCode);
        }

        using (var put = await SendAsync(daemon.Http, token, HttpMethod.Put, $"{storage}/photos/a.bin", new ByteArrayContent(new byte[1000])))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        using (var missing = await SendAsync(daemon.Http, token, HttpMethod.Get, $"{storage}/photos/none"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        var metrics = await ScrapeAsync(daemon);

        Assert.Equal(1, Value(metrics, "nimbus_objects_requests_total", "method=\"PUT\"", "target=\"container\"", "code=\"201\""));
        Assert.Equal(1, Value(metrics, "nimbus_objects_requests_total", "method=\"PUT\"", "target=\"object\"", "code=\"201\""));
        Assert.Equal(1, Value(metrics, "nimbus_objects_requests_total", "method=\"GET\"", "target=\"object\"", "code=\"404\""));
        Assert.Equal(1, Value(metrics, "nimbus_objects_requests_total", "method=\"GET\"", "target=\"auth\"", "code=\"200\""));
        Assert.Equal(1, Value(metrics, "nimbus_objects_request_duration_seconds_count", "method=\"PUT\"", "target=\"object\""));
        Assert.Equal(1, Value(metrics, "nimbus_objects_stored_total"));
        Assert.Equal(1000, Value(metrics, "nimbus_objects_stored_bytes_total"));
    }

    [Fact]
    public async Task Metrics_count_guests_by_state_on_each_open_connection()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var connection = await daemon.Daemon.Services.GetRequiredService<VirtConnections>().GetAsync("test:///default", CancellationToken.None);
        await connection.Hypervisor.DefineDomainAsync("<domain type='qemu'><name>idle</name><memory unit='MiB'>128</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>", CancellationToken.None);

        var metrics = await ScrapeAsync(daemon);

        Assert.Equal(1, Value(metrics, "nimbus_virt_domains", "connection=\"test:///default\"", "state=\"running\""));
        Assert.Equal(1, Value(metrics, "nimbus_virt_domains", "connection=\"test:///default\"", "state=\"shutoff\""));
        Assert.Equal(0, Value(metrics, "nimbus_virt_domains", "connection=\"test:///default\"", "state=\"paused\""));
    }

    [Fact]
    public async Task Text_log_lines_leave_scopes_out_and_json_lines_keep_them_as_fields()
    {
        await using var daemon = await TestDaemon.StartAsync();

        Assert.False(daemon.Daemon.Services.GetRequiredService<IOptionsMonitor<SimpleConsoleFormatterOptions>>().CurrentValue.IncludeScopes);
        Assert.True(daemon.Daemon.Services.GetRequiredService<IOptionsMonitor<JsonConsoleFormatterOptions>>().CurrentValue.IncludeScopes);
    }

    [Fact]
    public async Task Text_log_lines_carry_scopes_when_asked()
    {
        await using var daemon = await TestDaemon.StartAsync(settings: new Dictionary<string, string?> { ["Logging:Console:FormatterOptions:IncludeScopes"] = "true" });

        Assert.True(daemon.Daemon.Services.GetRequiredService<IOptionsMonitor<SimpleConsoleFormatterOptions>>().CurrentValue.IncludeScopes);
    }

    private static async Task<string> ScrapeAsync(TestDaemon daemon)
    {
        using var response = await daemon.Http.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of the one series named <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    private static double Value(string metrics, string name, params string[] labels)
    {
        var lines = metrics.Split('\n')
            .Where(l => (l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal)) && labels.All(label => l.Contains(label, StringComparison.Ordinal)))
            .ToList();
        var line = Assert.Single(lines);
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<string> IssueTokenAsync(HttpClient http, string user, string password, string project)
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
        return response.Headers.GetValues("X-Subject-Token").Single();
    }

    private static async Task<(string StorageUrl, string Token)> TempAuthAsync(TestDaemon daemon)
    {
        var rc = (await File.ReadAllLinesAsync(Path.Combine(daemon.Home, "swiftrc")))
            .Where(l => l.StartsWith("export ", StringComparison.Ordinal))
            .ToDictionary(l => l["export ".Length..l.IndexOf('=', StringComparison.Ordinal)], l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/v1.0");
        request.Headers.Add("X-Auth-User", rc["ST_USER"]);
        request.Headers.Add("X-Auth-Key", rc["ST_KEY"]);
        using var response = await daemon.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (new Uri(response.Headers.GetValues("X-Storage-Url").Single()).AbsolutePath, response.Headers.GetValues("X-Auth-Token").Single());
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string token, HttpMethod method, string path, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add("X-Auth-Token", token);
        return await http.SendAsync(request);
    }
}

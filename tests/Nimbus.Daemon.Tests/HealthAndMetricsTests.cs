using System.Net;
using System.Text.Json;
using Nimbus.TestSupport;

namespace Nimbus.Daemon.Tests;

public sealed class HealthAndMetricsTests
{
    [Fact]
    public async Task Healthz_reports_version_role_and_each_service_state()
    {
        await using var daemon = await TestDaemon.StartAsync();

        using var response = await daemon.Http.GetAsync(new Uri("/healthz", UriKind.Relative));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("ok", body.RootElement.GetProperty("status").GetString());
        Assert.Equal(DaemonInfo.ProductVersion(), body.RootElement.GetProperty("version").GetString());
        Assert.Equal("all", body.RootElement.GetProperty("role").GetString());
        Assert.Equal("running", body.RootElement.GetProperty("services").GetProperty("api").GetProperty("state").GetString());
    }

    [Fact]
    public async Task Uptime_follows_the_clock()
    {
        await using var daemon = await TestDaemon.StartAsync();

        daemon.Clock.Advance(TimeSpan.FromSeconds(90.5));
        using var body = JsonDocument.Parse(await daemon.Http.GetStringAsync(new Uri("/healthz", UriKind.Relative)));

        Assert.Equal(90.5, body.RootElement.GetProperty("uptime_seconds").GetDouble());
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), body.RootElement.GetProperty("started_at").GetDateTimeOffset());
    }

    [Fact]
    public async Task Every_response_carries_a_fresh_openstack_request_id()
    {
        await using var daemon = await TestDaemon.StartAsync();

        using var first = await daemon.Http.GetAsync(new Uri("/healthz", UriKind.Relative));
        using var second = await daemon.Http.GetAsync(new Uri("/no/such/route", UriKind.Relative));

        var firstId = Assert.Single(first.Headers.GetValues("x-openstack-request-id"));
        var secondId = Assert.Single(second.Headers.GetValues("x-openstack-request-id"));
        Assert.Matches("^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", firstId);
        Assert.NotEqual(firstId, secondId);
    }

    [Fact]
    public async Task Request_id_sent_by_a_caller_does_not_replace_our_own()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var callers = "req-11111111-2222-3333-4444-555555555555";

        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Add("x-openstack-request-id", callers);
        using var response = await daemon.Http.SendAsync(request);

        Assert.NotEqual(callers, Assert.Single(response.Headers.GetValues("x-openstack-request-id")));
    }

    [Fact]
    public async Task Unknown_route_answers_an_openstack_item_not_found_fault()
    {
        await using var daemon = await TestDaemon.StartAsync();

        using var response = await daemon.Http.GetAsync(new Uri("/compute/v2.1/servers", UriKind.Relative));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var fault = body.RootElement.GetProperty("itemNotFound");
        Assert.Equal(404, fault.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrEmpty(fault.GetProperty("message").GetString()));
        Assert.Equal("api.no_route", Assert.Single(response.Headers.GetValues("X-Nimbus-Error-Code")));
    }

    [Fact]
    public async Task Wrong_method_answers_a_bad_method_fault()
    {
        await using var daemon = await TestDaemon.StartAsync();

        using var response = await daemon.Http.PostAsync(new Uri("/healthz", UriKind.Relative), new StringContent("{}"));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(405, body.RootElement.GetProperty("badMethod").GetProperty("code").GetInt32());
        Assert.Equal("api.bad_method", Assert.Single(response.Headers.GetValues("X-Nimbus-Error-Code")));
    }

    [Fact]
    public async Task Metrics_count_requests_per_route_with_latency_histograms()
    {
        await using var daemon = await TestDaemon.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            using var _ = await daemon.Http.GetAsync(new Uri("/healthz", UriKind.Relative));
        }

        using var response = await daemon.Http.GetAsync(new Uri("/metrics", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.Contains("# TYPE http_request_duration_seconds histogram", text, StringComparison.Ordinal);
        var count = text.Split('\n').Single(l => l.StartsWith("http_request_duration_seconds_count{", StringComparison.Ordinal) && l.Contains("endpoint=\"/healthz\"", StringComparison.Ordinal));
        Assert.EndsWith(" 3", count, StringComparison.Ordinal);
        Assert.Contains("http_request_duration_seconds_bucket{", text, StringComparison.Ordinal);
        Assert.Contains("le=\"+Inf\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Local_virt_api_does_not_exist_over_tcp()
    {
        await using var daemon = await TestDaemon.StartAsync();

        using var response = await daemon.Http.GetAsync(new Uri("/virt/v1/domains?connect=test:///default", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Local_api_socket_is_reachable_by_its_owner_only()
    {
        await using var daemon = await TestDaemon.StartAsync();

        var socket = Nimbus.Platform.Storage.LocalApiSocket.PathIn(daemon.Home);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(socket)!));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));
    }

    [Fact]
    public async Task Two_daemons_in_one_process_keep_separate_metrics()
    {
        await using var first = await TestDaemon.StartAsync();
        await using var second = await TestDaemon.StartAsync();
        using (await first.Http.GetAsync(new Uri("/healthz", UriKind.Relative)))
        {
        }

        var secondMetrics = await second.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Assert.DoesNotContain("endpoint=\"/healthz\"", secondMetrics, StringComparison.Ordinal);
    }
}

using System.Net;
using Nimbus.Objects.Tests.Proxy;

namespace Nimbus.Objects.Tests.Middleware;

/// <summary>CORS from container metadata: preflights without a token and headers on actual requests.</summary>
public sealed class CorsTests : IAsyncLifetime
{
    private const string Allowed = "http://app.example";

    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync();
        await _cluster.PutContainerAsync(
            "c",
            ("X-Container-Meta-Access-Control-Allow-Origin", $"{Allowed} http://other.example"),
            ("X-Container-Meta-Access-Control-Max-Age", "600"),
            ("X-Container-Meta-Access-Control-Expose-Headers", "X-Custom-One x-custom-two"));
        (await _cluster.PutObjectAsync("c", "o", [1, 2, 3], ("X-Object-Meta-Color", "red"))).Dispose();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_preflight_from_an_allowed_origin_is_answered_without_a_token()
    {
        using var preflight = await PreflightAsync(Allowed, "PUT", "x-auth-token, content-type");

        Assert.Equal(HttpStatusCode.OK, preflight.StatusCode);
        Assert.Equal(Allowed, Header(preflight, "Access-Control-Allow-Origin"));
        Assert.Equal("600", Header(preflight, "Access-Control-Max-Age"));
        Assert.Equal("DELETE, GET, HEAD, OPTIONS, POST, PUT", Header(preflight, "Access-Control-Allow-Methods"));
        Assert.Equal("x-auth-token, content-type", Header(preflight, "Access-Control-Allow-Headers"));
        Assert.Equal("Origin, Access-Control-Request-Headers", Header(preflight, "Vary"));
    }

    [Fact]
    public async Task A_preflight_from_another_origin_or_for_an_unknown_method_is_401()
    {
        using var otherOrigin = await PreflightAsync("http://evil.example", "GET");
        Assert.Equal(HttpStatusCode.Unauthorized, otherOrigin.StatusCode);
        Assert.False(otherOrigin.Headers.Contains("Access-Control-Allow-Origin"));

        using var otherMethod = await PreflightAsync(Allowed, "PATCH");
        Assert.Equal(HttpStatusCode.Unauthorized, otherMethod.StatusCode);

        using var noContainer = await PreflightAsync(Allowed, "GET", path: TestCluster.PathOf("missing", "o"));
        Assert.Equal(HttpStatusCode.Unauthorized, noContainer.StatusCode);
    }

    [Fact]
    public async Task Options_without_an_origin_lists_the_allowed_methods()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, TestCluster.PathOf("c"));
        using var response = await AnonymousSendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("DELETE, GET, HEAD, OPTIONS, POST, PUT", string.Join(", ", response.Content.Headers.Allow));
    }

    [Fact]
    public async Task A_get_from_an_allowed_origin_carries_the_allow_origin_and_exposed_headers()
    {
        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "o"), null, ("Origin", Allowed));

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(Allowed, Header(get, "Access-Control-Allow-Origin"));
        Assert.Equal("Origin", Header(get, "Vary"));
        var exposed = Header(get, "Access-Control-Expose-Headers").Split(", ");
        Assert.Equal(
            ["cache-control", "content-language", "content-type", "expires", "last-modified", "pragma", "etag", "x-timestamp", "x-trans-id", "x-openstack-request-id"],
            exposed.Take(10));
        Assert.Contains("x-object-meta-color", exposed);
        Assert.Contains("x-custom-one", exposed);
        Assert.Contains("x-custom-two", exposed);
    }

    [Fact]
    public async Task A_request_from_an_origin_the_container_does_not_allow_gets_no_cors_headers()
    {
        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "o"), null, ("Origin", "http://evil.example"));

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.False(get.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(get.Headers.Contains("Access-Control-Expose-Headers"));
    }

    [Fact]
    public async Task A_container_that_allows_every_origin_answers_with_a_star()
    {
        await _cluster.PutContainerAsync("public", ("X-Container-Meta-Access-Control-Allow-Origin", "*"));

        using var preflight = await PreflightAsync("http://anyone.example", "GET", path: TestCluster.PathOf("public", "o"));
        Assert.Equal(HttpStatusCode.OK, preflight.StatusCode);
        Assert.Equal("*", Header(preflight, "Access-Control-Allow-Origin"));
        Assert.False(preflight.Headers.Contains("Vary"));

        using var head = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("public"), null, ("Origin", "http://anyone.example"));
        Assert.Equal("*", Header(head, "Access-Control-Allow-Origin"));
    }

    private async Task<HttpResponseMessage> PreflightAsync(string origin, string method, string? headers = null, string? path = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, path ?? TestCluster.PathOf("c", "o"));
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        if (headers is not null)
        {
            request.Headers.Add("Access-Control-Request-Headers", headers);
        }

        return await AnonymousSendAsync(request);
    }

    /// <summary>A request with no token, as a browser's preflight is.</summary>
    private async Task<HttpResponseMessage> AnonymousSendAsync(HttpRequestMessage request)
    {
        using var anonymous = new HttpClient { BaseAddress = _cluster.Url };
        return await anonymous.SendAsync(request);
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.NonValidated.TryGetValues(name, out var values) ? values.ToString() : string.Empty;
}

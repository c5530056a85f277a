using System.Net;
using System.Text;
using System.Text.Json;
using Nimbus.Objects.Tests.Proxy;

namespace Nimbus.Objects.Tests.Middleware;

/// <summary>staticweb: containers served as web sites to anonymous readers, against a real cluster.</summary>
public sealed class StaticWebTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task The_index_page_is_served_to_anonymous_readers_of_a_public_container()
    {
        await _cluster.PutContainerAsync("site", ("X-Container-Read", ".r:*,.rlistings"), ("X-Container-Meta-Web-Index", "index.html"));
        await PutAsync("site", "index.html", "<h1>home</h1>", "text/html");
        await PutAsync("site", "docs/index.html", "<h1>docs</h1>", "text/html");

        using var root = await AnonymousGetAsync(TestCluster.PathOf("site") + "/");
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal("<h1>home</h1>", await root.Content.ReadAsStringAsync());
        Assert.Equal("text/html", root.Content.Headers.ContentType!.MediaType);

        using var docs = await AnonymousGetAsync(TestCluster.PathOf("site", "docs/"));
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.Equal("<h1>docs</h1>", await docs.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_directory_asked_for_without_its_slash_is_redirected_with_301()
    {
        await _cluster.PutContainerAsync("site", ("X-Container-Read", ".r:*,.rlistings"), ("X-Container-Meta-Web-Index", "index.html"));
        await PutAsync("site", "index.html", "home", "text/html");
        await PutAsync("site", "docs/index.html", "docs", "text/html");

        using var container = await AnonymousGetAsync(TestCluster.PathOf("site"));
        Assert.Equal(HttpStatusCode.MovedPermanently, container.StatusCode);
        Assert.Equal(new Uri(_cluster.Url, TestCluster.PathOf("site") + "/"), container.Headers.Location);

        using var directory = await AnonymousGetAsync(TestCluster.PathOf("site", "docs"));
        Assert.Equal(HttpStatusCode.MovedPermanently, directory.StatusCode);
        Assert.Equal(new Uri(_cluster.Url, TestCluster.PathOf("site", "docs/")), directory.Headers.Location);
    }

    [Fact]
    public async Task Only_the_container_root_needs_rlistings_as_in_swift()
    {
        await _cluster.PutContainerAsync("site", ("X-Container-Read", ".r:*"), ("X-Container-Meta-Web-Index", "index.html"));
        await PutAsync("site", "index.html", "home", "text/html");
        await PutAsync("site", "docs/index.html", "docs", "text/html");

        using var root = await AnonymousGetAsync(TestCluster.PathOf("site") + "/");
        Assert.Equal(HttpStatusCode.Unauthorized, root.StatusCode);
        using var docs = await AnonymousGetAsync(TestCluster.PathOf("site", "docs/"));
        Assert.Equal("docs", await docs.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Directories_without_an_index_get_swifts_html_listing()
    {
        await _cluster.PutContainerAsync("site", ("X-Container-Read", ".r:*,.rlistings"), ("X-Container-Meta-Web-Listings", "true"));
        await PutAsync("site", "a.txt", "hello", "text/plain");
        await PutAsync("site", "dir/b<1>.txt", "12345", "text/plain");

        using var root = await AnonymousGetAsync(TestCluster.PathOf("site") + "/");
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal("text/html; charset=UTF-8", root.Content.Headers.ContentType!.ToString());
        var rootPage = await root.Content.ReadAsStringAsync();
        Assert.Contains("<h1 id=\"title\">Listing of /v1/AUTH_admin/site/</h1>", rootPage, StringComparison.Ordinal);
        Assert.Contains("<td class=\"colname\"><a href=\"./dir/\">dir/</a></td>", rootPage, StringComparison.Ordinal);
        Assert.Contains("<tr class=\"item type-text type-plain\">\n    <td class=\"colname\"><a href=\"./a%2Etxt\">a.txt</a></td>", rootPage, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"parent\"", rootPage, StringComparison.Ordinal);

        using var json = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("site") + "?prefix=dir/&format=json");
        using var listing = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
        var date = listing.RootElement[0].GetProperty("last_modified").GetString()!.Split('.')[0].Replace('T', ' ');
        using var directory = await AnonymousGetAsync(TestCluster.PathOf("site", "dir/"));
        Assert.Equal(
            "<!DOCTYPE html>\n<html>\n <head>\n  <title>Listing of /v1/AUTH_admin/site/dir/</title>\n"
            + "  <style type=\"text/css\">\n   h1 {font-size: 1em; font-weight: bold;}\n   th {text-align: left; padding: 0px 1em 0px 1em;}\n"
            + "   td {padding: 0px 1em 0px 1em;}\n   a {text-decoration: none;}\n  </style>\n </head>\n <body>\n"
            + "  <h1 id=\"title\">Listing of /v1/AUTH_admin/site/dir/</h1>\n  <table id=\"listing\">\n   <tr id=\"heading\">\n"
            + "    <th class=\"colname\">Name</th>\n    <th class=\"colsize\">Size</th>\n    <th class=\"coldate\">Date</th>\n   </tr>\n"
            + "   <tr id=\"parent\" class=\"item\">\n    <td class=\"colname\"><a href=\"../\">../</a></td>\n"
            + "    <td class=\"colsize\">&nbsp;</td>\n    <td class=\"coldate\">&nbsp;</td>\n   </tr>\n"
            + "   <tr class=\"item type-text type-plain\">\n    <td class=\"colname\"><a href=\"./b%3C1%3E%2Etxt\">b&lt;1&gt;.txt</a></td>\n"
            + $"    <td class=\"colsize\">5</td>\n    <td class=\"coldate\">{date}</td>\n   </tr>\n"
            + "  </table>\n </body>\n</html>\n",
            await directory.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Listings_link_a_custom_style_sheet_relative_to_the_directory()
    {
        await _cluster.PutContainerAsync("site", ("X-Container-Read", ".r:*,.rlistings"), ("X-Container-Meta-Web-Listings", "true"), ("X-Container-Meta-Web-Listings-CSS", "style.css"));
        await PutAsync("site", "a/b/c.txt", "x", "text/plain");

        using var page = await AnonymousGetAsync(TestCluster.PathOf("site", "a/b/"));
        Assert.Contains("<link rel=\"stylesheet\" type=\"text/css\" href=\"../../style.css\" />", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_page_gets_the_containers_custom_404_page_with_status_404()
    {
        await _cluster.PutContainerAsync("site", ("X-Container-Read", ".r:*,.rlistings"), ("X-Container-Meta-Web-Index", "index.html"), ("X-Container-Meta-Web-Error", "error.html"));
        await PutAsync("site", "404error.html", "<p>nothing here</p>", "text/html");

        using var missing = await AnonymousGetAsync(TestCluster.PathOf("site", "nope.html"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("<p>nothing here</p>", await missing.Content.ReadAsStringAsync());

        using var missingDirectory = await AnonymousGetAsync(TestCluster.PathOf("site", "nowhere"));
        Assert.Equal(HttpStatusCode.NotFound, missingDirectory.StatusCode);
        Assert.Equal("<p>nothing here</p>", await missingDirectory.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Without_listings_a_directory_without_index_is_404_with_swifts_explanation()
    {
        await _cluster.PutContainerAsync("site", ("X-Container-Read", ".r:*,.rlistings"), ("X-Container-Meta-Web-Index", "index.html"));
        await PutAsync("site", "docs/page.html", "page", "text/html");

        using var directory = await AnonymousGetAsync(TestCluster.PathOf("site", "docs/"));
        Assert.Equal(HttpStatusCode.NotFound, directory.StatusCode);
        var body = await directory.Content.ReadAsStringAsync();
        Assert.Contains("<h1>Web Listing Disabled</h1>", body, StringComparison.Ordinal);
        Assert.Contains("<b>X-Container-Meta-Web-Index: index.html</b>", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authenticated_requests_see_the_api_unless_they_ask_for_web_mode()
    {
        await _cluster.PutContainerAsync("site", ("X-Container-Meta-Web-Index", "index.html"));
        await PutAsync("site", "index.html", "home", "text/html");

        using var api = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("site") + "/");
        Assert.Equal("index.html\n", await api.Content.ReadAsStringAsync());

        using var web = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("site") + "/", null, ("X-Web-Mode", "true"));
        Assert.Equal("home", await web.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_private_container_stays_private_to_anonymous_readers()
    {
        await _cluster.PutContainerAsync("site", ("X-Container-Meta-Web-Index", "index.html"));
        await PutAsync("site", "index.html", "home", "text/html");

        using var root = await AnonymousGetAsync(TestCluster.PathOf("site") + "/");
        Assert.Equal(HttpStatusCode.Unauthorized, root.StatusCode);
        using var page = await AnonymousGetAsync(TestCluster.PathOf("site", "index.html"));
        Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
    }

    /// <summary>A GET with no token, as a browser sends it; redirects are not followed.</summary>
    private async Task<HttpResponseMessage> AnonymousGetAsync(string path)
    {
        using var anonymous = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = _cluster.Url };
        return await anonymous.GetAsync(path);
    }

    private async Task PutAsync(string container, string name, string body, string contentType)
    {
        using var put = await _cluster.PutObjectAsync(container, name, Encoding.UTF8.GetBytes(body), ("Content-Type", contentType));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }
}

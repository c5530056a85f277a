using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Nimbus.Objects.Tests.Proxy;

namespace Nimbus.Objects.Tests.Middleware;

/// <summary>Bulk delete and archive extraction through the proxy, against a real four-node cluster.</summary>
public sealed class BulkTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(settings => settings with { Bulk = new() { MaxDeletesPerRequest = 5 } });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Bulk_delete_removes_the_listed_objects_and_counts_the_missing_one()
    {
        await _cluster.PutContainerAsync("c");
        foreach (var name in (string[])["a", "b", "sub dir/ü"])
        {
            using var put = await _cluster.PutObjectAsync("c", name, Encoding.UTF8.GetBytes(name));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        using var response = await BulkDeleteAsync("/c/a\n/c/b\n/c/sub%20dir/%C3%BC\n/c/missing\n", "application/json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            """{"Response Status": "200 OK", "Response Body": "", "Number Deleted": 3, "Number Not Found": 1, "Errors": []}""",
            await response.Content.ReadAsStringAsync());
        Assert.Empty(_cluster.DataFiles());
        using var listing = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c"));
        Assert.Equal(HttpStatusCode.NoContent, listing.StatusCode);
    }

    [Fact]
    public async Task Bulk_delete_deletes_objects_before_the_container_that_held_them()
    {
        await _cluster.PutContainerAsync("c");
        (await _cluster.PutObjectAsync("c", "o", [1])).Dispose();

        using var response = await BulkDeleteAsync("/c\n/c/o");

        Assert.Equal("Number Deleted: 2\nNumber Not Found: 0\nResponse Body: \nResponse Status: 200 OK\nErrors:\n", await response.Content.ReadAsStringAsync());
        using var head = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("c"));
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    [Fact]
    public async Task Bulk_delete_reports_each_failure_with_its_status()
    {
        await _cluster.PutContainerAsync("full");
        (await _cluster.PutObjectAsync("full", "keep", [1])).Dispose();

        using var response = await BulkDeleteAsync("/full\n", "application/xml");

        Assert.Equal(
            "<delete>\n<number_deleted>0</number_deleted>\n<number_not_found>0</number_not_found>\n<response_body></response_body>\n"
            + "<response_status>400 Bad Request</response_status>\n<errors>\n<object><name>/full</name><status>409 Conflict</status></object>\n</errors>\n</delete>\n",
            await response.Content.ReadAsStringAsync());
        using var head = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("full", "keep"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Fact]
    public async Task Bulk_delete_of_more_names_than_allowed_deletes_nothing()
    {
        await _cluster.PutContainerAsync("c");
        (await _cluster.PutObjectAsync("c", "o", [1])).Dispose();

        using var response = await BulkDeleteAsync("/c/o\n/c/1\n/c/2\n/c/3\n/c/4\n/c/5\n", "application/json");

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("413 Request Entity Too Large", json.RootElement.GetProperty("Response Status").GetString());
        Assert.Equal("Maximum Bulk Deletes: 5 per request", json.RootElement.GetProperty("Response Body").GetString());
        Assert.Equal(0, json.RootElement.GetProperty("Number Deleted").GetInt32());
        Assert.Equal(3, _cluster.DataFiles().Count);
    }

    [Fact]
    public async Task Bulk_delete_with_an_empty_list_is_an_invalid_bulk_delete()
    {
        using var response = await BulkDeleteAsync("\n\n", "application/json");

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("400 Bad Request", json.RootElement.GetProperty("Response Status").GetString());
        Assert.Equal("Invalid bulk delete.", json.RootElement.GetProperty("Response Body").GetString());
    }

    [Fact]
    public async Task Bulk_delete_without_a_token_reports_each_name_unauthorized_and_deletes_nothing()
    {
        await _cluster.PutContainerAsync("c");
        (await _cluster.PutObjectAsync("c", "o", [1])).Dispose();
        using var anonymous = new HttpClient { BaseAddress = _cluster.Url };

        using var response = await anonymous.PostAsync($"/v1/{TestCluster.Account}?bulk-delete", new StringContent("/c/o\n/c\n"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            "Number Deleted: 0\nNumber Not Found: 0\nResponse Body: \nResponse Status: 400 Bad Request\nErrors:\n/c/o, 401 Unauthorized\n/c, 401 Unauthorized\n",
            await response.Content.ReadAsStringAsync());
        Assert.Equal(3, _cluster.DataFiles().Count);
    }

    [Fact]
    public async Task A_long_bulk_request_sends_heartbeats_before_its_report()
    {
        await using var cluster = await TestCluster.StartAsync(settings => settings with { Bulk = new() { YieldFrequency = TimeSpan.Zero } });
        await cluster.PutContainerAsync("c");
        (await cluster.PutObjectAsync("c", "o", [1])).Dispose();

        using var response = await cluster.SendAsync(HttpMethod.Delete, $"/v1/{TestCluster.Account}?bulk-delete", "/c/o\n"u8.ToArray(), ("Accept", "text/xml"));

        var body = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", body, StringComparison.Ordinal);
        Assert.Contains("\r\n\r\n<delete>\n<number_deleted>1</number_deleted>\n", body, StringComparison.Ordinal);
        Assert.Equal("text/xml", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Extracting_a_tar_gz_creates_its_container_and_one_object_per_file()
    {
        var archive = TarGz(
            ("a.txt", "alpha"),
            ("dir/b.txt", "bravo"));

        using var response = await ExtractAsync(TestCluster.PathOf("photos") + "?extract-archive=tar.gz", archive);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            """{"Response Status": "201 Created", "Response Body": "", "Number Files Created": 2, "Errors": []}""",
            await response.Content.ReadAsStringAsync());
        using var listing = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("photos"));
        Assert.Equal("a.txt\ndir/b.txt\n", await listing.Content.ReadAsStringAsync());
        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("photos", "dir/b.txt"));
        Assert.Equal("bravo", await get.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", get.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Extracting_into_the_account_makes_containers_of_top_directories_and_skips_top_files()
    {
        var archive = TarGz(
            ("loose.txt", "ignored"),
            ("./docs/readme.md", "hello"),
            ("logs/2026/app.log", "line"));

        using var response = await ExtractAsync($"/v1/{TestCluster.Account}?extract-archive=tar.gz", archive, "text/plain");

        Assert.Equal("Number Files Created: 2\nResponse Body: \nResponse Status: 201 Created\nErrors:\n", await response.Content.ReadAsStringAsync());
        using var docs = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("docs", "readme.md"));
        Assert.Equal("hello", await docs.Content.ReadAsStringAsync());
        using var logs = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("logs", "2026/app.log"));
        Assert.Equal("line", await logs.Content.ReadAsStringAsync());
        Assert.Equal(6, _cluster.DataFiles().Count);
    }

    [Fact]
    public async Task Extracted_files_take_metadata_from_their_xattrs_and_from_the_request()
    {
        var body = new MemoryStream();
        await using (var gzip = new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, "setup.py", new Dictionary<string, string>
            {
                ["SCHILY.xattr.user.mime_type"] = "application/python-setup",
                ["SCHILY.xattr.user.meta.lunch"] = "burger and fries",
                ["SCHILY.xattr.user.stuff"] = "ignored",
            })
            { DataStream = new MemoryStream("print()"u8.ToArray()) };
            await tar.WriteEntryAsync(entry);
        }

        using var response = await ExtractAsync(TestCluster.PathOf("code") + "?extract-archive=tar.gz", body.ToArray(), "application/json", ("X-Object-Meta-Team", "ops"));

        Assert.Contains("\"Number Files Created\": 1", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var head = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("code", "setup.py"));
        Assert.Equal("application/python-setup", head.Content.Headers.ContentType?.MediaType);
        Assert.Equal("burger and fries", head.Headers.GetValues("X-Object-Meta-Lunch").Single());
        Assert.Equal("ops", head.Headers.GetValues("X-Object-Meta-Team").Single());
        Assert.False(head.Headers.Contains("X-Object-Meta-Stuff"));
    }

    [Fact]
    public async Task Extracting_reports_each_file_that_fails_with_its_status()
    {
        var archive = TarGz(
            ("ok.txt", "fine"),
            (new string('n', 1025), "name too long"));

        using var response = await ExtractAsync(TestCluster.PathOf("c") + "?extract-archive=tar.gz", archive);

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("400 Bad Request", json.RootElement.GetProperty("Response Status").GetString());
        Assert.Equal(1, json.RootElement.GetProperty("Number Files Created").GetInt32());
        var error = Assert.Single(json.RootElement.GetProperty("Errors").EnumerateArray());
        Assert.Equal("c/" + new string('n', 1025), error[0].GetString());
        Assert.Equal("400 Bad Request", error[1].GetString());
    }

    [Fact]
    public async Task An_archive_that_is_not_gzip_is_an_invalid_tar_file_and_stores_nothing()
    {
        using var response = await ExtractAsync(TestCluster.PathOf("c") + "?extract-archive=tar.gz", Encoding.ASCII.GetBytes(new string('x', 2000)));

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("400 Bad Request", json.RootElement.GetProperty("Response Status").GetString());
        Assert.StartsWith("Invalid Tar File: ", json.RootElement.GetProperty("Response Body").GetString(), StringComparison.Ordinal);
        Assert.Empty(_cluster.DataFiles());
    }

    [Theory]
    [InlineData("tar.bz2", "Unsupported archive format: tar.bz2 is not supported here; send tar or tar.gz")]
    [InlineData("zip", "Unsupported archive format")]
    public async Task Archive_formats_other_than_tar_and_tar_gz_are_refused_with_400(string format, string message)
    {
        using var response = await ExtractAsync(TestCluster.PathOf("c") + "?extract-archive=" + format, [1, 2, 3]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(message, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Info_lists_the_bulk_limits_under_swifts_keys()
    {
        using var info = JsonDocument.Parse(await _cluster.Http.GetStringAsync("/info"));

        Assert.Equal(5, info.RootElement.GetProperty("bulk_delete").GetProperty("max_deletes_per_request").GetInt32());
        Assert.Equal(1000, info.RootElement.GetProperty("bulk_delete").GetProperty("max_failed_deletes").GetInt32());
        Assert.Equal(10_000, info.RootElement.GetProperty("bulk_upload").GetProperty("max_containers_per_extraction").GetInt32());
        Assert.Equal(1000, info.RootElement.GetProperty("bulk_upload").GetProperty("max_failed_extractions").GetInt32());
    }

    private async Task<HttpResponseMessage> BulkDeleteAsync(string names, string? accept = null)
    {
        var headers = new List<(string, string)> { ("Content-Type", "text/plain") };
        if (accept is not null)
        {
            headers.Add(("Accept", accept));
        }

        return await _cluster.SendAsync(HttpMethod.Post, $"/v1/{TestCluster.Account}?bulk-delete", Encoding.UTF8.GetBytes(names), [.. headers]);
    }

    private async Task<HttpResponseMessage> ExtractAsync(string path, byte[] archive, string accept = "application/json", params (string Name, string Value)[] headers) =>
        await _cluster.SendAsync(HttpMethod.Put, path, archive, [("Accept", accept), .. headers]);

    private static byte[] TarGz(params (string Name, string Content)[] files)
    {
        var body = new MemoryStream();
        using (var gzip = new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "dir/"));
            tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "link") { LinkName = "a.txt" });
            foreach (var (name, content) in files)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) });
            }
        }

        return body.ToArray();
    }
}

using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Nimbus.Objects.Tests.Proxy;

/// <summary>The Swift v1 API through the proxy, against a real four-node cluster on loopback.</summary>
public sealed class ProxyApiTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Put_then_get_returns_the_bytes_with_the_md5_etag()
    {
        var body = RandomNumberGenerator.GetBytes(200_000);
        Assert.Equal(HttpStatusCode.Created, await _cluster.PutContainerAsync("c"));

        using var put = await _cluster.PutObjectAsync("c", "dir/o.bin", body);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var md5 = Convert.ToHexStringLower(MD5.HashData(body));
        Assert.Equal(md5, Etag(put));

        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "dir/o.bin"));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(body, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(md5, Etag(get));
        Assert.Equal(3, _cluster.DataFiles().Count);
    }

    [Fact]
    public async Task Put_with_a_wrong_etag_is_refused_with_422_and_stores_nothing()
    {
        await _cluster.PutContainerAsync("c");

        using var put = await _cluster.PutObjectAsync("c", "o", "hello"u8.ToArray(), ("ETag", "00000000000000000000000000000000"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, put.StatusCode);
        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "o"));
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Empty(_cluster.DataFiles());
    }

    [Fact]
    public async Task Put_into_a_missing_container_is_404()
    {
        using var put = await _cluster.PutObjectAsync("nowhere", "o", [1, 2, 3]);
        Assert.Equal(HttpStatusCode.NotFound, put.StatusCode);
    }

    [Theory]
    [InlineData(1025, HttpStatusCode.BadRequest)]
    [InlineData(1024, HttpStatusCode.Created)]
    public async Task Object_names_are_limited_to_1024_bytes(int length, HttpStatusCode expected)
    {
        await _cluster.PutContainerAsync("c");
        using var put = await _cluster.PutObjectAsync("c", new string('n', length), [1]);
        Assert.Equal(expected, put.StatusCode);
    }

    [Fact]
    public async Task Container_names_over_256_bytes_are_refused()
    {
        Assert.Equal(HttpStatusCode.BadRequest, await _cluster.PutContainerAsync(new string('c', 257)));
        Assert.Equal(HttpStatusCode.Created, await _cluster.PutContainerAsync(new string('c', 256)));
    }

    [Fact]
    public async Task Metadata_over_swifts_limits_is_refused_and_changes_nothing()
    {
        await _cluster.PutContainerAsync("c");
        var tooMany = Enumerable.Range(0, 91).Select(i => ($"X-Object-Meta-K{i}", "v")).ToArray();
        using var put = await _cluster.PutObjectAsync("c", "o", [1], tooMany);
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Contains("Too many metadata items; max 90", await put.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var longValue = await _cluster.PutObjectAsync("c", "o", [1], ("X-Object-Meta-K", new string('v', 257)));
        Assert.Equal(HttpStatusCode.BadRequest, longValue.StatusCode);
        using var longName = await _cluster.PutObjectAsync("c", "o", [1], ("X-Object-Meta-" + new string('k', 129), "v"));
        Assert.Equal(HttpStatusCode.BadRequest, longName.StatusCode);
        using var tooLarge = await _cluster.PutObjectAsync("c", "o", [1], Enumerable.Range(0, 20).Select(i => ($"X-Object-Meta-K{i}", new string('v', 250))).ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, tooLarge.StatusCode);
        Assert.Contains("Total metadata too large; max 4096", await tooLarge.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Empty(_cluster.DataFiles());
    }

    [Fact]
    public async Task Post_replaces_object_metadata()
    {
        await _cluster.PutContainerAsync("c");
        (await _cluster.PutObjectAsync("c", "o", [1], ("X-Object-Meta-Color", "red"), ("X-Object-Meta-Size", "big"))).Dispose();

        using var post = await _cluster.SendAsync(HttpMethod.Post, TestCluster.PathOf("c", "o"), null, ("X-Object-Meta-Color", "blue"));
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);

        using var head = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("c", "o"));
        Assert.Equal("blue", head.Headers.GetValues("X-Object-Meta-Color").Single());
        Assert.False(head.Headers.Contains("X-Object-Meta-Size"));
    }

    [Fact]
    public async Task Container_listing_supports_prefix_delimiter_and_json()
    {
        await _cluster.PutContainerAsync("c");
        foreach (var name in (string[])["a/1", "a/2", "b", "a/x/3"])
        {
            (await _cluster.PutObjectAsync("c", name, Encoding.UTF8.GetBytes(name))).Dispose();
        }

        using var plain = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c") + "?delimiter=/");
        Assert.Equal("a/\nb\n", await plain.Content.ReadAsStringAsync());

        using var json = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c") + "?prefix=a/&delimiter=/&format=json");
        using var listing = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
        var entries = listing.RootElement.EnumerateArray().Select(e => e.TryGetProperty("subdir", out var subdir) ? "subdir:" + subdir.GetString() : e.GetProperty("name").GetString()).ToList();
        Assert.Equal(["a/1", "a/2", "subdir:a/x/"], entries);

        using var head = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("c"));
        Assert.Equal("4", head.Headers.GetValues("X-Container-Object-Count").Single());
    }

    [Fact]
    public async Task Deleting_a_container_that_holds_objects_is_409()
    {
        await _cluster.PutContainerAsync("c");
        (await _cluster.PutObjectAsync("c", "o", [1])).Dispose();

        using var refused = await _cluster.SendAsync(HttpMethod.Delete, TestCluster.PathOf("c"));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);

        (await _cluster.SendAsync(HttpMethod.Delete, TestCluster.PathOf("c", "o"))).Dispose();
        using var deleted = await _cluster.SendAsync(HttpMethod.Delete, TestCluster.PathOf("c"));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("c"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Range_requests_return_one_or_many_parts_or_416()
    {
        await _cluster.PutContainerAsync("c");
        (await _cluster.PutObjectAsync("c", "o", Encoding.ASCII.GetBytes("0123456789"))).Dispose();

        using var single = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "o"), null, ("Range", "bytes=2-4"));
        Assert.Equal(HttpStatusCode.PartialContent, single.StatusCode);
        Assert.Equal("234", await single.Content.ReadAsStringAsync());
        Assert.Equal("bytes 2-4/10", single.Content.Headers.ContentRange!.ToString());

        using var suffix = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "o"), null, ("Range", "bytes=-3"));
        Assert.Equal("789", await suffix.Content.ReadAsStringAsync());

        using var multiple = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "o"), null, ("Range", "bytes=0-0,8-9"));
        Assert.Equal(HttpStatusCode.PartialContent, multiple.StatusCode);
        Assert.StartsWith("multipart/byteranges", multiple.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
        var text = await multiple.Content.ReadAsStringAsync();
        Assert.Contains("Content-Range: bytes 0-0/10\r\n\r\n0\r\n", text, StringComparison.Ordinal);
        Assert.Contains("Content-Range: bytes 8-9/10\r\n\r\n89\r\n", text, StringComparison.Ordinal);

        using var unsatisfiable = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "o"), null, ("Range", "bytes=20-30"));
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
    }

    [Fact]
    public async Task Conditional_gets_answer_304_and_412()
    {
        await _cluster.PutContainerAsync("c");
        using var put = await _cluster.PutObjectAsync("c", "o", [1, 2]);
        var etag = Etag(put);

        using var notModified = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "o"), null, ("If-None-Match", etag));
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        using var failed = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "o"), null, ("If-Match", "\"other\""));
        Assert.Equal(HttpStatusCode.PreconditionFailed, failed.StatusCode);
        using var matched = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "o"), null, ("If-Match", etag));
        Assert.Equal(HttpStatusCode.OK, matched.StatusCode);
    }

    [Fact]
    public async Task Copy_from_makes_a_server_side_copy_with_the_source_metadata()
    {
        await _cluster.PutContainerAsync("c");
        (await _cluster.PutObjectAsync("c", "source", [9, 8, 7], ("X-Object-Meta-Color", "green"))).Dispose();

        using var copy = await _cluster.SendAsync(HttpMethod.Put, TestCluster.PathOf("c", "target"), [], ("X-Copy-From", "/c/source"));
        Assert.Equal(HttpStatusCode.Created, copy.StatusCode);
        Assert.Equal("c/source", copy.Headers.GetValues("X-Copied-From").Single());

        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "target"));
        Assert.Equal([9, 8, 7], await get.Content.ReadAsByteArrayAsync());
        Assert.Equal("green", get.Headers.GetValues("X-Object-Meta-Color").Single());
    }

    [Fact]
    public async Task Expiring_objects_vanish_after_x_delete_at()
    {
        await _cluster.PutContainerAsync("c");
        using var refused = await _cluster.PutObjectAsync("c", "o", [1], ("X-Delete-At", "1000"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("X-Delete-At in past", await refused.Content.ReadAsStringAsync());

        (await _cluster.PutObjectAsync("c", "o", [1], ("X-Delete-After", "60"))).Dispose();
        using (var before = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "o")))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        _cluster.Clock.Advance(TimeSpan.FromSeconds(61));
        using var after = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "o"));
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task Writes_succeed_at_quorum_and_reads_fail_over_with_a_node_down()
    {
        await _cluster.PutContainerAsync("c");
        await _cluster.Cluster.Node(1).StopAsync(CancellationToken.None);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var put = await _cluster.PutObjectAsync("c", $"o{i}", Encoding.ASCII.GetBytes($"body {i}"));
            statuses.Add(put.StatusCode);
        }

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Created, s));
        for (var i = 0; i < 10; i++)
        {
            using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", $"o{i}"));
            Assert.Equal($"body {i}", await get.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_upload_leaves_nothing_stored()
    {
        await _cluster.PutContainerAsync("c");
        using (var socket = new TcpClient())
        {
            await socket.ConnectAsync(_cluster.Url.Host, _cluster.Url.Port);
            var stream = socket.GetStream();
            var token = _cluster.Http.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
            var head = $"PUT {TestCluster.PathOf("c", "partial")} HTTP/1.1\r\nHost: {_cluster.Url.Authority}\r\nX-Auth-Token: {token}\r\nContent-Length: 100000\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(new byte[50_000]);
            await stream.FlushAsync();
            await Task.Delay(200);
        }

        HttpStatusCode status;
        var attempts = 0;
        do
        {
            await Task.Delay(100);
            using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "partial"));
            status = get.StatusCode;
        }
        while (status != HttpStatusCode.NotFound && ++attempts < 20);

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Empty(_cluster.DataFiles());
        using var listing = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c"));
        Assert.Equal(HttpStatusCode.NoContent, listing.StatusCode);
    }

    [Fact]
    public async Task Requests_without_a_valid_token_are_401()
    {
        using var anonymous = new HttpClient { BaseAddress = _cluster.Url };
        using var noToken = await anonymous.GetAsync($"/v1/{TestCluster.Account}");
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);

        anonymous.DefaultRequestHeaders.Add("X-Auth-Token", "AUTH_tkforged.signature");
        using var forged = await anonymous.GetAsync($"/v1/{TestCluster.Account}");
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);

        using var wrongKey = new HttpRequestMessage(HttpMethod.Get, "/auth/v1.0");
        wrongKey.Headers.Add("X-Auth-User", "admin:admin");
        wrongKey.Headers.Add("X-Auth-Key", "wrong");
        using var refused = await anonymous.SendAsync(wrongKey);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task A_control_character_in_an_account_name_is_refused_with_401_and_a_quoted_realm()
    {
        using var anonymous = new HttpClient { BaseAddress = _cluster.Url };

        using var newline = await anonymous.GetAsync("/v1/AUTH_a%0Ab/c");
        using var quote = await anonymous.GetAsync("/v1/AUTH_a%22b/c");

        Assert.Equal(HttpStatusCode.Unauthorized, newline.StatusCode);
        Assert.Equal("Swift realm=\"AUTH_a%0Ab\"", newline.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, quote.StatusCode);
        Assert.Equal("Swift realm=\"AUTH_a%22b\"", quote.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Info_and_healthcheck_answer_without_a_token()
    {
        using var anonymous = new HttpClient { BaseAddress = _cluster.Url };
        using var info = JsonDocument.Parse(await anonymous.GetStringAsync("/info"));
        Assert.Equal(5368709122, info.RootElement.GetProperty("swift").GetProperty("max_file_size").GetInt64());
        Assert.True(info.RootElement.TryGetProperty("tempauth", out _));
        Assert.Equal("OK", await anonymous.GetStringAsync("/healthcheck"));
    }

    [Fact]
    public async Task Invalid_utf8_in_a_path_is_refused()
    {
        using var response = await _cluster.SendAsync(HttpMethod.Get, $"/v1/{TestCluster.Account}/c/%FF%FE");
        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
    }

    /// <summary>The ETag header as sent: Swift's is the bare MD5, which .NET's typed header does not parse.</summary>
    private static string Etag(HttpResponseMessage response) => response.Headers.NonValidated["ETag"].ToString();
}

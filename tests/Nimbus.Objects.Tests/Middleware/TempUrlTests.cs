using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Nimbus.Objects.Tests.Proxy;

namespace Nimbus.Objects.Tests.Middleware;

/// <summary>Swift's TempURL through the proxy: signed object requests that need no token.</summary>
public sealed class TempUrlTests : IAsyncLifetime
{
    private const string Key = "s3cr3t-account-key";
    private static readonly byte[] Body = RandomNumberGenerator.GetBytes(100_000);

    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync();
        using var post = await _cluster.SendAsync(HttpMethod.Post, $"/v1/{TestCluster.Account}", null, ("X-Account-Meta-Temp-URL-Key", Key));
        Assert.Equal(HttpStatusCode.NoContent, post.StatusCode);
        Assert.Equal(HttpStatusCode.Created, await _cluster.PutContainerAsync("c"));
        using var put = await _cluster.PutObjectAsync("c", "dir/o.bin", Body, ("X-Object-Meta-Secret", "hidden"), ("X-Object-Meta-Public-Color", "blue"));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_signed_get_reads_the_object_without_a_token_as_an_attachment()
    {
        var expires = Expires(TimeSpan.FromHours(1));
        var path = TestCluster.PathOf("c", "dir/o.bin");

        using var response = await _cluster.Anonymous.GetAsync(path + Query(Sha1("GET", expires, path), expires));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Body, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("attachment; filename=\"o.bin\"; filename*=UTF-8''o.bin", Disposition(response));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(expires), response.Content.Headers.Expires);
        Assert.False(response.Headers.Contains("X-Object-Meta-Secret"));
        Assert.Equal("blue", response.Headers.GetValues("X-Object-Meta-Public-Color").Single());
    }

    [Fact]
    public async Task Without_a_signature_an_anonymous_get_is_still_401()
    {
        using var response = await _cluster.Anonymous.GetAsync(TestCluster.PathOf("c", "dir/o.bin"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_url_stops_working_once_it_expires()
    {
        var expires = Expires(TimeSpan.FromMinutes(1));
        var url = TestCluster.PathOf("c", "dir/o.bin") + Query(Sha1("GET", expires, TestCluster.PathOf("c", "dir/o.bin")), expires);
        using (var fresh = await _cluster.Anonymous.GetAsync(url))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        }

        _cluster.Clock.Advance(TimeSpan.FromMinutes(2));

        using var expired = await _cluster.Anonymous.GetAsync(url);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Equal("401 Unauthorized: Temp URL invalid\n", await expired.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_wrong_signature_another_object_or_another_method_is_401()
    {
        var expires = Expires(TimeSpan.FromHours(1));
        var path = TestCluster.PathOf("c", "dir/o.bin");
        var signature = Sha1("GET", expires, path);

        using var altered = await _cluster.Anonymous.GetAsync(path + Query(signature[..^1] + (signature[^1] == '0' ? '1' : '0'), expires));
        using var otherObject = await _cluster.Anonymous.GetAsync(TestCluster.PathOf("c", "other") + Query(signature, expires));
        using var put = await _cluster.Anonymous.PutAsync(path + Query(signature, expires), new ByteArrayContent([1]));
        using var noExpiry = await _cluster.Anonymous.GetAsync(path + "?temp_url_sig=" + signature);
        using var wrongExpiry = await _cluster.Anonymous.GetAsync(path + Query(signature, expires + 1));

        foreach (var response in (HttpResponseMessage[])[altered, otherObject, put, noExpiry, wrongExpiry])
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("401 Unauthorized: Temp URL invalid\n", await response.Content.ReadAsStringAsync());
        }

        using var token = await _cluster.SendAsync(HttpMethod.Get, path);
        Assert.Equal(Body, await token.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Head_is_allowed_by_a_get_or_put_signature_but_delete_is_not()
    {
        var expires = Expires(TimeSpan.FromHours(1));
        var path = TestCluster.PathOf("c", "dir/o.bin");

        using var byGet = await _cluster.Anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, path + Query(Sha1("GET", expires, path), expires)));
        using var byPut = await _cluster.Anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, path + Query(Sha1("PUT", expires, path), expires)));
        using var byDelete = await _cluster.Anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, path + Query(Sha1("DELETE", expires, path), expires)));

        Assert.Equal(HttpStatusCode.OK, byGet.StatusCode);
        Assert.Equal(Body.Length, byGet.Content.Headers.ContentLength);
        Assert.Equal(HttpStatusCode.OK, byPut.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, byDelete.StatusCode);
    }

    [Fact]
    public async Task A_prefix_signature_covers_every_object_under_the_prefix_and_nothing_else()
    {
        (await _cluster.PutObjectAsync("c", "dir/sub/deep", [7])).Dispose();
        (await _cluster.PutObjectAsync("c", "elsewhere", [8])).Dispose();
        var expires = Expires(TimeSpan.FromHours(1));
        var signature = Sha1("GET", expires, $"prefix:/v1/{TestCluster.Account}/c/dir/");
        var query = Query(signature, expires) + "&temp_url_prefix=dir/";

        using var first = await _cluster.Anonymous.GetAsync(TestCluster.PathOf("c", "dir/o.bin") + query);
        using var deep = await _cluster.Anonymous.GetAsync(TestCluster.PathOf("c", "dir/sub/deep") + query);
        using var outside = await _cluster.Anonymous.GetAsync(TestCluster.PathOf("c", "elsewhere") + query);
        using var withoutPrefix = await _cluster.Anonymous.GetAsync(TestCluster.PathOf("c", "dir/o.bin") + Query(signature, expires));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal([7], await deep.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, outside.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withoutPrefix.StatusCode);
    }

    [Fact]
    public async Task Sha256_and_sha512_signatures_work_in_hex_and_base64()
    {
        var expires = Expires(TimeSpan.FromHours(1));
        var path = TestCluster.PathOf("c", "dir/o.bin");
        var message = Encoding.UTF8.GetBytes($"GET\n{expires}\n{path}");
        var key = Encoding.UTF8.GetBytes(Key);
        var sha256 = HMACSHA256.HashData(key, message);
        var sha512 = HMACSHA512.HashData(key, message);

        string[] signatures =
        [
            Convert.ToHexStringLower(sha256),
            "sha256:" + Convert.ToBase64String(sha256),
            "sha512:" + Convert.ToBase64String(sha512).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
            Convert.ToHexStringLower(sha512),
        ];
        foreach (var signature in signatures)
        {
            using var response = await _cluster.Anonymous.GetAsync(path + Query(signature, expires));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var unknown = await _cluster.Anonymous.GetAsync(path + Query("md5:" + Convert.ToBase64String(MD5.HashData(message)), expires));
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
    }

    [Fact]
    public async Task An_iso8601_expiry_and_the_second_key_are_accepted()
    {
        using var post = await _cluster.SendAsync(HttpMethod.Post, $"/v1/{TestCluster.Account}", null, ("X-Account-Meta-Temp-URL-Key-2", "rotated"));
        var expires = Expires(TimeSpan.FromHours(1));
        var path = TestCluster.PathOf("c", "dir/o.bin");
        var signature = HmacSha1("rotated", $"GET\n{expires}\n{path}");
        var iso = DateTimeOffset.FromUnixTimeSeconds(expires).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

        using var response = await _cluster.Anonymous.GetAsync($"{path}?temp_url_sig={signature}&temp_url_expires={iso}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_container_key_signs_for_its_own_container_only()
    {
        await _cluster.PutContainerAsync("shared", ("X-Container-Meta-Temp-URL-Key", "container-key"));
        await _cluster.PutContainerAsync("private");
        (await _cluster.PutObjectAsync("shared", "doc", [1, 2])).Dispose();
        (await _cluster.PutObjectAsync("private", "doc", [3, 4])).Dispose();
        var expires = Expires(TimeSpan.FromHours(1));
        string Sign(string path) => HmacSha1("container-key", $"GET\n{expires}\n{path}");

        using var own = await _cluster.Anonymous.GetAsync(TestCluster.PathOf("shared", "doc") + Query(Sign(TestCluster.PathOf("shared", "doc")), expires));
        using var other = await _cluster.Anonymous.GetAsync(TestCluster.PathOf("private", "doc") + Query(Sign(TestCluster.PathOf("private", "doc")), expires));

        Assert.Equal([1, 2], await own.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);
    }

    [Fact]
    public async Task A_signed_put_stores_the_object_but_may_not_set_a_manifest_or_copy_from_another_container()
    {
        await _cluster.PutContainerAsync("drop", ("X-Container-Meta-Temp-URL-Key", "drop-key"));
        var expires = Expires(TimeSpan.FromHours(1));
        var path = TestCluster.PathOf("drop", "upload.bin");
        var url = path + Query(HmacSha1("drop-key", $"PUT\n{expires}\n{path}"), expires);
        var body = RandomNumberGenerator.GetBytes(70_000);

        using var put = await _cluster.Anonymous.PutAsync(url, new ByteArrayContent(body));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var stored = await _cluster.SendAsync(HttpMethod.Get, path);
        Assert.Equal(body, await stored.Content.ReadAsByteArrayAsync());

        using var manifest = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent([]) };
        manifest.Headers.Add("X-Object-Manifest", "c/dir/");
        using var refused = await _cluster.Anonymous.SendAsync(manifest);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("The header 'X-Object-Manifest' is not allowed in this tempurl", await refused.Content.ReadAsStringAsync());

        using var copy = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent([]) };
        copy.Headers.Add("X-Copy-From", "c/dir/o.bin");
        using var copied = await _cluster.Anonymous.SendAsync(copy);
        Assert.Equal(HttpStatusCode.Unauthorized, copied.StatusCode);
        using var unchanged = await _cluster.SendAsync(HttpMethod.Get, path);
        Assert.Equal(body, await unchanged.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Filename_and_inline_choose_the_content_disposition()
    {
        var expires = Expires(TimeSpan.FromHours(1));
        var path = TestCluster.PathOf("c", "dir/o.bin");
        var query = Query(Sha1("GET", expires, path), expires);

        using var named = await _cluster.Anonymous.GetAsync(path + query + "&filename=My%20Report%C3%A9.pdf");
        using var inline = await _cluster.Anonymous.GetAsync(path + query + "&inline");
        using var inlineNamed = await _cluster.Anonymous.GetAsync(path + query + "&inline&filename=a.pdf");

        Assert.Equal("attachment; filename=\"My Report%C3%A9.pdf\"; filename*=UTF-8''My%20Report%C3%A9.pdf", Disposition(named));
        Assert.Equal("inline", Disposition(inline));
        Assert.Equal("inline; filename=\"a.pdf\"; filename*=UTF-8''a.pdf", Disposition(inlineNamed));
    }

    [Fact]
    public async Task An_ip_range_signature_allows_only_addresses_in_the_range()
    {
        var expires = Expires(TimeSpan.FromHours(1));
        var path = TestCluster.PathOf("c", "dir/o.bin");
        string Sign(string range) => HmacSha1(Key, $"ip={range}\nGET\n{expires}\n{path}");

        using var loopback = await _cluster.Anonymous.GetAsync(path + Query(Sign("127.0.0.0/8"), expires) + "&temp_url_ip_range=127.0.0.0/8");
        using var elsewhere = await _cluster.Anonymous.GetAsync(path + Query(Sign("10.0.0.0/8"), expires) + "&temp_url_ip_range=10.0.0.0/8");

        Assert.Equal(HttpStatusCode.OK, loopback.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, elsewhere.StatusCode);
    }

    [Fact]
    public async Task Info_lists_the_tempurl_and_formpost_capabilities()
    {
        using var info = JsonDocument.Parse(await _cluster.Anonymous.GetStringAsync("/info"));

        var tempurl = info.RootElement.GetProperty("tempurl");
        Assert.Equal(["GET", "HEAD", "PUT", "POST", "DELETE"], tempurl.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(["sha1", "sha256", "sha512"], tempurl.GetProperty("allowed_digests").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(["x-object-meta-*"], tempurl.GetProperty("outgoing_remove_headers").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(["x-object-meta-public-*"], tempurl.GetProperty("outgoing_allow_headers").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(["x-timestamp"], tempurl.GetProperty("incoming_remove_headers").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(["sha1", "sha256", "sha512"], info.RootElement.GetProperty("formpost").GetProperty("allowed_digests").EnumerateArray().Select(m => m.GetString()));
    }

    private static string Disposition(HttpResponseMessage response) => response.Content.Headers.NonValidated["Content-Disposition"].ToString();

    private long Expires(TimeSpan after) => (_cluster.Clock.GetUtcNow() + after).ToUnixTimeSeconds();

    private static string Sha1(string method, long expires, string path) => HmacSha1(Key, $"{method}\n{expires}\n{path}");

    [SuppressMessage("Security", "CA5350", Justification = "HMAC-SHA1 is the signature Swift's TempURL clients send by default.")]
    private static string HmacSha1(string key, string message) =>
        Convert.ToHexStringLower(HMACSHA1.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(message)));

    private static string Query(string signature, long expires) =>
        $"?temp_url_sig={Uri.EscapeDataString(signature)}&temp_url_expires={expires}";
}

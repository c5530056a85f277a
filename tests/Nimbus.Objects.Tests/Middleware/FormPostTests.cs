using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Nimbus.Objects.Tests.Proxy;

namespace Nimbus.Objects.Tests.Middleware;

/// <summary>Swift's FormPost through the proxy: browser form uploads signed with a Temp-URL-Key.</summary>
public sealed class FormPostTests : IAsyncLifetime
{
    private const string Key = "form-key";
    private const string Redirect = "https://example.com/done";

    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync();
        using var post = await _cluster.SendAsync(HttpMethod.Post, $"/v1/{TestCluster.Account}", null, ("X-Account-Meta-Temp-URL-Key", Key));
        Assert.Equal(HttpStatusCode.NoContent, post.StatusCode);
        Assert.Equal(HttpStatusCode.Created, await _cluster.PutContainerAsync("c"));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_form_uploads_two_files_under_its_prefix_and_redirects()
    {
        var path = $"/v1/{TestCluster.Account}/c/up/";
        var form = new Form(path, Redirect, MaxFileSize: 100_000, MaxFileCount: 5, Expires(TimeSpan.FromMinutes(10)));
        var first = RandomNumberGenerator.GetBytes(80_000);
        var second = "second file"u8.ToArray();

        using var response = await _cluster.Anonymous.PostAsync(path, form.Content(Sha1(form), ("a.bin", first, "application/x-first"), ("b.txt", second, null)));

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal(Redirect + "?status=201&message=", response.Headers.Location!.OriginalString);
        using var a = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "up/a.bin"));
        Assert.Equal(first, await a.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/x-first", a.Content.Headers.ContentType!.MediaType);
        using var b = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "up/b.txt"));
        Assert.Equal(second, await b.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Without_a_redirect_the_answer_is_the_upload_status_as_text()
    {
        var path = $"/v1/{TestCluster.Account}/c";
        var form = new Form(path, string.Empty, MaxFileSize: 1000, MaxFileCount: 1, Expires(TimeSpan.FromMinutes(10)));

        using var response = await _cluster.Anonymous.PostAsync(path, form.Content(Sha1(form), ("note.txt", "hello"u8.ToArray(), null)));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("201 Created", await response.Content.ReadAsStringAsync());
        using var stored = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "note.txt"));
        Assert.Equal("hello", await stored.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_bad_signature_is_401_and_stores_nothing()
    {
        var path = $"/v1/{TestCluster.Account}/c/";
        var form = new Form(path, Redirect, MaxFileSize: 1000, MaxFileCount: 1, Expires(TimeSpan.FromMinutes(10)));
        var forged = HmacSha1("not-the-key", form.Message);

        using var response = await _cluster.Anonymous.PostAsync(path, form.Content(forged, ("x.txt", [1, 2, 3], null)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("FormPost: Invalid Signature", await response.Content.ReadAsStringAsync());
        Assert.Empty(_cluster.DataFiles());
    }

    [Fact]
    public async Task An_expired_form_is_401()
    {
        var path = $"/v1/{TestCluster.Account}/c/";
        var form = new Form(path, Redirect, MaxFileSize: 1000, MaxFileCount: 1, Expires(TimeSpan.FromMinutes(1)));
        _cluster.Clock.Advance(TimeSpan.FromMinutes(2));

        using var response = await _cluster.Anonymous.PostAsync(path, form.Content(Sha1(form), ("x.txt", [1, 2, 3], null)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("FormPost: Form Expired", await response.Content.ReadAsStringAsync());
        Assert.Empty(_cluster.DataFiles());
    }

    [Fact]
    public async Task A_file_larger_than_max_file_size_is_refused_and_stores_nothing()
    {
        var path = $"/v1/{TestCluster.Account}/c/";
        var form = new Form(path, Redirect, MaxFileSize: 1000, MaxFileCount: 1, Expires(TimeSpan.FromMinutes(10)));

        using var response = await _cluster.Anonymous.PostAsync(path, form.Content(Sha1(form), ("big.bin", RandomNumberGenerator.GetBytes(5000), null)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("FormPost: max_file_size exceeded", await response.Content.ReadAsStringAsync());
        using var missing = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("c", "big.bin"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Empty(_cluster.DataFiles());
    }

    [Fact]
    public async Task Files_beyond_max_file_count_are_not_stored_and_the_redirect_says_why()
    {
        var path = $"/v1/{TestCluster.Account}/c/";
        var form = new Form(path, Redirect, MaxFileSize: 1000, MaxFileCount: 1, Expires(TimeSpan.FromMinutes(10)));

        using var response = await _cluster.Anonymous.PostAsync(path, form.Content(Sha1(form), ("one", [1], null), ("two", [2], null)));

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal(Redirect + "?status=400&message=max%20file%20count%20exceeded", response.Headers.Location!.OriginalString);
        using var one = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("c", "one"));
        using var two = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("c", "two"));
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, two.StatusCode);
    }

    [Fact]
    public async Task Sha256_and_sha512_signatures_and_container_keys_are_accepted()
    {
        await _cluster.PutContainerAsync("box", ("X-Container-Meta-Temp-URL-Key", "box-key"));
        var path = $"/v1/{TestCluster.Account}/box/";
        var form = new Form(path, string.Empty, MaxFileSize: 1000, MaxFileCount: 1, Expires(TimeSpan.FromMinutes(10)));
        var message = Encoding.UTF8.GetBytes(form.Message);

        using var sha256 = await _cluster.Anonymous.PostAsync(path, form.Content(Convert.ToHexStringLower(HMACSHA256.HashData("box-key"u8, message)), ("256", [1], null)));
        using var sha512 = await _cluster.Anonymous.PostAsync(path, form.Content("sha512:" + Convert.ToBase64String(HMACSHA512.HashData(Encoding.UTF8.GetBytes(Key), message)), ("512", [2], null)));

        Assert.Equal(HttpStatusCode.Created, sha256.StatusCode);
        Assert.Equal(HttpStatusCode.Created, sha512.StatusCode);
    }

    [Fact]
    public async Task X_delete_after_makes_the_uploads_expire()
    {
        var path = $"/v1/{TestCluster.Account}/c/";
        var form = new Form(path, string.Empty, MaxFileSize: 1000, MaxFileCount: 1, Expires(TimeSpan.FromMinutes(10)));
        using var content = form.Content(Sha1(form), [("x_delete_after", "3600")], ("temporary", [1], null));

        using var response = await _cluster.Anonymous.PostAsync(path, content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var head = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("c", "temporary"));
        var deleteAt = long.Parse(head.Headers.GetValues("X-Delete-At").Single(), CultureInfo.InvariantCulture);
        Assert.InRange(deleteAt - _cluster.Clock.GetUtcNow().ToUnixTimeSeconds(), 3500, 3600);
    }

    [Fact]
    public async Task A_body_that_does_not_start_with_the_boundary_is_400()
    {
        using var content = new ByteArrayContent("garbage\r\n"u8.ToArray());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");

        using var response = await _cluster.Anonymous.PostAsync($"/v1/{TestCluster.Account}/c/", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("FormPost: invalid starting boundary", await response.Content.ReadAsStringAsync());
    }

    private long Expires(TimeSpan after) => (_cluster.Clock.GetUtcNow() + after).ToUnixTimeSeconds();

    private static string Sha1(Form form) => HmacSha1(Key, form.Message);

    [SuppressMessage("Security", "CA5350", Justification = "HMAC-SHA1 is the signature Swift's FormPost forms carry by default.")]
    private static string HmacSha1(string key, string message) =>
        Convert.ToHexStringLower(HMACSHA1.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(message)));

    /// <summary>A form's signed fields, and its body with the files after them, as a browser sends it.</summary>
    private sealed record Form(string Path, string Redirect, long MaxFileSize, int MaxFileCount, long Expires)
    {
        public string Message => $"{Path}\n{Redirect}\n{MaxFileSize}\n{MaxFileCount}\n{Expires}";

        public MultipartFormDataContent Content(string signature, params (string Name, byte[] Bytes, string? Type)[] files) =>
            Content(signature, [], files);

        /// <summary>The body with more fields, such as x_delete_after, before the files: Swift applies only fields that come first.</summary>
        public MultipartFormDataContent Content(string signature, IEnumerable<(string Name, string Value)> fields, params (string Name, byte[] Bytes, string? Type)[] files)
        {
            var content = new MultipartFormDataContent();
            if (Redirect.Length > 0)
            {
                content.Add(new StringContent(Redirect), "redirect");
            }

            content.Add(new StringContent(MaxFileSize.ToString(CultureInfo.InvariantCulture)), "max_file_size");
            content.Add(new StringContent(MaxFileCount.ToString(CultureInfo.InvariantCulture)), "max_file_count");
            content.Add(new StringContent(Expires.ToString(CultureInfo.InvariantCulture)), "expires");
            content.Add(new StringContent(signature), "signature");
            foreach (var (name, value) in fields)
            {
                content.Add(new StringContent(value), name);
            }

            for (var i = 0; i < files.Length; i++)
            {
                var file = new ByteArrayContent(files[i].Bytes);
                if (files[i].Type is { } type)
                {
                    file.Headers.ContentType = new MediaTypeHeaderValue(type);
                }

                content.Add(file, $"file{i + 1}", files[i].Name);
            }

            return content;
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using static Nimbus.Images.Tests.Http.ImagesHttp;

namespace Nimbus.Images.Tests.Http;

/// <summary>The Image v2 API over HTTP, as the openstack client and tempest drive it.</summary>
public sealed class ImagesApiTests : IAsyncLifetime
{
    private ImagesHost _host = null!;
    private HttpClient _alice = null!;
    private HttpClient _bob = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _host = await ImagesHost.StartAsync();
        _alice = _host.Client("alice");
        _bob = _host.Client("bob");
        _admin = _host.Client("admin");
    }

    public async Task DisposeAsync()
    {
        _alice.Dispose();
        _bob.Dispose();
        _admin.Dispose();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Version_discovery_answers_without_a_token()
    {
        using var anonymous = _host.Client(null);
        using var root = await anonymous.GetAsync("/image");
        Assert.Equal(HttpStatusCode.MultipleChoices, root.StatusCode);
        var versions = (await root.ReadJsonAsync()).GetProperty("versions").EnumerateArray().ToList();
        var current = Assert.Single(versions, v => v.GetProperty("status").GetString() == "CURRENT");
        Assert.StartsWith("v2.", current.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal($"{_host.Url}image/v2/", current.GetProperty("links")[0].GetProperty("href").GetString());
        using var listed = await anonymous.GetAsync("/image/versions");
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
    }

    [Fact]
    public async Task Requests_without_a_valid_token_are_401()
    {
        using var anonymous = _host.Client(null);
        using var response = await anonymous.GetAsync("/image/v2/images");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var forged = _host.Client("mallory");
        using var refused = await forged.GetAsync("/image/v2/images");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Create_upload_show_download_with_range_and_delete()
    {
        var created = await _alice.CreateAsync("""{"name": "cirros", "disk_format": "raw", "container_format": "bare", "tags": ["small"], "os_distro": "cirros"}""");
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal("queued", created.GetProperty("status").GetString());
        Assert.Equal("shared", created.GetProperty("visibility").GetString());
        Assert.Equal("project-a", created.GetProperty("owner").GetString());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("size").ValueKind);
        Assert.Equal(JsonValueKind.Null, created.GetProperty("checksum").ValueKind);
        Assert.Equal($"/v2/images/{id}", created.GetProperty("self").GetString());
        Assert.Equal($"/v2/images/{id}/file", created.GetProperty("file").GetString());
        Assert.Equal("/v2/schemas/image", created.GetProperty("schema").GetString());
        Assert.Equal("cirros", created.GetProperty("os_distro").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", created.GetProperty("created_at").GetString());
        Assert.False(created.TryGetProperty("location", out _));

        using (var empty = await _alice.GetAsync($"/image/v2/images/{id}/file"))
        {
            Assert.Equal(HttpStatusCode.NoContent, empty.StatusCode);
        }

        var data = TestImages.Raw(10_000);
        using (var upload = await _alice.PutAsync($"/image/v2/images/{id}/file", Octets(data)))
        {
            Assert.Equal(HttpStatusCode.NoContent, upload.StatusCode);
        }

        using (var again = await _alice.PutAsync($"/image/v2/images/{id}/file", Octets(data)))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }

        using (var show = await _alice.GetAsync($"/image/v2/images/{id}"))
        {
            var image = await show.ReadJsonAsync();
            Assert.Equal("active", image.GetProperty("status").GetString());
            Assert.Equal(10_000, image.GetProperty("size").GetInt64());
            Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), image.GetProperty("checksum").GetString());
            Assert.Equal("sha512", image.GetProperty("os_hash_algo").GetString());
        }

        using (var download = await _alice.GetAsync($"/image/v2/images/{id}/file"))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal("application/octet-stream", download.Content.Headers.ContentType?.MediaType);
            Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), download.Content.Headers.GetValues("Content-MD5").Single());
            Assert.Equal(data, await download.Content.ReadAsByteArrayAsync());
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/image/v2/images/{id}/file"))
        {
            request.Headers.Range = new RangeHeaderValue(1000, 1999);
            using var partial = await _alice.SendAsync(request);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal("bytes 1000-1999/10000", partial.Content.Headers.ContentRange?.ToString());
            Assert.Equal(data[1000..2000], await partial.Content.ReadAsByteArrayAsync());
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/image/v2/images/{id}/file"))
        {
            request.Headers.Range = new RangeHeaderValue(20_000, null);
            using var outside = await _alice.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, outside.StatusCode);
        }

        using (var delete = await _alice.DeleteAsync($"/image/v2/images/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using var gone = await _alice.GetAsync($"/image/v2/images/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(404, (await gone.ReadJsonAsync()).GetProperty("itemNotFound").GetProperty("code").GetInt32());
        Assert.Empty(_host.Store.ImageIds);
    }

    [Fact]
    public async Task Upload_of_data_that_is_not_the_declared_format_kills_the_image()
    {
        var id = (await _alice.CreateAsync("""{"disk_format": "raw", "container_format": "bare"}""")).GetProperty("id").GetString();
        using var upload = await _alice.PutAsync($"/image/v2/images/{id}/file", Octets(TestImages.Qcow2(1 << 20)));
        Assert.Equal(HttpStatusCode.BadRequest, upload.StatusCode);
        using var show = await _alice.GetAsync($"/image/v2/images/{id}");
        Assert.Equal("killed", (await show.ReadJsonAsync()).GetProperty("status").GetString());
        Assert.Empty(_host.Store.ImageIds);
    }

    [Fact]
    public async Task Upload_needs_octet_stream()
    {
        var id = (await _alice.CreateAsync("""{"disk_format": "raw", "container_format": "bare"}""")).GetProperty("id").GetString();
        using var upload = await _alice.PutAsync($"/image/v2/images/{id}/file", Json("{}"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, upload.StatusCode);
    }

    [Fact]
    public async Task Patch_needs_a_json_patch_media_type_and_refuses_read_only_attributes()
    {
        var id = (await _alice.CreateAsync("""{"name": "before"}""")).GetProperty("id").GetString()!;
        using (var wrongType = await _alice.PatchAsync(id, """[{"op": "replace", "path": "/name", "value": "x"}]""", "application/json"))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        }

        using (var readOnly = await _alice.PatchAsync(id, """[{"op": "replace", "path": "/size", "value": 1}]"""))
        {
            Assert.Equal(HttpStatusCode.Forbidden, readOnly.StatusCode);
            Assert.Equal("Attribute 'size' is read-only.", (await readOnly.ReadJsonAsync()).GetProperty("forbidden").GetProperty("message").GetString());
        }

        using (var bad = await _alice.PatchAsync(id, """[{"op": "move", "path": "/name"}]"""))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        using (var malformed = await _alice.PatchAsync(id, """[{"op": """))
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        }

        using var patched = await _alice.PatchAsync(id, """[{"op": "replace", "path": "/name", "value": "after"}, {"op": "add", "path": "/hw_qemu_guest_agent", "value": "yes"}]""");
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var image = await patched.ReadJsonAsync();
        Assert.Equal("after", image.GetProperty("name").GetString());
        Assert.Equal("yes", image.GetProperty("hw_qemu_guest_agent").GetString());

        using var v20 = await _alice.PatchAsync(id, """[{"remove": "/hw_qemu_guest_agent"}]""", "application/openstack-images-v2.0-json-patch");
        Assert.Equal(HttpStatusCode.OK, v20.StatusCode);
        Assert.False((await v20.ReadJsonAsync()).TryGetProperty("hw_qemu_guest_agent", out _));
    }

    [Fact]
    public async Task Listing_follows_next_links_to_the_end()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await _alice.CreateAsync($$"""{"name": "image-{{i}}"}""")).GetProperty("id").GetString()!);
        }

        var seen = new List<string>();
        var next = "/v2/images?limit=2&sort=name:asc";
        using (var first = await _alice.GetAsync("/image" + next))
        {
            var body = await first.ReadJsonAsync();
            Assert.Equal("/v2/images?limit=2&sort=name%3Aasc", body.GetProperty("first").GetString());
            Assert.Equal("/v2/schemas/images", body.GetProperty("schema").GetString());
        }

        while (next is not null)
        {
            using var response = await _alice.GetAsync("/image" + next);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.ReadJsonAsync();
            seen.AddRange(body.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("id").GetString()!));
            next = body.TryGetProperty("next", out var link) ? link.GetString() : null;
        }

        Assert.Equal(ids, seen);
        using var badSort = await _alice.GetAsync("/image/v2/images?sort_key=flavor");
        Assert.Equal(HttpStatusCode.BadRequest, badSort.StatusCode);
    }

    [Fact]
    public async Task An_empty_image_id_is_404_for_show_and_delete()
    {
        using var show = await _alice.GetAsync("/image/v2/images/");
        Assert.Equal(HttpStatusCode.NotFound, show.StatusCode);
        using var delete = await _alice.DeleteAsync("/image/v2/images/");
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        using var list = await _alice.GetAsync("/image/v2/images");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
    }

    [Fact]
    public async Task Private_images_are_404_for_other_projects()
    {
        var id = (await _alice.CreateAsync("""{"visibility": "private"}""")).GetProperty("id").GetString();
        using var show = await _bob.GetAsync($"/image/v2/images/{id}");
        Assert.Equal(HttpStatusCode.NotFound, show.StatusCode);
        using var list = await _bob.GetAsync("/image/v2/images");
        Assert.Empty((await list.ReadJsonAsync()).GetProperty("images").EnumerateArray());
        using var admin = await _admin.GetAsync($"/image/v2/images/{id}");
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Fact]
    public async Task Members_share_an_image_with_another_project()
    {
        var id = (await _alice.CreateAsync("""{"name": "shared"}""")).GetProperty("id").GetString();
        using (var add = await _alice.PostAsync($"/image/v2/images/{id}/members", Json("""{"member": "project-b"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, add.StatusCode);
            var member = await add.ReadJsonAsync();
            Assert.Equal("pending", member.GetProperty("status").GetString());
            Assert.Equal("project-b", member.GetProperty("member_id").GetString());
            Assert.Equal(id, member.GetProperty("image_id").GetString());
            Assert.Equal("/v2/schemas/member", member.GetProperty("schema").GetString());
        }

        using (var duplicate = await _alice.PostAsync($"/image/v2/images/{id}/members", Json("""{"member": "project-b"}""")))
        {
            Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        }

        using (var ownerAccepts = await _alice.PutAsync($"/image/v2/images/{id}/members/project-b", Json("""{"status": "accepted"}""")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, ownerAccepts.StatusCode);
        }

        using (var accept = await _bob.PutAsync($"/image/v2/images/{id}/members/project-b", Json("""{"status": "accepted"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, accept.StatusCode);
            Assert.Equal("accepted", (await accept.ReadJsonAsync()).GetProperty("status").GetString());
        }

        using (var list = await _bob.GetAsync("/image/v2/images"))
        {
            Assert.Equal(id, Assert.Single((await list.ReadJsonAsync()).GetProperty("images").EnumerateArray()).GetProperty("id").GetString());
        }

        using (var members = await _alice.GetAsync($"/image/v2/images/{id}/members"))
        {
            var body = await members.ReadJsonAsync();
            Assert.Equal("/v2/schemas/members", body.GetProperty("schema").GetString());
            Assert.Single(body.GetProperty("members").EnumerateArray());
        }

        using (var show = await _bob.GetAsync($"/image/v2/images/{id}/members/project-b"))
        {
            Assert.Equal(HttpStatusCode.OK, show.StatusCode);
        }

        using (var remove = await _alice.DeleteAsync($"/image/v2/images/{id}/members/project-b"))
        {
            Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);
        }

        using var hidden = await _bob.GetAsync($"/image/v2/images/{id}");
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
    }

    [Fact]
    public async Task Tags_are_put_and_deleted()
    {
        var id = (await _alice.CreateAsync("{}")).GetProperty("id").GetString();
        using (var put = await _alice.PutAsync($"/image/v2/images/{id}/tags/fast", null))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        using (var show = await _alice.GetAsync($"/image/v2/images/{id}"))
        {
            Assert.Equal("fast", Assert.Single((await show.ReadJsonAsync()).GetProperty("tags").EnumerateArray()).GetString());
        }

        using (var delete = await _alice.DeleteAsync($"/image/v2/images/{id}/tags/fast"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using var missing = await _alice.DeleteAsync($"/image/v2/images/{id}/tags/fast");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task The_owner_deactivates_an_image_and_then_only_admins_may_download_it()
    {
        var id = (await _alice.CreateAsync("""{"disk_format": "raw", "container_format": "bare"}""")).GetProperty("id").GetString();
        (await _alice.PutAsync($"/image/v2/images/{id}/file", Octets(TestImages.Raw(100)))).Dispose();
        using (var stranger = await _bob.PostAsync($"/image/v2/images/{id}/actions/deactivate", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, stranger.StatusCode);
        }

        using (var deactivate = await _alice.PostAsync($"/image/v2/images/{id}/actions/deactivate", null))
        {
            Assert.Equal(HttpStatusCode.NoContent, deactivate.StatusCode);
        }

        using (var download = await _alice.GetAsync($"/image/v2/images/{id}/file"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, download.StatusCode);
        }

        using (var byAdmin = await _admin.GetAsync($"/image/v2/images/{id}/file"))
        {
            Assert.Equal(HttpStatusCode.OK, byAdmin.StatusCode);
        }

        using (var reactivate = await _alice.PostAsync($"/image/v2/images/{id}/actions/reactivate", null))
        {
            Assert.Equal(HttpStatusCode.NoContent, reactivate.StatusCode);
        }

        using var allowed = await _alice.GetAsync($"/image/v2/images/{id}/file");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task Glance_direct_import_stages_then_imports_and_web_download_is_refused()
    {
        using (var info = await _alice.GetAsync("/image/v2/info/import"))
        {
            var methods = (await info.ReadJsonAsync()).GetProperty("import-methods").GetProperty("value").EnumerateArray().Select(m => m.GetString()).ToList();
            Assert.Equal(["glance-direct", "web-download"], methods);
        }

        var id = (await _alice.CreateAsync("""{"disk_format": "raw", "container_format": "bare"}""")).GetProperty("id").GetString();
        using (var web = await _alice.PostAsync($"/image/v2/images/{id}/import", Json("""{"method": {"name": "web-download", "uri": "https://example.com/cirros.img"}}""")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, web.StatusCode);
            Assert.Contains("no internet access", (await web.ReadJsonAsync()).GetProperty("badRequest").GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        var data = TestImages.Raw(4096);
        using (var stage = await _alice.PutAsync($"/image/v2/images/{id}/stage", Octets(data)))
        {
            Assert.Equal(HttpStatusCode.NoContent, stage.StatusCode);
        }

        using (var staged = await _alice.GetAsync($"/image/v2/images/{id}"))
        {
            Assert.Equal("uploading", (await staged.ReadJsonAsync()).GetProperty("status").GetString());
        }

        string requestId;
        using (var import = await _alice.PostAsync($"/image/v2/images/{id}/import", Json("""{"method": {"name": "glance-direct"}, "stores": ["memory"]}""")))
        {
            Assert.Equal(HttpStatusCode.Accepted, import.StatusCode);
            requestId = import.Headers.GetValues("x-openstack-request-id").Single();
        }

        using (var active = await _alice.GetAsync($"/image/v2/images/{id}"))
        {
            var image = await active.ReadJsonAsync();
            Assert.Equal("active", image.GetProperty("status").GetString());
            Assert.Equal(4096, image.GetProperty("size").GetInt64());
            Assert.Equal("memory", image.GetProperty("stores").GetString());
        }

        // Tempest checks the import through the image's tasks (Image API 2.12).
        using var tasks = await _alice.GetAsync($"/image/v2/images/{id}/tasks");
        var task = Assert.Single((await tasks.ReadJsonAsync()).GetProperty("tasks").EnumerateArray());
        Assert.Equal("success", task.GetProperty("status").GetString());
        Assert.Equal(requestId, task.GetProperty("request_id").GetString());
        Assert.Equal("glance-direct", task.GetProperty("input").GetProperty("import_req").GetProperty("method").GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("image")]
    [InlineData("images")]
    [InlineData("member")]
    [InlineData("members")]
    public async Task Schemas_are_json_schemas_named_as_glance_names_them(string name)
    {
        using var response = await _alice.GetAsync($"/image/v2/schemas/{name}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var schema = await response.ReadJsonAsync();
        Assert.Equal(name, schema.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Object, schema.GetProperty("properties").ValueKind);
        if (name == "image")
        {
            Assert.True(schema.GetProperty("properties").GetProperty("status").GetProperty("readOnly").GetBoolean());
            Assert.Equal("string", schema.GetProperty("additionalProperties").GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task Stores_info_names_the_one_store()
    {
        using var response = await _alice.GetAsync("/image/v2/info/stores");
        var store = Assert.Single((await response.ReadJsonAsync()).GetProperty("stores").EnumerateArray());
        Assert.True(store.GetProperty("default").GetBoolean());
    }
}

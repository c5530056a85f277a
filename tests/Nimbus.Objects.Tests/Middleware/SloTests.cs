using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Nimbus.Objects.Tests.Proxy;

namespace Nimbus.Objects.Tests.Middleware;

/// <summary>Static large objects through the proxy pipeline, against a real four-node cluster on loopback.</summary>
public sealed class SloTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<(byte[][] Bodies, string[] Etags)> UploadSegmentsAsync(params int[] sizes)
    {
        Assert.Equal(HttpStatusCode.Created, await _cluster.PutContainerAsync("segs"));
        var bodies = sizes.Select(RandomNumberGenerator.GetBytes).ToArray();
        var etags = new string[sizes.Length];
        for (var i = 0; i < sizes.Length; i++)
        {
            using var put = await _cluster.PutObjectAsync("segs", $"big/{i:D3}", bodies[i]);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            etags[i] = Convert.ToHexStringLower(MD5.HashData(bodies[i]));
        }

        return (bodies, etags);
    }

    private static string Manifest(string[] etags, int[] sizes) =>
        JsonSerializer.Serialize(etags.Select((etag, i) => new Dictionary<string, object> { ["path"] = $"/segs/big/{i:D3}", ["etag"] = etag, ["size_bytes"] = sizes[i] }));

    private async Task<HttpResponseMessage> PutManifestAsync(string container, string obj, string manifest, params (string Name, string Value)[] headers) =>
        await _cluster.SendAsync(HttpMethod.Put, TestCluster.PathOf(container, obj) + "?multipart-manifest=put", Encoding.UTF8.GetBytes(manifest), headers);

    private static string EtagOfEtags(IEnumerable<string> etags) => Convert.ToHexStringLower(MD5.HashData(Encoding.ASCII.GetBytes(string.Concat(etags))));

    [Fact]
    public async Task A_manifest_reads_as_the_exact_concatenation_of_its_segments_with_the_etag_of_etags()
    {
        int[] sizes = [300_000, 1_048_576, 700_001];
        var (bodies, etags) = await UploadSegmentsAsync(sizes);
        await _cluster.PutContainerAsync("c");

        using var put = await PutManifestAsync("c", "big.bin", Manifest(etags, sizes));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var expectedEtag = $"\"{EtagOfEtags(etags)}\"";
        Assert.Equal(expectedEtag, put.Headers.GetValues("ETag").Single());

        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "big.bin"));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(bodies.SelectMany(b => b).ToArray(), await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(expectedEtag, get.Headers.GetValues("ETag").Single());
        Assert.Equal(sizes.Sum(), get.Content.Headers.ContentLength);
        Assert.Equal("True", get.Headers.GetValues("X-Static-Large-Object").Single());

        using var head = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("c", "big.bin"));
        Assert.Equal(sizes.Sum(), head.Content.Headers.ContentLength);
        Assert.Equal(expectedEtag, head.Headers.GetValues("ETag").Single());
        Assert.Equal("application/octet-stream", head.Content.Headers.ContentType!.ToString());
    }

    [Fact]
    public async Task A_range_that_spans_two_segments_returns_exactly_those_bytes()
    {
        int[] sizes = [200_000, 200_000, 200_000];
        var (bodies, etags) = await UploadSegmentsAsync(sizes);
        await _cluster.PutContainerAsync("c");
        (await PutManifestAsync("c", "big", Manifest(etags, sizes))).Dispose();
        var whole = bodies.SelectMany(b => b).ToArray();

        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "big"), null, ("Range", "bytes=199990-400009"));

        Assert.Equal(HttpStatusCode.PartialContent, get.StatusCode);
        Assert.Equal("bytes 199990-400009/600000", get.Content.Headers.ContentRange!.ToString());
        Assert.Equal(whole[199_990..400_010], await get.Content.ReadAsByteArrayAsync());

        using var suffix = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "big"), null, ("Range", "bytes=-10"));
        Assert.Equal(whole[^10..], await suffix.Content.ReadAsByteArrayAsync());

        using var unsatisfiable = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "big"), null, ("Range", "bytes=600000-"));
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
    }

    [Fact]
    public async Task A_segment_with_the_wrong_etag_is_refused_with_400_listing_it_and_nothing_is_stored()
    {
        int[] sizes = [100_000, 100_000];
        var (_, etags) = await UploadSegmentsAsync(sizes);
        await _cluster.PutContainerAsync("c");
        var dataFiles = _cluster.DataFiles().Count;

        using var put = await PutManifestAsync("c", "big", Manifest([etags[0], "0123456789abcdef0123456789abcdef"], sizes));

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal("Errors:\n/segs/big/001, Etag Mismatch\n", await put.Content.ReadAsStringAsync());
        using var get = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("c", "big"));
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(dataFiles, _cluster.DataFiles().Count);
    }

    [Fact]
    public async Task A_missing_segment_and_a_wrong_size_are_refused_in_json_when_asked()
    {
        int[] sizes = [100_000];
        var (_, etags) = await UploadSegmentsAsync(sizes);
        await _cluster.PutContainerAsync("c");
        var manifest = JsonSerializer.Serialize(new object[]
        {
            new { path = "/segs/big/000", etag = etags[0], size_bytes = 99 },
            new { path = "/segs/missing", etag = (string?)null, size_bytes = (int?)null },
        });

        using var put = await PutManifestAsync("c", "big", manifest, ("Accept", "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        using var body = JsonDocument.Parse(await put.Content.ReadAsStringAsync());
        var errors = body.RootElement.GetProperty("Errors").EnumerateArray().Select(e => $"{e[0].GetString()}: {e[1].GetString()}").ToList();
        Assert.Equal(["/segs/big/000: Size Mismatch", "/segs/missing: 404 Not Found"], errors);
    }

    [Fact]
    public async Task Malformed_manifests_are_refused_with_swifts_messages()
    {
        await _cluster.PutContainerAsync("c");

        using var notJson = await PutManifestAsync("c", "big", "{not json");
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Equal("Manifest must be valid JSON.\n", await notJson.Content.ReadAsStringAsync());

        using var bad = await PutManifestAsync("c", "big", """[{"path": "nocontainer"}, {"path": "/c/o", "bytes": 1}, {"path": "/c/big"}, {"path": "/c/o", "range": "5-1"}]""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(
            "Index 0: path does not refer to an object. Path must be of the form /container/object.\n"
            + "Index 1: extraneous keys \"bytes\"\n"
            + "Index 2: manifest must not include itself as a segment\n"
            + "Index 3: invalid range\n",
            await bad.Content.ReadAsStringAsync());

        using var reserved = await _cluster.PutObjectAsync("c", "big", [1], ("X-Static-Large-Object", "True"));
        Assert.Equal(HttpStatusCode.BadRequest, reserved.StatusCode);
    }

    [Fact]
    public async Task Multipart_manifest_get_returns_the_stored_manifest_and_format_raw_the_put_form()
    {
        int[] sizes = [100_000, 100_000];
        var (_, etags) = await UploadSegmentsAsync(sizes);
        await _cluster.PutContainerAsync("c");
        (await PutManifestAsync("c", "big", Manifest(etags, sizes))).Dispose();

        using var stored = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "big") + "?multipart-manifest=get");
        Assert.Equal("application/json; charset=utf-8", stored.Content.Headers.ContentType!.ToString());
        using var manifest = JsonDocument.Parse(await stored.Content.ReadAsStringAsync());
        var first = manifest.RootElement[0];
        Assert.Equal("/segs/big/000", first.GetProperty("name").GetString());
        Assert.Equal(etags[0], first.GetProperty("hash").GetString());
        Assert.Equal(100_000, first.GetProperty("bytes").GetInt64());
        Assert.True(first.TryGetProperty("last_modified", out _));

        using var raw = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "big") + "?multipart-manifest=get&format=raw");
        Assert.Equal(
            $"[{{\"etag\": \"{etags[0]}\", \"path\": \"/segs/big/000\", \"size_bytes\": 100000}}, {{\"etag\": \"{etags[1]}\", \"path\": \"/segs/big/001\", \"size_bytes\": 100000}}]",
            await raw.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_nested_manifest_and_segment_ranges_read_as_their_bytes()
    {
        int[] sizes = [150_000, 150_000];
        var (bodies, etags) = await UploadSegmentsAsync(sizes);
        await _cluster.PutContainerAsync("c");
        using var inner = await PutManifestAsync("c", "inner", Manifest(etags, sizes));
        var innerEtag = inner.Headers.GetValues("ETag").Single().Trim('"');
        var outer = JsonSerializer.Serialize(new object[]
        {
            new { path = "/segs/big/001", range = "100-199" },
            new { path = "/c/inner", etag = innerEtag, size_bytes = 300_000 },
        });

        using var put = await PutManifestAsync("c", "outer", outer);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "outer"));
        Assert.Equal(bodies[1][100..200].Concat(bodies[0]).Concat(bodies[1]).ToArray(), await get.Content.ReadAsByteArrayAsync());
        Assert.Equal($"\"{EtagOfEtags([$"{etags[1]}:100-199;", innerEtag])}\"", get.Headers.GetValues("ETag").Single());

        using var ranged = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "outer"), null, ("Range", "bytes=50-150099"));
        Assert.Equal(bodies[1][150..200].Concat(bodies[0]).ToArray(), await ranged.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_segment_that_changed_since_the_manifest_is_a_409_before_the_body_starts()
    {
        int[] sizes = [100_000, 100_000];
        var (_, etags) = await UploadSegmentsAsync(sizes);
        await _cluster.PutContainerAsync("c");
        (await PutManifestAsync("c", "big", Manifest(etags, sizes))).Dispose();
        (await _cluster.PutObjectAsync("segs", "big/000", RandomNumberGenerator.GetBytes(100_000))).Dispose();

        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "big"));

        Assert.Equal(HttpStatusCode.Conflict, get.StatusCode);
    }

    [Fact]
    public async Task A_segment_that_changed_mid_object_drops_the_connection()
    {
        int[] sizes = [100_000, 100_000];
        var (_, etags) = await UploadSegmentsAsync(sizes);
        await _cluster.PutContainerAsync("c");
        (await PutManifestAsync("c", "big", Manifest(etags, sizes))).Dispose();
        (await _cluster.PutObjectAsync("segs", "big/001", RandomNumberGenerator.GetBytes(100_000))).Dispose();

        using var request = new HttpRequestMessage(HttpMethod.Get, TestCluster.PathOf("c", "big"));
        using var get = await _cluster.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Multipart_manifest_delete_removes_the_segments_and_the_manifest()
    {
        int[] sizes = [100_000, 100_000, 100_000];
        var (_, etags) = await UploadSegmentsAsync(sizes);
        await _cluster.PutContainerAsync("c");
        (await PutManifestAsync("c", "big", Manifest(etags, sizes))).Dispose();

        using var delete = await _cluster.SendAsync(HttpMethod.Delete, TestCluster.PathOf("c", "big") + "?multipart-manifest=delete", null, ("Accept", "application/json"));

        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        using var result = JsonDocument.Parse(await delete.Content.ReadAsStringAsync());
        Assert.Equal(4, result.RootElement.GetProperty("Number Deleted").GetInt32());
        Assert.Equal("200 OK", result.RootElement.GetProperty("Response Status").GetString());
        Assert.Empty(result.RootElement.GetProperty("Errors").EnumerateArray());
        using var listing = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("segs"));
        Assert.Equal(HttpStatusCode.NoContent, listing.StatusCode);
        using var manifest = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("c", "big"));
        Assert.Equal(HttpStatusCode.NotFound, manifest.StatusCode);
    }

    [Fact]
    public async Task Multipart_manifest_delete_of_a_plain_object_reports_it_is_not_a_manifest()
    {
        await _cluster.PutContainerAsync("c");
        (await _cluster.PutObjectAsync("c", "plain", [1, 2, 3])).Dispose();

        using var delete = await _cluster.SendAsync(HttpMethod.Delete, TestCluster.PathOf("c", "plain") + "?multipart-manifest=delete");

        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.Equal(
            "Number Deleted: 0\nNumber Not Found: 0\nResponse Body: \nResponse Status: 400 Bad Request\nErrors:\n/c/plain, Not an SLO manifest\n",
            await delete.Content.ReadAsStringAsync());
        using var head = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("c", "plain"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Fact]
    public async Task Info_registers_slos_limits()
    {
        using var info = await _cluster.SendAsync(HttpMethod.Get, "/info");
        using var body = JsonDocument.Parse(await info.Content.ReadAsStringAsync());
        var slo = body.RootElement.GetProperty("slo");
        Assert.Equal(1000, slo.GetProperty("max_manifest_segments").GetInt32());
        Assert.Equal(8 * 1024 * 1024, slo.GetProperty("max_manifest_size").GetInt32());
        Assert.Equal(1, slo.GetProperty("min_segment_size").GetInt32());
        Assert.True(body.RootElement.GetProperty("dlo").TryGetProperty("max_segments", out _));
    }
}

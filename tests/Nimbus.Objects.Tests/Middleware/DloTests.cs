using System.Net;
using System.Security.Cryptography;
using System.Text;
using Nimbus.Objects.Tests.Proxy;

namespace Nimbus.Objects.Tests.Middleware;

/// <summary>Dynamic large objects through the proxy pipeline, against a real four-node cluster on loopback.</summary>
public sealed class DloTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<byte[][]> UploadSegmentsAsync(params int[] sizes)
    {
        Assert.Equal(HttpStatusCode.Created, await _cluster.PutContainerAsync("segs"));
        var bodies = sizes.Select(RandomNumberGenerator.GetBytes).ToArray();

        // Uploaded out of order: the listing's name order decides the concatenation.
        foreach (var i in Enumerable.Range(0, sizes.Length).Reverse())
        {
            using var put = await _cluster.PutObjectAsync("segs", $"movie/{i:D8}", bodies[i]);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        (await _cluster.PutObjectAsync("segs", "other/0", [9, 9, 9])).Dispose();
        return bodies;
    }

    [Fact]
    public async Task A_manifest_reads_as_every_object_under_its_prefix_in_name_order()
    {
        var bodies = await UploadSegmentsAsync(400_000, 1_000_000, 123_456);
        await _cluster.PutContainerAsync("c");
        using var put = await _cluster.PutObjectAsync("c", "movie.mp4", [], ("X-Object-Manifest", "segs/movie/"));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "movie.mp4"));

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(bodies.SelectMany(b => b).ToArray(), await get.Content.ReadAsByteArrayAsync());
        var etags = string.Concat(bodies.Select(b => Convert.ToHexStringLower(MD5.HashData(b))));
        var expected = $"\"{Convert.ToHexStringLower(MD5.HashData(Encoding.ASCII.GetBytes(etags)))}\"";
        Assert.Equal(expected, get.Headers.GetValues("ETag").Single());
        Assert.Equal(bodies.Sum(b => b.Length), get.Content.Headers.ContentLength);

        using var head = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("c", "movie.mp4"));
        Assert.Equal(expected, head.Headers.GetValues("ETag").Single());
        Assert.Equal("segs/movie/", head.Headers.GetValues("X-Object-Manifest").Single());
    }

    [Fact]
    public async Task A_range_across_segments_returns_those_bytes()
    {
        var bodies = await UploadSegmentsAsync(100_000, 100_000, 100_000);
        await _cluster.PutContainerAsync("c");
        (await _cluster.PutObjectAsync("c", "m", [], ("X-Object-Manifest", "segs/movie/"))).Dispose();
        var whole = bodies.SelectMany(b => b).ToArray();

        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "m"), null, ("Range", "bytes=99000-200999"));

        Assert.Equal(HttpStatusCode.PartialContent, get.StatusCode);
        Assert.Equal("bytes 99000-200999/300000", get.Content.Headers.ContentRange!.ToString());
        Assert.Equal(whole[99_000..201_000], await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Multipart_manifest_get_returns_the_manifest_object_itself()
    {
        await UploadSegmentsAsync(1000);
        await _cluster.PutContainerAsync("c");
        (await _cluster.PutObjectAsync("c", "m", [], ("X-Object-Manifest", "segs/movie/"))).Dispose();

        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "m") + "?multipart-manifest=get");

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Empty(await get.Content.ReadAsByteArrayAsync());
        Assert.Equal("d41d8cd98f00b204e9800998ecf8427e", get.Headers.GetValues("ETag").Single());
    }

    [Fact]
    public async Task An_empty_prefix_reads_as_an_empty_object()
    {
        await _cluster.PutContainerAsync("segs");
        await _cluster.PutContainerAsync("c");
        (await _cluster.PutObjectAsync("c", "m", [], ("X-Object-Manifest", "segs/nothing-here/"))).Dispose();

        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "m"));

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(0, get.Content.Headers.ContentLength);
        Assert.Equal("\"d41d8cd98f00b204e9800998ecf8427e\"", get.Headers.GetValues("ETag").Single());
    }

    [Theory]
    [InlineData("no-slash")]
    [InlineData("segs//leading")]
    [InlineData("segs/a?b")]
    public async Task A_malformed_manifest_header_is_refused(string value)
    {
        await _cluster.PutContainerAsync("c");

        using var put = await _cluster.PutObjectAsync("c", "m", [], ("X-Object-Manifest", value));

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal("X-Object-Manifest must be in the format container/prefix", await put.Content.ReadAsStringAsync());
    }
}

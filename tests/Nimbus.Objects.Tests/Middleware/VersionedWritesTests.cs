using System.Net;
using System.Text;
using System.Text.Json;
using Nimbus.Objects.Tests.Proxy;

namespace Nimbus.Objects.Tests.Middleware;

/// <summary>Legacy object versioning: X-Versions-Location (stack) and X-History-Location (history).</summary>
public sealed class VersionedWritesTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Three_puts_then_deletes_walk_back_through_the_versions_in_stack_mode()
    {
        Assert.Equal(HttpStatusCode.Created, await _cluster.PutContainerAsync("versions"));
        Assert.Equal(HttpStatusCode.Created, await _cluster.PutContainerAsync("docs", ("X-Versions-Location", "versions")));
        foreach (var body in (string[])["one", "two", "three"])
        {
            using var put = await _cluster.PutObjectAsync("docs", "o", Encoding.UTF8.GetBytes(body), ("X-Object-Meta-Body", body));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var archived = await ListAsync("versions");
        Assert.Equal(2, archived.Count);
        Assert.All(archived, v => Assert.StartsWith("001o/", v.Name, StringComparison.Ordinal));
        Assert.Equal("one", await GetTextAsync("versions", archived[0].Name));
        Assert.Equal("two", await GetTextAsync("versions", archived[1].Name));
        Assert.Equal("three", await GetTextAsync("docs", "o"));

        using (var first = await _cluster.SendAsync(HttpMethod.Delete, TestCluster.PathOf("docs", "o")))
        {
            Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        }

        Assert.Equal("two", await GetTextAsync("docs", "o"));
        using (var head = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("docs", "o")))
        {
            Assert.Equal("two", head.Headers.GetValues("X-Object-Meta-Body").Single());
        }

        (await _cluster.SendAsync(HttpMethod.Delete, TestCluster.PathOf("docs", "o"))).Dispose();
        Assert.Equal("one", await GetTextAsync("docs", "o"));
        Assert.Empty(await ListAsync("versions"));

        (await _cluster.SendAsync(HttpMethod.Delete, TestCluster.PathOf("docs", "o"))).Dispose();
        using var gone = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("docs", "o"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task History_mode_keeps_every_version_and_a_delete_marker()
    {
        await _cluster.PutContainerAsync("archive");
        await _cluster.PutContainerAsync("docs", ("X-History-Location", "archive"));
        (await _cluster.PutObjectAsync("docs", "a/b", "one"u8.ToArray())).Dispose();
        (await _cluster.PutObjectAsync("docs", "a/b", "two"u8.ToArray())).Dispose();

        using (var delete = await _cluster.SendAsync(HttpMethod.Delete, TestCluster.PathOf("docs", "a/b")))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using (var gone = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("docs", "a/b")))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        var archived = await ListAsync("archive");
        Assert.Equal(3, archived.Count);
        Assert.All(archived, v => Assert.StartsWith("003a/b/", v.Name, StringComparison.Ordinal));
        Assert.Equal("one", await GetTextAsync("archive", archived[0].Name));
        Assert.Equal("two", await GetTextAsync("archive", archived[1].Name));
        Assert.Equal("application/x-deleted;swift_versions_deleted=1", archived[2].ContentType);
        Assert.Equal(0, archived[2].Bytes);
    }

    [Fact]
    public async Task A_stack_mode_delete_after_a_history_delete_marker_restores_the_version_under_it()
    {
        await _cluster.PutContainerAsync("archive");
        await _cluster.PutContainerAsync("docs", ("X-History-Location", "archive"));
        (await _cluster.PutObjectAsync("docs", "o", "one"u8.ToArray())).Dispose();
        (await _cluster.SendAsync(HttpMethod.Delete, TestCluster.PathOf("docs", "o"))).Dispose();

        using (var post = await _cluster.SendAsync(HttpMethod.Post, TestCluster.PathOf("docs"), null, ("X-Versions-Location", "archive")))
        {
            Assert.Equal(HttpStatusCode.NoContent, post.StatusCode);
        }

        (await _cluster.SendAsync(HttpMethod.Delete, TestCluster.PathOf("docs", "o"))).Dispose();

        Assert.Equal("one", await GetTextAsync("docs", "o"));
        Assert.Empty(await ListAsync("archive"));
    }

    [Fact]
    public async Task Setting_both_locations_is_400_and_setting_one_replaces_the_other()
    {
        await _cluster.PutContainerAsync("docs");

        using (var both = await _cluster.SendAsync(HttpMethod.Post, TestCluster.PathOf("docs"), null, ("X-Versions-Location", "v"), ("X-History-Location", "h")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
            Assert.Equal("Only one of x-versions-location or x-history-location may be specified", await both.Content.ReadAsStringAsync());
        }

        using (var slash = await _cluster.SendAsync(HttpMethod.Post, TestCluster.PathOf("docs"), null, ("X-Versions-Location", "v/w")))
        {
            Assert.Equal(HttpStatusCode.PreconditionFailed, slash.StatusCode);
            Assert.Equal("Container name cannot contain slashes", await slash.Content.ReadAsStringAsync());
        }

        (await _cluster.SendAsync(HttpMethod.Post, TestCluster.PathOf("docs"), null, ("X-Versions-Location", "v"))).Dispose();
        (await _cluster.SendAsync(HttpMethod.Post, TestCluster.PathOf("docs"), null, ("X-History-Location", "h"))).Dispose();
        using (var head = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("docs")))
        {
            Assert.Equal("h", head.Headers.GetValues("X-History-Location").Single());
            Assert.False(head.Headers.Contains("X-Versions-Location"));
        }

        (await _cluster.SendAsync(HttpMethod.Post, TestCluster.PathOf("docs"), null, ("X-Remove-Versions-Location", "x"))).Dispose();
        using var removed = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("docs"));
        Assert.False(removed.Headers.Contains("X-History-Location"));
        Assert.False(removed.Headers.Contains("X-Versions-Location"));
    }

    [Fact]
    public async Task An_overwrite_is_refused_with_412_when_the_versions_container_is_missing()
    {
        await _cluster.PutContainerAsync("docs", ("X-Versions-Location", "missing"));
        using (var first = await _cluster.PutObjectAsync("docs", "o", "one"u8.ToArray()))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        using var second = await _cluster.PutObjectAsync("docs", "o", "two"u8.ToArray());

        Assert.Equal(HttpStatusCode.PreconditionFailed, second.StatusCode);
        Assert.Equal("one", await GetTextAsync("docs", "o"));
    }

    [Fact]
    public async Task Info_lists_staticweb_and_the_versioning_flags()
    {
        using var anonymous = new HttpClient { BaseAddress = _cluster.Url };
        using var info = JsonDocument.Parse(await anonymous.GetStringAsync("/info"));

        Assert.True(info.RootElement.TryGetProperty("staticweb", out _));
        var flags = info.RootElement.GetProperty("versioned_writes").GetProperty("allowed_flags").EnumerateArray().Select(f => f.GetString()).ToList();
        Assert.Equal(["x-versions-location", "x-history-location"], flags);
    }

    private async Task<string> GetTextAsync(string container, string obj)
    {
        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf(container, obj));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        return await get.Content.ReadAsStringAsync();
    }

    private async Task<List<(string Name, string ContentType, long Bytes)>> ListAsync(string container)
    {
        using var response = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf(container) + "?format=json");
        using var listing = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return [.. listing.RootElement.EnumerateArray().Select(e => (e.GetProperty("name").GetString()!, e.GetProperty("content_type").GetString()!, e.GetProperty("bytes").GetInt64()))];
    }
}

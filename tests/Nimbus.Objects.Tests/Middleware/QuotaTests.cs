using System.Net;
using System.Text.Json;
using Nimbus.Objects.Middleware;
using Nimbus.Objects.Tests.Proxy;

namespace Nimbus.Objects.Tests.Middleware;

/// <summary>Container and account quotas through the proxy, against a real four-node cluster.</summary>
public sealed class QuotaTests : IAsyncLifetime
{
    /// <summary>An account admin who is not a reseller admin: it owns AUTH_admin but may not set its quota.</summary>
    private static readonly TempAuthUser Owner = new("admin", "owner", "owner-key", [".admin"]);

    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(users: [Owner]);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task An_upload_past_the_container_bytes_quota_is_refused_with_413_and_stores_nothing()
    {
        Assert.Equal(HttpStatusCode.Created, await _cluster.PutContainerAsync("c", ("X-Container-Meta-Quota-Bytes", "10")));
        using var first = await _cluster.PutObjectAsync("c", "first", new byte[6]);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        using var second = await _cluster.PutObjectAsync("c", "second", new byte[5]);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, second.StatusCode);
        Assert.Equal("Upload exceeds quota.", await second.Content.ReadAsStringAsync());
        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "second"));
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(3, _cluster.DataFiles().Count);
        using var fits = await _cluster.PutObjectAsync("c", "fits", new byte[4]);
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
    }

    [Fact]
    public async Task An_upload_past_the_container_count_quota_is_refused_with_413()
    {
        await _cluster.PutContainerAsync("c", ("X-Container-Meta-Quota-Count", "1"));
        (await _cluster.PutObjectAsync("c", "one", [1])).Dispose();

        using var two = await _cluster.PutObjectAsync("c", "two", [1]);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, two.StatusCode);
        Assert.Equal("Upload exceeds quota.", await two.Content.ReadAsStringAsync());
        Assert.Equal(3, _cluster.DataFiles().Count);
    }

    [Fact]
    public async Task A_copy_into_a_container_counts_the_source_size_against_its_quota()
    {
        await _cluster.PutContainerAsync("source");
        (await _cluster.PutObjectAsync("source", "big", new byte[8])).Dispose();
        await _cluster.PutContainerAsync("small", ("X-Container-Meta-Quota-Bytes", "5"));

        using var copyFrom = await _cluster.SendAsync(HttpMethod.Put, TestCluster.PathOf("small", "copy"), [], ("X-Copy-From", "/source/big"));
        using var copy = await _cluster.SendAsync(new HttpMethod("COPY"), TestCluster.PathOf("source", "big"), null, ("Destination", "small/copy"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, copyFrom.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, copy.StatusCode);
        Assert.Equal(3, _cluster.DataFiles().Count);
    }

    [Theory]
    [InlineData("X-Container-Meta-Quota-Bytes", "-1", "Invalid bytes quota.")]
    [InlineData("X-Container-Meta-Quota-Bytes", "10k", "Invalid bytes quota.")]
    [InlineData("X-Container-Meta-Quota-Count", "many", "Invalid count quota.")]
    public async Task A_quota_that_is_not_a_non_negative_integer_is_refused_and_not_set(string header, string value, string message)
    {
        await _cluster.PutContainerAsync("c");

        using var post = await _cluster.SendAsync(HttpMethod.Post, TestCluster.PathOf("c"), null, (header, value));
        using var put = await _cluster.SendAsync(HttpMethod.Put, TestCluster.PathOf("d"), null, (header, value));

        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Equal(message, await post.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        using var head = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("c"));
        Assert.False(head.Headers.Contains(header));
        using var missing = await _cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("d"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Only_a_reseller_admin_may_set_the_account_quota()
    {
        var owner = await _cluster.TokenForAsync(Owner);
        var account = $"/v1/{TestCluster.Account}";

        using var byOwner = await _cluster.SendAsync(HttpMethod.Post, account, null, ("X-Auth-Token", owner), ("X-Account-Meta-Quota-Bytes", "100"));
        using var removeByOwner = await _cluster.SendAsync(HttpMethod.Post, account, null, ("X-Auth-Token", owner), ("X-Remove-Account-Meta-Quota-Bytes", "x"));
        using var invalid = await _cluster.SendAsync(HttpMethod.Post, account, null, ("X-Account-Meta-Quota-Bytes", "lots"));
        using var byReseller = await _cluster.SendAsync(HttpMethod.Post, account, null, ("X-Account-Meta-Quota-Bytes", "100"));

        Assert.Equal(HttpStatusCode.Forbidden, byOwner.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, removeByOwner.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, byReseller.StatusCode);
        using var head = await _cluster.SendAsync(HttpMethod.Head, account);
        Assert.Equal("100", head.Headers.GetValues("X-Account-Meta-Quota-Bytes").Single());
    }

    [Fact]
    public async Task An_upload_past_the_account_quota_is_refused_with_413_once_the_account_stats_catch_up()
    {
        var owner = await _cluster.TokenForAsync(Owner);
        await _cluster.PutContainerAsync("c");
        using (var set = await _cluster.SendAsync(HttpMethod.Post, $"/v1/{TestCluster.Account}", null, ("X-Account-Meta-Quota-Bytes", "10")))
        {
            Assert.Equal(HttpStatusCode.NoContent, set.StatusCode);
        }

        using var first = await _cluster.PutObjectAsync("c", "first", new byte[8], ("X-Auth-Token", owner));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        foreach (var node in _cluster.Cluster.Nodes)
        {
            await node.ContainerUpdater.RunChangedAsync(CancellationToken.None);
        }

        using var over = await _cluster.PutObjectAsync("c", "over", new byte[3], ("X-Auth-Token", owner));
        using var byReseller = await _cluster.PutObjectAsync("c", "reseller", new byte[3]);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.StatusCode);
        Assert.Equal("Upload exceeds quota.", await over.Content.ReadAsStringAsync());
        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf("c", "over"));
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.Created, byReseller.StatusCode);
    }

    [Fact]
    public async Task Info_lists_both_quota_filters()
    {
        using var info = JsonDocument.Parse(await _cluster.Http.GetStringAsync("/info"));

        Assert.Equal(JsonValueKind.Object, info.RootElement.GetProperty("container_quotas").ValueKind);
        Assert.Equal(JsonValueKind.Object, info.RootElement.GetProperty("account_quotas").ValueKind);
    }
}

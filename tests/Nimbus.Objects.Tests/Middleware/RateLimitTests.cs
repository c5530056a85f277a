using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nimbus.Objects.Middleware;
using Nimbus.Objects.Proxy;
using Nimbus.Objects.Tests.Proxy;

namespace Nimbus.Objects.Tests.Middleware;

/// <summary>Swift's rate limits: the algorithm on a fake clock, and 498 through a real cluster.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public void Each_request_over_the_rate_waits_one_interval_more_until_the_max_sleep_refuses_it()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        var limiter = new RateLimit(new RateLimitSettings { MaxSleepTimeSeconds = 1 }, clock, NullLogger.Instance, new SwiftInfo());

        Assert.True(limiter.TryReserve("ratelimit/AUTH_a", 4, out var first));
        Assert.True(limiter.TryReserve("ratelimit/AUTH_a", 4, out var second));
        Assert.True(limiter.TryReserve("ratelimit/AUTH_a", 4, out var third));
        Assert.Equal(TimeSpan.Zero, first);
        Assert.Equal(TimeSpan.FromMilliseconds(250), second);
        Assert.Equal(TimeSpan.FromMilliseconds(500), third);
        Assert.True(limiter.TryReserve("ratelimit/AUTH_a", 4, out _));
        Assert.False(limiter.TryReserve("ratelimit/AUTH_a", 4, out var refused));
        Assert.Equal(TimeSpan.FromSeconds(1), refused);

        // A refused request is not counted, and time frees the key again.
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(limiter.TryReserve("ratelimit/AUTH_a", 4, out var later));
        Assert.Equal(TimeSpan.Zero, later);
        Assert.True(limiter.TryReserve("ratelimit/AUTH_b", 4, out var otherKey));
        Assert.Equal(TimeSpan.Zero, otherKey);
    }

    [Theory]
    [InlineData(0, null)]
    [InlineData(1, 95.0)]
    [InlineData(5, 75.0)]
    [InlineData(10, 50.0)]
    [InlineData(30, 35.0)]
    [InlineData(1000, 20.0)]
    public void Container_rates_are_interpolated_between_the_configured_sizes(long size, double? rate)
    {
        var steps = RateLimit.Steps(new Dictionary<long, double> { [0] = 100, [10] = 50, [50] = 20 });

        Assert.Equal(rate, RateLimit.MaxRate(steps, size));
    }

    [Fact]
    public async Task Container_puts_over_the_account_rate_are_refused_with_498_until_the_clock_moves_on()
    {
        await using var cluster = await TestCluster.StartAsync(settings => settings with { RateLimit = new() { AccountRateLimit = 1, MaxSleepTimeSeconds = 0.5 } });

        Assert.Equal(HttpStatusCode.Created, await cluster.PutContainerAsync("first"));
        using var limited = await cluster.SendAsync(HttpMethod.Put, TestCluster.PathOf("second"));

        Assert.Equal(498, (int)limited.StatusCode);
        Assert.Equal("Rate Limited", limited.ReasonPhrase);
        Assert.Equal("Slow down", await limited.Content.ReadAsStringAsync());
        using var head = await cluster.SendAsync(HttpMethod.Head, TestCluster.PathOf("second"));
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        using (var objectPut = await cluster.PutObjectAsync("first", "o", [1]))
        {
            // Object writes do not count against the account's container rate.
            Assert.Equal(HttpStatusCode.Created, objectPut.StatusCode);
        }

        cluster.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(HttpStatusCode.Created, await cluster.PutContainerAsync("second"));
    }

    [Fact]
    public async Task Object_writes_over_the_container_rate_are_refused_with_498()
    {
        await using var cluster = await TestCluster.StartAsync(settings => settings with
        {
            RateLimit = new() { MaxSleepTimeSeconds = 0.5, ContainerRateLimits = new Dictionary<long, double> { [1] = 1 } },
        });
        await cluster.PutContainerAsync("c");

        // An empty container is not limited; from one object on, one write a second. The proxy
        // learns the container's size from its info cache, as Swift's from memcache, so the
        // limit applies once that cache has been refreshed.
        using var intoEmpty = await cluster.PutObjectAsync("c", "a", [1]);
        cluster.Clock.Advance(TimeSpan.FromSeconds(11));
        using var first = await cluster.PutObjectAsync("c", "b", [1]);
        using var limited = await cluster.PutObjectAsync("c", "c", [1]);

        Assert.Equal(HttpStatusCode.Created, intoEmpty.StatusCode);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(498, (int)limited.StatusCode);
        Assert.Equal(6, cluster.DataFiles().Count);
        using var info = JsonDocument.Parse(await cluster.Http.GetStringAsync("/info"));
        var ratelimit = info.RootElement.GetProperty("ratelimit");
        Assert.Equal(0.5, ratelimit.GetProperty("max_sleep_time_seconds").GetDouble());
        Assert.Equal(0, ratelimit.GetProperty("account_ratelimit").GetDouble());
        Assert.Equal("[[1,1]]", ratelimit.GetProperty("container_ratelimits").GetRawText());
    }
}

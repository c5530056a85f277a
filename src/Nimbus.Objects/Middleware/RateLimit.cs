using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>Swift's [filter:ratelimit] options; every limit is off by default, as in Swift.</summary>
public sealed record RateLimitSettings
{
    /// <summary>Container PUTs and DELETEs per second per account (account_ratelimit); 0 is off.</summary>
    public double AccountRateLimit { get; init; }

    /// <summary>The longest a request is held back before it is refused with 498.</summary>
    public double MaxSleepTimeSeconds { get; init; } = 60;

    /// <summary>How closely the proxies' clocks agree, in ticks per second; no rate should exceed it.</summary>
    public int ClockAccuracy { get; init; } = 1000;

    /// <summary>How far a slow key may run behind and still catch up in a burst.</summary>
    public int RateBufferSeconds { get; init; } = 5;

    /// <summary>container_ratelimit_&lt;size&gt;: object writes per second per container of at least that many objects, interpolated between sizes.</summary>
    public IReadOnlyDictionary<long, double> ContainerRateLimits { get; init; } = new Dictionary<long, double>();

    /// <summary>container_listing_ratelimit_&lt;size&gt;: container GETs per second, by container size the same way.</summary>
    public IReadOnlyDictionary<long, double> ContainerListingRateLimits { get; init; } = new Dictionary<long, double>();
}

/// <summary>
/// Swift's ratelimit (swift/common/middleware/ratelimit.py): per account, container PUTs and
/// DELETEs; per container, object writes and listings at a rate set by the container's size. A
/// request over the rate waits its turn, and one that would wait longer than max_sleep_time_seconds
/// is refused with 498. Swift keeps the next-allowed times in memcache, shared by all proxies; here
/// each proxy keeps its own in memory, so N proxies admit up to N times the rate.
/// </summary>
public sealed class RateLimit : IProxyMiddleware
{
    /// <summary>Past this many keys, ones idle for an hour are dropped (memcache would evict them).</summary>
    private const int PruneAbove = 10_000;

    private readonly RateLimitSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<RateStep> _containerRates;
    private readonly List<RateStep> _listingRates;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _nextAllowed = new(StringComparer.Ordinal);

    public RateLimit(RateLimitSettings settings, TimeProvider time, ILogger logger, SwiftInfo info)
    {
        _settings = settings;
        _time = time;
        _logger = logger;
        _containerRates = Steps(settings.ContainerRateLimits);
        _listingRates = Steps(settings.ContainerListingRateLimits);
        info.Register("ratelimit", new JsonObject
        {
            ["account_ratelimit"] = settings.AccountRateLimit,
            ["max_sleep_time_seconds"] = settings.MaxSleepTimeSeconds,
            ["container_ratelimits"] = Info(settings.ContainerRateLimits),
            ["container_listing_ratelimits"] = Info(settings.ContainerListingRateLimits),
        });
    }

    public string Name => "ratelimit";

    public async Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        var swift = SwiftContext.Get(context);
        if (swift is null)
        {
            await downstream(context);
            return;
        }

        foreach (var (key, rate) in await KeysAsync(context, swift, downstream))
        {
            if (!TryReserve(key, rate, out var wait))
            {
                var path = swift.Account + "/" + swift.Container + (swift.ObjectName is null ? string.Empty : "/" + swift.ObjectName);
                ObjectsLog.RateLimited(_logger, context.Request.Method, path, wait.TotalSeconds);
                var response = context.Features.Get<IHttpResponseFeature>();
                if (response is not null)
                {
                    response.ReasonPhrase = "Rate Limited";
                }

                await SwiftResponse.WriteAsync(context, SwiftResponse.RateLimited, "Slow down");
                return;
            }

            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, context.RequestAborted);
            }
        }

        await downstream(context);
    }

    /// <summary>Swift's get_ratelimitable_key_tuples: the keys this request counts against, with their rates. COPYs of containers are not limited.</summary>
    private async Task<List<(string Key, double Rate)>> KeysAsync(HttpContext context, SwiftContext swift, RequestDelegate downstream)
    {
        var keys = new List<(string, double)>();
        var method = context.Request.Method;
        if (swift.Container is null)
        {
            return keys;
        }

        if (swift.ObjectName is null)
        {
            if (_settings.AccountRateLimit > 0 && (HttpMethods.IsPut(method) || HttpMethods.IsDelete(method)))
            {
                keys.Add(($"ratelimit/{swift.Account}", _settings.AccountRateLimit));
            }

            if (HttpMethods.IsGet(method) && _listingRates.Count > 0
                && MaxRate(_listingRates, await ContainerSizeAsync(context, swift, downstream)) is > 0 and var listingRate)
            {
                keys.Add(($"ratelimit_listing/{swift.Account}/{swift.Container}", listingRate));
            }
        }
        else if ((HttpMethods.IsPut(method) || HttpMethods.IsDelete(method) || HttpMethods.IsPost(method) || method == "COPY")
            && _containerRates.Count > 0
            && MaxRate(_containerRates, await ContainerSizeAsync(context, swift, downstream)) is > 0 and var rate)
        {
            keys.Add(($"ratelimit/{swift.Account}/{swift.Container}", rate));
        }

        return keys;
    }

    /// <summary>
    /// Swift's _get_sleep_time: each request pushes the key's next-allowed time one interval
    /// (1/rate) further; a key left idle past the rate buffer starts afresh from now. False when
    /// the wait would reach max_sleep_time_seconds, and then the request is not counted.
    /// </summary>
    internal bool TryReserve(string key, double rate, out TimeSpan wait)
    {
        var accuracy = _settings.ClockAccuracy;
        var now = (long)Math.Round(_time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0 * accuracy);
        var interval = (long)Math.Round(accuracy / rate);
        long needed;
        lock (_lock)
        {
            // memcache's incr: a missing key starts at the increment.
            var running = _nextAllowed.TryGetValue(key, out var stored) ? stored + interval : interval;
            _nextAllowed[key] = running;
            needed = 0;
            if (now - running > (long)_settings.RateBufferSeconds * accuracy)
            {
                _nextAllowed[key] = now + interval;
            }
            else
            {
                needed = Math.Max(running - now - interval, 0);
            }

            if ((_settings.MaxSleepTimeSeconds * accuracy) - needed <= accuracy * 0.01)
            {
                _nextAllowed[key] -= interval;
                wait = TimeSpan.FromSeconds((double)needed / accuracy);
                return false;
            }

            if (_nextAllowed.Count > PruneAbove)
            {
                var idle = now - ((_settings.RateBufferSeconds + 3600L) * accuracy);
                foreach (var stale in _nextAllowed.Where(k => k.Value < idle).Select(k => k.Key).ToList())
                {
                    _nextAllowed.Remove(stale);
                }
            }
        }

        wait = TimeSpan.FromSeconds((double)needed / accuracy);
        return true;
    }

    /// <summary>The container's object count, read as Swift's get_container_info does; 0 when it cannot be read.</summary>
    private static async Task<long> ContainerSizeAsync(HttpContext context, SwiftContext swift, RequestDelegate downstream)
    {
        var path = $"/{SwiftPath.Encode(swift.Version)}/{SwiftPath.Encode(swift.Account)}/{SwiftPath.Encode(swift.Container!)}";
        var (found, headers) = await QuotaUpload.HeadAsync(context, downstream, path);
        return found && long.TryParse(headers["X-Container-Object-Count"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 0;
    }

    /// <summary>Swift's get_maxrate: the rate of the largest configured size not above the container's, on the line to the next; an empty container is not limited.</summary>
    internal static double? MaxRate(IReadOnlyList<RateStep> steps, long size)
    {
        if (size == 0)
        {
            return null;
        }

        RateStep? last = null;
        foreach (var step in steps)
        {
            if (size < step.Size)
            {
                break;
            }

            last = step;
        }

        return last is { } found ? found.Rate + ((size - found.Size) * found.Slope) : null;
    }

    /// <summary>Swift's interpret_conf_limits: sizes in order, each with the slope towards the next size's rate (0 after the last).</summary>
    internal static List<RateStep> Steps(IReadOnlyDictionary<long, double> limits)
    {
        var sorted = limits.OrderBy(l => l.Key).ToList();
        return [.. sorted.Select((limit, i) => new RateStep(
            limit.Key,
            limit.Value,
            i + 1 < sorted.Count ? (sorted[i + 1].Value - limit.Value) / (sorted[i + 1].Key - limit.Key) : 0))];
    }

    private static JsonArray Info(IReadOnlyDictionary<long, double> limits) =>
        [.. limits.OrderBy(l => l.Key).Select(l => (JsonNode)new JsonArray(l.Key, l.Value))];

    internal readonly record struct RateStep(long Size, double Rate, double Slope);
}

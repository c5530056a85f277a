using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Nimbus.Images.Stores;

/// <summary>
/// Swift store factories a host passes to <c>AddNimbusImages</c>, beside <c>ImageStoreFactories</c>;
/// each store gets its own HttpClient with no overall timeout (an upload lasts as long as its client sends).
/// </summary>
public static class SwiftImageStoreFactories
{
    /// <summary>Images in object storage, logging in with tempauth (<paramref name="user"/> is <c>account:user</c>).</summary>
    public static Func<IServiceProvider, IImageStore> TempAuth(Uri proxyUrl, string user, string key, string container = "glance", long segmentSize = 1L << 30) =>
        provider =>
        {
            var http = NewClient();
            var auth = new SwiftTempAuth(http, proxyUrl, user, key, provider.GetService<TimeProvider>() ?? TimeProvider.System);
            return Build(provider, http, proxyUrl, auth.GetAsync, container, segmentSize);
        };

    /// <summary>Images in object storage with credentials from elsewhere (an Identity service token and the account's storage URL).</summary>
    public static Func<IServiceProvider, IImageStore> WithCredentials(
        Uri proxyUrl, Func<CancellationToken, Task<SwiftCredentials>> credentials, string container = "glance", long segmentSize = 1L << 30) =>
        provider => Build(provider, NewClient(), proxyUrl, credentials, container, segmentSize);

    private static SwiftImageStore Build(
        IServiceProvider provider, HttpClient http, Uri proxyUrl, Func<CancellationToken, Task<SwiftCredentials>> credentials, string container, long segmentSize) =>
        new(http, proxyUrl, credentials, new SwiftImageStoreOptions { Container = container, SegmentSize = segmentSize }, provider.GetService<ILogger<SwiftImageStore>>());

    private static HttpClient NewClient() =>
        new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
}

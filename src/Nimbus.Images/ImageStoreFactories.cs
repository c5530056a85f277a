using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nimbus.Images.Stores;

namespace Nimbus.Images;

/// <summary>
/// The stores a host passes to <c>AddNimbusImages</c>, one factory per backend; the stores
/// themselves stay internal. Swift stores get an HttpClient of their own with no overall timeout:
/// an upload lasts as long as its client sends.
/// </summary>
public static class ImageStoreFactories
{
    /// <summary>
    /// Image data in files under <paramref name="directory"/> (by default <c>$NIMBUS_HOME/images/store</c>).
    /// Temp files a crash left mid-write are removed when the store is built, which happens before
    /// the first request.
    /// </summary>
    public static Func<IServiceProvider, IImageStore> File(string directory) =>
        provider =>
        {
            var store = new FileImageStore(directory, provider.GetService<ILogger<FileImageStore>>());
            store.RemoveAbandonedWrites();
            return store;
        };

    /// <summary>The default directory of the file store under a Nimbus home.</summary>
    public static string DefaultFileDirectory(string nimbusHome) => FileImageStore.DefaultDirectory(nimbusHome);

    /// <summary>Image data in memory, for tests and throwaway hosts only.</summary>
    public static Func<IServiceProvider, IImageStore> Memory() => _ => new MemoryImageStore();

    /// <summary>Images in object storage, logging in with tempauth (<paramref name="user"/> is <c>account:user</c>).</summary>
    public static Func<IServiceProvider, IImageStore> SwiftTempAuth(Uri proxyUrl, string user, string key, string container = "glance", long segmentSize = 1L << 30) =>
        SwiftTempAuth(_ => Task.FromResult(proxyUrl), () => (user, key), container, segmentSize);

    /// <summary>
    /// Images in object storage whose address is known only once the host listens (the all-in-one's
    /// own proxy on port 0): the login waits for <paramref name="proxyUrl"/> and asks
    /// <paramref name="credentials"/> for tempauth's account:user and key then.
    /// </summary>
    public static Func<IServiceProvider, IImageStore> SwiftTempAuth(
        Func<CancellationToken, Task<Uri>> proxyUrl, Func<(string User, string Key)> credentials, string container = "glance", long segmentSize = 1L << 30) =>
        provider =>
        {
            var http = NewSwiftClient();
            var time = provider.GetService<TimeProvider>() ?? TimeProvider.System;
            Stores.SwiftTempAuth? login = null;
            var gate = new SemaphoreSlim(1, 1);
            async Task<SwiftCredentials> LoginAsync(CancellationToken cancellationToken)
            {
                if (login is null)
                {
                    await gate.WaitAsync(cancellationToken);
                    try
                    {
                        var (user, key) = credentials();
                        login ??= new Stores.SwiftTempAuth(http, await proxyUrl(cancellationToken), user, key, time);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }

                return await login.GetAsync(cancellationToken);
            }

            // tempauth answers with an absolute storage URL, so the store's own base address is never used to resolve one.
            return Swift(provider, http, new Uri("http://localhost/"), LoginAsync, container, segmentSize);
        };

    /// <summary>Images in object storage with credentials from elsewhere (an Identity token and the account's storage URL).</summary>
    public static Func<IServiceProvider, IImageStore> SwiftWithCredentials(
        Uri proxyUrl, Func<CancellationToken, Task<SwiftCredentials>> credentials, string container = "glance", long segmentSize = 1L << 30) =>
        provider => Swift(provider, NewSwiftClient(), proxyUrl, credentials, container, segmentSize);

    private static SwiftImageStore Swift(
        IServiceProvider provider, HttpClient http, Uri proxyUrl, Func<CancellationToken, Task<SwiftCredentials>> credentials, string container, long segmentSize) =>
        new(http, proxyUrl, credentials, new SwiftImageStoreOptions { Container = container, SegmentSize = segmentSize }, provider.GetService<ILogger<SwiftImageStore>>());

    private static HttpClient NewSwiftClient() =>
        new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
}

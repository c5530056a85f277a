using Microsoft.Extensions.Logging;

namespace Nimbus.Images.Stores;

/// <summary>The stores a host can choose, built from what it knows.</summary>
public static class ImageStores
{
    /// <summary>Images as files in <paramref name="directory"/> (default $NIMBUS_HOME/images/store).</summary>
    public static IImageStore File(string directory, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        return new FileImageStore(directory, loggers.CreateLogger<FileImageStore>());
    }

    public static string DefaultFileDirectory(string nimbusHome) => FileImageStore.DefaultDirectory(nimbusHome);

    /// <summary>
    /// Images in the cloud's own object storage, through its Swift API at the address
    /// <paramref name="proxyUrl"/> gives once the host listens, logged in with tempauth's
    /// <paramref name="credentials"/> (account:user and key).
    /// </summary>
    public static IImageStore Swift(
        Func<CancellationToken, Task<Uri>> proxyUrl,
        Func<(string User, string Key)> credentials,
        string container,
        TimeProvider time,
        ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(proxyUrl);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(loggers);
        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        var login = new Lazy<Task<SwiftTempAuth>>(async () =>
        {
            var url = await proxyUrl(CancellationToken.None);
            var (user, key) = credentials();
            return new SwiftTempAuth(http, url, user, key, time);
        });

        // SwiftTempAuth always answers with an absolute storage URL, so the store never needs its own base address.
        return new SwiftImageStore(
            http,
            new Uri("http://localhost/"),
            async cancellationToken => await (await login.Value.WaitAsync(cancellationToken)).GetAsync(cancellationToken),
            new SwiftImageStoreOptions { Container = container },
            loggers.CreateLogger<SwiftImageStore>());
    }
}

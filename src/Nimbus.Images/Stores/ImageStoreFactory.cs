using Microsoft.Extensions.Logging;
using Nimbus.Platform.Errors;

namespace Nimbus.Images.Stores;

/// <summary>
/// Which store holds image bytes and how to reach it; the daemon binds these from its configuration
/// (glance_store's default_store, filesystem_store_datadir, swift_store_*).
/// </summary>
internal sealed record ImageStoreSettings
{
    /// <summary><c>file</c> (the default) or <c>swift</c>.</summary>
    public string Backend { get; init; } = "file";

    /// <summary>The file store's directory; default <c>$NIMBUS_HOME/images/store</c>.</summary>
    public string? Directory { get; init; }

    /// <summary>The Swift proxy's base URL (the API host's URL in the all-in-one).</summary>
    public Uri? SwiftProxyUrl { get; init; }

    /// <summary>tempauth <c>account:user</c>; unused when the caller supplies credentials (Identity tokens).</summary>
    public string? SwiftUser { get; init; }

    public string? SwiftKey { get; init; }

    public string SwiftContainer { get; init; } = "glance";

    public long SwiftSegmentSize { get; init; } = 1L << 30;
}

/// <summary>The one registry from a backend name to its <see cref="IImageStore"/>.</summary>
internal static class ImageStoreFactory
{
    public static readonly IReadOnlyList<string> Backends = ["file", "swift"];

    /// <param name="settings">The chosen backend and its settings.</param>
    /// <param name="nimbusHome">The state directory, under which the file store lives by default.</param>
    /// <param name="http">The client the swift store talks to the proxy with; its Timeout must be infinite (uploads last as long as the client sends).</param>
    /// <param name="time">The clock deciding when tempauth tokens are renewed.</param>
    /// <param name="loggers">Where stores log.</param>
    /// <param name="swiftCredentials">Overrides tempauth (e.g. a service token from Identity); null uses SwiftUser/SwiftKey.</param>
    /// <param name="settingsPrefix">How the settings are named in configuration, for error messages (<c>Images:Store</c>).</param>
    public static IImageStore Create(
        ImageStoreSettings settings,
        string nimbusHome,
        HttpClient http,
        TimeProvider time,
        ILoggerFactory loggers,
        Func<CancellationToken, Task<SwiftCredentials>>? swiftCredentials = null,
        string settingsPrefix = "Images:Store")
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggers);
        switch (settings.Backend.ToLowerInvariant())
        {
            case "file":
                return new FileImageStore(settings.Directory ?? FileImageStore.DefaultDirectory(nimbusHome), loggers.CreateLogger<FileImageStore>());

            case "swift":
                var proxy = settings.SwiftProxyUrl ?? throw Missing(settingsPrefix, "SwiftProxyUrl", "the Swift proxy's URL, such as http://127.0.0.1:8080");
                if (swiftCredentials is null)
                {
                    var user = settings.SwiftUser ?? throw Missing(settingsPrefix, "SwiftUser", "a tempauth account:user such as AUTH_admin:admin");
                    var key = settings.SwiftKey ?? throw Missing(settingsPrefix, "SwiftKey", "that user's key");
                    swiftCredentials = new SwiftTempAuth(http, proxy, user, key, time).GetAsync;
                }

                if (settings.SwiftSegmentSize < 1)
                {
                    throw new ConfigurationException("config.image_store", $"{settingsPrefix}:SwiftSegmentSize",
                        $"{settingsPrefix}:SwiftSegmentSize must be a positive number of bytes (default 1073741824).");
                }

                return new SwiftImageStore(http, proxy, swiftCredentials,
                    new SwiftImageStoreOptions { Container = settings.SwiftContainer, SegmentSize = settings.SwiftSegmentSize },
                    loggers.CreateLogger<SwiftImageStore>());

            default:
                throw new ConfigurationException("config.image_store", $"{settingsPrefix}:Backend",
                    $"'{settings.Backend}' is not an image store; set {settingsPrefix}:Backend to one of: {string.Join(", ", Backends)}.");
        }
    }

    private static ConfigurationException Missing(string prefix, string key, string what) =>
        new("config.image_store", $"{prefix}:{key}", $"{prefix}:{key} is required with the swift image store: set it to {what}.");
}

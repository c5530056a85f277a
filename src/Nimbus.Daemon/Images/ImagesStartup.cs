using Nimbus.Images;
using Nimbus.Images.Stores;

namespace Nimbus.Daemon.Images;

/// <summary>The Image service in nimbusd: its limits and its store, from <see cref="ImagesOptions"/>.</summary>
internal static class ImagesStartup
{
    public static ImagesSettings Settings(ImagesOptions options) => new()
    {
        MaxImageBytes = options.MaxImageBytes,
        MaxImagesPerProject = options.QuotaImages > 0 ? options.QuotaImages : null,
        MaxBytesPerProject = options.QuotaBytes > 0 ? options.QuotaBytes : null,
    };

    public static IImageStore Store(IServiceProvider services, ImagesOptions options, string home) => options.Store switch
    {
        ImageStoreKind.Swift => ImageStores.Swift(
            services.GetRequiredService<ImageStoreSwiftAccess>().ApiUrlAsync,
            services.GetRequiredService<ImageStoreSwiftAccess>().Admin,
            options.SwiftContainer,
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILoggerFactory>()),
        _ => ImageStores.File(
            options.StoreDirectory.Length > 0 ? options.StoreDirectory : ImageStores.DefaultFileDirectory(home),
            services.GetRequiredService<ILoggerFactory>()),
    };
}

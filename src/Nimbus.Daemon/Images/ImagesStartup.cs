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

    /// <summary>The registry from Images:Store to the store that backs it.</summary>
    public static Func<IServiceProvider, IImageStore> Store(ImagesOptions options, string home) => options.Store switch
    {
        ImageStoreKind.Swift => services =>
        {
            var access = services.GetRequiredService<ImageStoreSwiftAccess>();
            return ImageStoreFactories.SwiftTempAuth(access.ApiUrlAsync, access.Admin, options.SwiftContainer)(services);
        }
        ,
        _ => ImageStoreFactories.File(options.StoreDirectory.Length > 0 ? options.StoreDirectory : ImageStoreFactories.DefaultFileDirectory(home)),
    };
}

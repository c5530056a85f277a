using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nimbus.Images.Stores;

namespace Nimbus.Images;

/// <summary>Store factories a host passes to <c>AddNimbusImages</c>; the stores themselves stay internal.</summary>
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
}

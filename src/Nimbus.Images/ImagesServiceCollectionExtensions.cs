using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nimbus.Images.Service;
using Nimbus.Images.Stores;
using Nimbus.Platform.Data;

namespace Nimbus.Images;

/// <summary>How a host runs the Images service: register it, map its routes with <c>MapImages()</c>.</summary>
public static class ImagesServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Images service on the database <c>images</c> of the host's
    /// <see cref="IDatabaseFactory"/>, with the store <paramref name="storeFactory"/> builds. The host
    /// then calls <see cref="InitializeNimbusImagesAsync"/> once before it starts serving.
    /// </summary>
    public static IServiceCollection AddNimbusImages(this IServiceCollection services, ImagesSettings settings, Func<IServiceProvider, IImageStore> storeFactory)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(storeFactory);
        settings.Validate();
        services.AddSingleton(settings);
        services.AddSingleton(provider => new ImageUploader(provider.GetService<ILogger<ImageUploader>>()));
        services.AddSingleton(provider => new ImageService(
            provider.GetRequiredService<IDatabaseFactory>().Open(Data.ImagesSchema.Service),
            storeFactory(provider),
            provider.GetRequiredService<ImageUploader>(),
            settings,
            provider.GetService<TimeProvider>() ?? TimeProvider.System,
            provider.GetRequiredService<ILogger<ImageService>>()));
        return services;
    }

    /// <summary>
    /// Applies the images migrations, then returns images that a stop or crash left mid-upload to a
    /// usable status. Call it once, before the host accepts requests: run later, it could reset an
    /// upload in progress.
    /// </summary>
    public static async Task InitializeNimbusImagesAsync(this IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        await services.GetRequiredService<ImageService>().InitializeAsync(cancellationToken);
    }
}

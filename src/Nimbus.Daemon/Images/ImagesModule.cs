using Nimbus.Daemon.Objects;
using Nimbus.Images;
using Nimbus.Images.Http;
using Nimbus.Platform.Errors;

namespace Nimbus.Daemon.Images;

/// <summary>Images (Glance v2) in the all-in-one: the API under <c>/image</c>, its database and its store.</summary>
internal sealed class ImagesModule : IDaemonModule
{
    public IReadOnlyList<Type> OptionsTypes { get; } = [typeof(ImagesOptions)];

    public bool RunsIn(DaemonRole role) => role == DaemonRole.All;

    public void Validate(DaemonContext context)
    {
        if (context.Options<ImagesOptions>().Store == ImageStoreKind.Swift && !context.Options<ObjectsOptions>().Enabled)
        {
            throw new ConfigurationException(
                "config.images_store_needs_objects",
                "Images:Store",
                "Images:Store is swift but object storage is off (Objects:Enabled is false); turn object storage on, or keep images in files with Images:Store file.");
        }
    }

    public void ConfigureServices(DaemonContext context, IServiceCollection services)
    {
        var options = context.Options<ImagesOptions>();
        if (options.Store == ImageStoreKind.Swift)
        {
            services.AddSingleton<ImageStoreSwiftAccess>();
        }

        services.AddNimbusImages(ImagesStartup.Settings(options), ImagesStartup.Store(options, context.Home));
    }

    public void MapEndpoints(WebApplication app) => app.MapImages();

    public Task PrepareAsync(DaemonContext context, IServiceProvider services, CancellationToken cancellationToken) =>
        services.InitializeNimbusImagesAsync(cancellationToken);

    public Task StartedAsync(DaemonStartup startup, CancellationToken cancellationToken)
    {
        startup.Services.GetService<ImageStoreSwiftAccess>()?.Started(startup.Url);
        return Task.CompletedTask;
    }

    public IEnumerable<string> BannerLines(RunningDaemon daemon, string url) => [$"  images    {url}/image"];
}

using Microsoft.Extensions.Logging.Abstractions;
using Nimbus.Images.Stores;
using Nimbus.Platform.Errors;
using Nimbus.TestSupport;

namespace Nimbus.Images.Tests.Stores;

public sealed class ImageStoreFactoryTests : IDisposable
{
    private readonly TempDirectory _home = new();
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };

    public void Dispose()
    {
        _http.Dispose();
        _home.Dispose();
    }

    private IImageStore Create(ImageStoreSettings settings) =>
        ImageStoreFactory.Create(settings, _home.Path, _http, TimeProvider.System, NullLoggerFactory.Instance);

    [Fact]
    public void Default_is_the_file_store_under_the_state_directory()
    {
        var store = Assert.IsType<FileImageStore>(Create(new ImageStoreSettings()));

        Assert.Equal(_home.Combine("images", "store"), store.Directory);
        Assert.True(Directory.Exists(store.Directory));
    }

    [Fact]
    public void Swift_backend_with_tempauth_settings_is_the_swift_store()
    {
        using var store = Assert.IsType<SwiftImageStore>(Create(new ImageStoreSettings
        {
            Backend = "swift",
            SwiftProxyUrl = new Uri("http://127.0.0.1:8080"),
            SwiftUser = "AUTH_admin:admin",
            SwiftKey = "secret",
        }));

        Assert.Equal("swift", store.Name);
    }

    [Fact]
    public void Swift_backend_without_a_user_names_the_missing_setting()
    {
        var error = Assert.Throws<ConfigurationException>(() => Create(new ImageStoreSettings { Backend = "swift", SwiftProxyUrl = new Uri("http://127.0.0.1:8080") }));

        Assert.Equal(("config.image_store", "Images:Store:SwiftUser"), (error.Code, error.Key));
    }

    [Fact]
    public void Unknown_backend_lists_the_known_ones()
    {
        var error = Assert.Throws<ConfigurationException>(() => Create(new ImageStoreSettings { Backend = "rbd" }));

        Assert.Contains("one of: file, swift", error.Message, StringComparison.Ordinal);
    }
}

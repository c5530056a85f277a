using Nimbus.Images.Stores;
using Nimbus.TestSupport;

namespace Nimbus.Images.Tests.Stores;

public sealed class FileImageStoreTests : ImageStoreConformance, IDisposable
{
    private readonly TempDirectory _root = new();

    private string StoreDirectory => _root.Combine("images", "store");

    internal override Task<IImageStore> CreateStoreAsync() => Task.FromResult<IImageStore>(new FileImageStore(StoreDirectory));

    protected override Task<IReadOnlyList<string>> StoredItemsAsync() =>
        Task.FromResult<IReadOnlyList<string>>([.. Directory.EnumerateFileSystemEntries(StoreDirectory)]);

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Location_is_a_file_url_naming_the_image_in_the_store_directory()
    {
        var location = await Store.WriteAsync("0f3a-id", new ChunkedSource([1, 2, 3]), CancellationToken.None);

        Assert.Equal(new Uri(Path.Combine(StoreDirectory, "0f3a-id")).AbsoluteUri, location);
        Assert.StartsWith("file:///", location, StringComparison.Ordinal);
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(Path.Combine(StoreDirectory, "0f3a-id")));
    }

    [Fact]
    public async Task Location_outside_the_store_directory_is_refused()
    {
        var outside = new Uri(_root.Combine("elsewhere")).AbsoluteUri;
        await File.WriteAllTextAsync(_root.Combine("elsewhere"), "secret");

        await Assert.ThrowsAsync<ImageLocationInvalidException>(() => Store.OpenReadAsync(outside, 0, null, CancellationToken.None));
        await Assert.ThrowsAsync<ImageLocationInvalidException>(() => Store.DeleteAsync(outside, CancellationToken.None));
    }

    [Fact]
    public async Task Temp_files_left_by_a_crash_are_removed_at_start_up()
    {
        var store = new FileImageStore(StoreDirectory);
        await File.WriteAllTextAsync(Path.Combine(StoreDirectory, ".abc.0123.tmp"), "partial");
        await store.WriteAsync("kept", new ChunkedSource([9]), CancellationToken.None);

        Assert.Equal(1, store.RemoveAbandonedWrites());
        Assert.Equal([Path.Combine(StoreDirectory, "kept")], Directory.EnumerateFileSystemEntries(StoreDirectory));
    }

    [Fact]
    public void Write_to_a_full_disk_is_recognised_as_the_store_being_full()
    {
        var error = Assert.ThrowsAny<IOException>(() =>
        {
            using var full = new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1);
            full.Write(new byte[4096]);
            full.Flush();
        });

        Assert.True(FileImageStore.IsDiskFull(error));
    }
}

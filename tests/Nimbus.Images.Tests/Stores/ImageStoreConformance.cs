using System.Security.Cryptography;
using Nimbus.Images.Stores;
using Nimbus.Platform.Errors;

namespace Nimbus.Images.Tests.Stores;

/// <summary>
/// What every <see cref="IImageStore"/> must do; each store's test class derives from this and says
/// how to make one and how to list what it physically holds.
/// </summary>
public abstract class ImageStoreConformance : IAsyncLifetime
{
    private IImageStore? _store;

    internal IImageStore Store => _store ?? throw new InvalidOperationException("store not created");

    internal abstract Task<IImageStore> CreateStoreAsync();

    /// <summary>Everything the store keeps in its backing medium (files, objects, entries), temp files included.</summary>
    protected abstract Task<IReadOnlyList<string>> StoredItemsAsync();

    public async Task InitializeAsync() => _store = await CreateStoreAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Small_image_reads_back_as_written()
    {
        var data = TestData.Random(1000);
        var location = await Store.WriteAsync("small-1", new ChunkedSource(data, chunk: 100), CancellationToken.None);

        Assert.Equal(data, await TestData.ReadAllAsync(await Store.OpenReadAsync(location, 0, null, CancellationToken.None)));
    }

    [Fact]
    public async Task Multi_mebibyte_image_reads_back_with_the_same_md5()
    {
        var data = TestData.Random((5 * 1024 * 1024) + 12345, seed: 2);
        var location = await Store.WriteAsync("big-1", new ChunkedSource(data), CancellationToken.None);

        var read = await TestData.ReadAllAsync(await Store.OpenReadAsync(location, 0, null, CancellationToken.None));
        Assert.Equal(Convert.ToHexString(MD5.HashData(data)), Convert.ToHexString(MD5.HashData(read)));
    }

    [Fact]
    public async Task Empty_image_reads_back_empty()
    {
        var location = await Store.WriteAsync("empty-1", new ChunkedSource([]), CancellationToken.None);

        Assert.Empty(await TestData.ReadAllAsync(await Store.OpenReadAsync(location, 0, null, CancellationToken.None)));
    }

    [Theory]
    [InlineData(0, 10L)]
    [InlineData(1, 1L)]
    [InlineData(1_500_000, 700_000L)]
    [InlineData(2_000_000, null)]
    [InlineData(2_999_990, 100L)]
    public async Task Ranged_read_returns_exactly_the_bytes_asked_for_cut_at_the_end(int offset, long? length)
    {
        var data = TestData.Random(3_000_000, seed: 3);
        var location = await Store.WriteAsync("ranged-1", new ChunkedSource(data), CancellationToken.None);

        var read = await TestData.ReadAllAsync(await Store.OpenReadAsync(location, offset, length, CancellationToken.None));

        var expectedLength = (int)Math.Min(length ?? long.MaxValue, data.Length - offset);
        Assert.Equal(data.AsSpan(offset, expectedLength).ToArray(), read);
    }

    [Fact]
    public async Task Deleted_image_is_not_found_and_leaves_nothing()
    {
        var location = await Store.WriteAsync("deleted-1", new ChunkedSource(TestData.Random(5000)), CancellationToken.None);

        await Store.DeleteAsync(location, CancellationToken.None);

        var error = await Assert.ThrowsAnyAsync<NimbusException>(() => Store.OpenReadAsync(location, 0, null, CancellationToken.None));
        Assert.Equal(ErrorKind.NotFound, error.Kind);
        Assert.Empty(await StoredItemsAsync());
    }

    [Fact]
    public async Task Deleting_twice_is_not_an_error()
    {
        var location = await Store.WriteAsync("deleted-2", new ChunkedSource(TestData.Random(10)), CancellationToken.None);

        await Store.DeleteAsync(location, CancellationToken.None);
        await Store.DeleteAsync(location, CancellationToken.None);
    }

    [Fact]
    public async Task Write_whose_source_breaks_half_way_leaves_nothing()
    {
        var data = TestData.Random(3 * 1024 * 1024, seed: 4);

        await Assert.ThrowsAnyAsync<Exception>(() =>
            Store.WriteAsync("broken-1", new ChunkedSource(data, failAfter: data.Length / 2), CancellationToken.None));

        Assert.Empty(await StoredItemsAsync());
    }

    [Fact]
    public async Task Cancelled_write_leaves_nothing()
    {
        var data = TestData.Random(3 * 1024 * 1024, seed: 5);
        using var cancel = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Store.WriteAsync("cancelled-1", new ChunkedSource(data, failAfter: data.Length / 2, atFailPoint: cancel.Cancel), cancel.Token));

        Assert.Empty(await StoredItemsAsync());
    }

    [Fact]
    public async Task Concurrent_writes_of_different_ids_each_keep_their_own_bytes()
    {
        var images = Enumerable.Range(0, 6).Select(i => (Id: $"concurrent-{i}", Data: TestData.Random(200_000 + (i * 100_001), seed: 10 + i))).ToList();

        var locations = await Task.WhenAll(images.Select(i => Store.WriteAsync(i.Id, new ChunkedSource(i.Data, chunk: 8192), CancellationToken.None)));

        for (var i = 0; i < images.Count; i++)
        {
            Assert.Equal(images[i].Data, await TestData.ReadAllAsync(await Store.OpenReadAsync(locations[i], 0, null, CancellationToken.None)));
        }
    }

    [Fact]
    public async Task Image_written_again_reads_back_the_new_bytes()
    {
        await Store.WriteAsync("again-1", new ChunkedSource(TestData.Random(4000, seed: 6)), CancellationToken.None);
        var second = TestData.Random(3000, seed: 7);

        var location = await Store.WriteAsync("again-1", new ChunkedSource(second), CancellationToken.None);

        Assert.Equal(second, await TestData.ReadAllAsync(await Store.OpenReadAsync(location, 0, null, CancellationToken.None)));
    }

    [Fact]
    public async Task Unsafe_image_id_is_refused()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.WriteAsync("../escape", new ChunkedSource([1]), CancellationToken.None));
    }
}

public sealed class MemoryImageStoreTests : ImageStoreConformance
{
    private readonly MemoryImageStore _memory = new();

    internal override Task<IImageStore> CreateStoreAsync() => Task.FromResult<IImageStore>(_memory);

    protected override Task<IReadOnlyList<string>> StoredItemsAsync() => Task.FromResult<IReadOnlyList<string>>([.. _memory.ImageIds]);
}

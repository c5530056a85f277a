using System.Security.Cryptography;
using Nimbus.Images.Stores;
using Nimbus.Platform.Errors;

namespace Nimbus.Images.Tests.Stores;

/// <summary>
/// The swift store against Nimbus's object storage, with 1 MiB segments so multi-MiB images take the
/// static large object path; each test gets containers of its own.
/// </summary>
public sealed class SwiftImageStoreTests(ObjectStorageFixture storage) : ImageStoreConformance, IClassFixture<ObjectStorageFixture>, IDisposable
{
    private const long SegmentSize = 1024 * 1024;
    private readonly string _container = "glance-" + Guid.NewGuid().ToString("N")[..12];
    private readonly ObjectStorageFixture.SwiftAdmin _admin = new(storage);
    private SwiftImageStore? _swift;

    internal override Task<IImageStore> CreateStoreAsync()
    {
        _swift = new SwiftImageStore(storage.Http, storage.ProxyUrl, _admin.Auth.GetAsync, new SwiftImageStoreOptions { Container = _container, SegmentSize = SegmentSize });
        return Task.FromResult<IImageStore>(_swift);
    }

    protected override async Task<IReadOnlyList<string>> StoredItemsAsync() =>
        [.. await storage.ListAsync(_container), .. (await storage.ListAsync(_container + "_segments")).Select(s => "_segments/" + s)];

    public void Dispose()
    {
        _swift?.Dispose();
        _admin.Dispose();
    }

    [Fact]
    public async Task Image_over_the_segment_size_is_a_static_large_object_of_whole_segments()
    {
        var data = TestData.Random((int)(2 * SegmentSize) + 10, seed: 20);

        var location = await Store.WriteAsync("slo-1", new ChunkedSource(data), CancellationToken.None);

        Assert.Equal($"swift://{_container}/slo-1", location);
        Assert.Equal(["slo-1"], await storage.ListAsync(_container));
        Assert.Equal(3, (await storage.ListAsync(_container + "_segments")).Count(n => n.StartsWith("slo-1/", StringComparison.Ordinal)));
        var read = await TestData.ReadAllAsync(await Store.OpenReadAsync(location, 0, null, CancellationToken.None));
        Assert.Equal(MD5.HashData(data), MD5.HashData(read));
    }

    [Fact]
    public async Task Image_of_exactly_the_segment_size_takes_one_segment()
    {
        var data = TestData.Random((int)SegmentSize, seed: 21);

        var location = await Store.WriteAsync("exact-1", new ChunkedSource(data), CancellationToken.None);

        Assert.Single(await storage.ListAsync(_container + "_segments"));
        Assert.Equal(data, await TestData.ReadAllAsync(await Store.OpenReadAsync(location, 0, null, CancellationToken.None)));
    }

    [Fact]
    public async Task Rewriting_an_image_removes_the_segments_it_replaced()
    {
        await Store.WriteAsync("rewrite-1", new ChunkedSource(TestData.Random(3 * 1024 * 1024, seed: 22)), CancellationToken.None);

        await Store.WriteAsync("rewrite-1", new ChunkedSource(TestData.Random(1500, seed: 23)), CancellationToken.None);

        Assert.Single(await storage.ListAsync(_container + "_segments"));
    }

    [Fact]
    public async Task Upload_through_the_pipeline_reads_back_with_its_recorded_hashes()
    {
        var data = TestData.Random((int)(2.5 * SegmentSize), seed: 24);

        var uploaded = await new ImageUploader().UploadAsync(Store, "piped-1", new ChunkedSource(data), "raw", data.Length, long.MaxValue, CancellationToken.None);

        var read = await TestData.ReadAllAsync(await Store.OpenReadAsync(uploaded.Location, 0, null, CancellationToken.None));
        Assert.Equal(uploaded.Md5Hex, Convert.ToHexStringLower(MD5.HashData(read)));
        Assert.Equal(uploaded.Sha512Hex, Convert.ToHexStringLower(SHA512.HashData(read)));
    }

    [Fact]
    public async Task Upload_over_the_limit_reports_too_large_and_leaves_no_segments()
    {
        var data = TestData.Random((int)(2.5 * SegmentSize), seed: 25);

        await Assert.ThrowsAsync<ImageTooLargeException>(() =>
            new ImageUploader().UploadAsync(Store, "limited-1", new ChunkedSource(data), "raw", null, 2 * SegmentSize, CancellationToken.None));

        Assert.Empty(await StoredItemsAsync());
    }

    [Fact]
    public async Task Client_going_away_mid_segment_reports_incomplete_and_leaves_no_segments()
    {
        var data = TestData.Random((int)(2.5 * SegmentSize), seed: 26);

        await Assert.ThrowsAsync<ImageUploadIncompleteException>(() =>
            new ImageUploader().UploadAsync(Store, "gone-1", new ChunkedSource(data, failAfter: (long)(1.5 * SegmentSize)), "raw", null, long.MaxValue, CancellationToken.None));

        Assert.Empty(await StoredItemsAsync());
    }

    [Fact]
    public async Task Short_body_reports_incomplete_and_leaves_no_segments()
    {
        var data = TestData.Random((int)(1.5 * SegmentSize), seed: 27);

        await Assert.ThrowsAsync<ImageUploadIncompleteException>(() =>
            new ImageUploader().UploadAsync(Store, "short-1", new ChunkedSource(data), "raw", 2 * SegmentSize, long.MaxValue, CancellationToken.None));

        Assert.Empty(await StoredItemsAsync());
    }

    [Fact]
    public async Task Cancelled_upload_leaves_no_segments()
    {
        using var cancel = new CancellationTokenSource();
        var data = TestData.Random((int)(2.5 * SegmentSize), seed: 28);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new ImageUploader().UploadAsync(Store, "cancelled-2", new ChunkedSource(data, failAfter: (long)(1.2 * SegmentSize), atFailPoint: cancel.Cancel), "raw", null, long.MaxValue, cancel.Token));

        Assert.Empty(await StoredItemsAsync());
    }

    [Fact]
    public async Task Location_of_another_container_is_refused()
    {
        await Assert.ThrowsAsync<ImageLocationInvalidException>(() => Store.OpenReadAsync("swift://other/img", 0, null, CancellationToken.None));
        await Assert.ThrowsAsync<ImageLocationInvalidException>(() => Store.DeleteAsync("file:///etc/passwd", CancellationToken.None));
    }

    [Fact]
    public async Task Wrong_credentials_are_reported_as_the_store_being_unavailable()
    {
        using var store = new SwiftImageStore(storage.Http, storage.ProxyUrl,
            async ct => (await _admin.Auth.GetAsync(ct)) with { Token = "AUTH_tk0000" },
            new SwiftImageStoreOptions { Container = _container });

        var error = await Assert.ThrowsAsync<ImageStoreUnavailableException>(() => store.WriteAsync("denied-1", new ChunkedSource([1, 2]), CancellationToken.None));

        Assert.Equal(ErrorKind.Unavailable, error.Kind);
        Assert.Contains("credentials", error.Message, StringComparison.Ordinal);
    }
}

using System.Diagnostics;
using System.Security.Cryptography;
using Nimbus.Images.Formats;
using Nimbus.Images.Stores;
using Nimbus.Images.Tests.Formats;
using Nimbus.Platform.Errors;
using Nimbus.TestSupport;

namespace Nimbus.Images.Tests.Stores;

public sealed class ImageUploaderTests : IDisposable
{
    private const long NoLimit = long.MaxValue;
    private readonly MemoryImageStore _store = new();
    private readonly ImageUploader _uploader = new();
    private readonly QemuImages _images = new();

    public void Dispose() => _images.Dispose();

    [Fact]
    public async Task Raw_upload_records_size_hashes_and_virtual_size()
    {
        var data = TestData.Random(300_000);

        var uploaded = await _uploader.UploadAsync(_store, "img-1", new ChunkedSource(data, chunk: 7000), "raw", data.Length, NoLimit, CancellationToken.None);

        Assert.Equal(data.Length, uploaded.Size);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), uploaded.Md5Hex);
        Assert.Equal(Convert.ToHexStringLower(SHA512.HashData(data)), uploaded.Sha512Hex);
        Assert.Equal("raw", uploaded.Format);
        Assert.Equal(data.Length, uploaded.VirtualSize);
        Assert.Equal(data, await TestData.ReadAllAsync(await _store.OpenReadAsync(uploaded.Location, 0, null, CancellationToken.None)));
    }

    [Fact]
    public async Task Hashes_equal_what_md5sum_and_sha512sum_print()
    {
        var data = TestData.Random(2_000_000, seed: 9);
        var path = _images.PathOf("data.raw");
        await File.WriteAllBytesAsync(path, data);

        var uploaded = await _uploader.UploadAsync(_store, "img-2", new ChunkedSource(data), "raw", null, NoLimit, CancellationToken.None);

        Assert.Equal(await DigestToolAsync("md5sum", path), uploaded.Md5Hex);
        Assert.Equal(await DigestToolAsync("sha512sum", path), uploaded.Sha512Hex);
    }

    [Fact]
    public async Task Qcow2_upload_reports_format_and_virtual_size()
    {
        var path = await _images.CreateAsync("a.qcow2", "-f", "qcow2", "a.qcow2", "2G");
        var data = await File.ReadAllBytesAsync(path);

        var uploaded = await _uploader.UploadAsync(_store, "img-3", new ChunkedSource(data), "qcow2", data.Length, NoLimit, CancellationToken.None);

        Assert.Equal(("qcow2", 2L << 30, (long)data.Length), (uploaded.Format, uploaded.VirtualSize, uploaded.Size));
    }

    [Fact]
    public async Task Small_image_shorter_than_the_inspected_head_is_stored_whole()
    {
        var data = TestData.Random(10);

        var uploaded = await _uploader.UploadAsync(_store, "img-4", new ChunkedSource(data, chunk: 3), "raw", null, NoLimit, CancellationToken.None);

        Assert.Equal((10L, 10L), (uploaded.Size, uploaded.VirtualSize!.Value));
        Assert.Equal(data, await TestData.ReadAllAsync(await _store.OpenReadAsync(uploaded.Location, 0, null, CancellationToken.None)));
    }

    [Fact]
    public async Task Qcow2_declared_raw_stores_nothing()
    {
        var path = await _images.CreateAsync("a.qcow2", "-f", "qcow2", "a.qcow2", "1G");
        var source = new ReadCounter(new ChunkedSource(await File.ReadAllBytesAsync(path)));

        var error = await Assert.ThrowsAsync<ImageFormatMismatchException>(() =>
            _uploader.UploadAsync(_store, "img-5", source, "raw", null, NoLimit, CancellationToken.None));

        Assert.Equal(("image.format_mismatch", 400), (error.Code, ErrorMapping.HttpStatus(error.Kind)));
        Assert.Contains("--disk-format qcow2", error.Message, StringComparison.Ordinal);
        Assert.Empty(_store.ImageIds);
        Assert.True(source.BytesRead <= DiskFormatInspector.HeadLength);
    }

    [Fact]
    public async Task Qcow2_with_a_backing_file_stores_nothing_in_the_file_store()
    {
        using var root = new TempDirectory();
        var store = new FileImageStore(root.Combine("store"));
        await _images.CreateAsync("base.qcow2", "-f", "qcow2", "base.qcow2", "64M");
        var path = await _images.CreateAsync("child.qcow2", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "child.qcow2");

        var error = await Assert.ThrowsAsync<ImageFormatMismatchException>(() =>
            _uploader.UploadAsync(store, "img-6", File.OpenRead(path), "qcow2", null, NoLimit, CancellationToken.None));

        Assert.Contains("backing file", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(store.Directory));
    }

    [Theory]
    [InlineData(1000, 2000)]
    [InlineData(1_000_000, 1_500_000)]
    public async Task Body_shorter_than_announced_stores_nothing(int sent, long announced)
    {
        var error = await Assert.ThrowsAsync<ImageUploadIncompleteException>(() =>
            _uploader.UploadAsync(_store, "img-7", new ChunkedSource(TestData.Random(sent)), "raw", announced, NoLimit, CancellationToken.None));

        Assert.Equal(("image.upload_incomplete", 400), (error.Code, ErrorMapping.HttpStatus(error.Kind)));
        Assert.Contains($"after {sent} of the {announced} bytes", error.Message, StringComparison.Ordinal);
        Assert.Empty(_store.ImageIds);
    }

    [Theory]
    [InlineData(2000, 1000)]
    [InlineData(1_500_000, 1_000_000)]
    public async Task Body_longer_than_announced_stores_nothing(int sent, long announced)
    {
        var error = await Assert.ThrowsAsync<ImageSizeMismatchException>(() =>
            _uploader.UploadAsync(_store, "img-8", new ChunkedSource(TestData.Random(sent)), "raw", announced, NoLimit, CancellationToken.None));

        Assert.Equal("image.size_mismatch", error.Code);
        Assert.Empty(_store.ImageIds);
    }

    [Theory]
    [InlineData(5000, 4999)]
    [InlineData(1_000_000, 999_999)]
    [InlineData(1, 0)]
    public async Task Body_over_the_limit_stores_nothing(int sent, long maxBytes)
    {
        var error = await Assert.ThrowsAsync<ImageTooLargeException>(() =>
            _uploader.UploadAsync(_store, "img-9", new ChunkedSource(TestData.Random(sent)), "raw", null, maxBytes, CancellationToken.None));

        Assert.Equal(("image.too_large", 413), (error.Code, ErrorMapping.HttpStatus(error.Kind)));
        Assert.Empty(_store.ImageIds);
    }

    [Fact]
    public async Task Body_exactly_at_the_limit_is_stored()
    {
        var uploaded = await _uploader.UploadAsync(_store, "img-10", new ChunkedSource(TestData.Random(100_000)), "raw", null, 100_000, CancellationToken.None);

        Assert.Equal(100_000, uploaded.Size);
    }

    [Fact]
    public async Task Announced_size_over_the_limit_is_refused_before_reading()
    {
        var source = new ReadCounter(new ChunkedSource(TestData.Random(100)));

        await Assert.ThrowsAsync<ImageTooLargeException>(() =>
            _uploader.UploadAsync(_store, "img-11", source, "raw", 1_000_000, 999_999, CancellationToken.None));

        Assert.Equal(0, source.BytesRead);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(500_000)]
    public async Task Client_going_away_stores_nothing(long failAfter)
    {
        var error = await Assert.ThrowsAsync<ImageUploadIncompleteException>(() =>
            _uploader.UploadAsync(_store, "img-12", new ChunkedSource(TestData.Random(1_000_000), failAfter: failAfter), "raw", null, NoLimit, CancellationToken.None));

        Assert.IsType<IOException>(error.InnerException);
        Assert.Empty(_store.ImageIds);
    }

    [Fact]
    public async Task Client_going_away_leaves_nothing_in_the_file_store()
    {
        using var root = new TempDirectory();
        var store = new FileImageStore(root.Combine("store"));

        await Assert.ThrowsAsync<ImageUploadIncompleteException>(() =>
            _uploader.UploadAsync(store, "img-13", new ChunkedSource(TestData.Random(1_000_000), failAfter: 700_000), "raw", null, NoLimit, CancellationToken.None));

        Assert.Empty(Directory.EnumerateFileSystemEntries(store.Directory));
    }

    [Fact]
    public async Task Cancelled_upload_stores_nothing()
    {
        using var cancel = new CancellationTokenSource();
        var source = new ChunkedSource(TestData.Random(1_000_000), failAfter: 600_000, atFailPoint: cancel.Cancel);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _uploader.UploadAsync(_store, "img-14", source, "raw", null, NoLimit, cancel.Token));

        Assert.Empty(_store.ImageIds);
    }

    private static async Task<string> DigestToolAsync(string tool, string path)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true };
        start.ArgumentList.Add(path);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Split(' ')[0];
    }

    private sealed class ReadCounter(Stream inner) : ForwardReadStream
    {
        public long BytesRead { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            BytesRead += read;
            return read;
        }
    }
}

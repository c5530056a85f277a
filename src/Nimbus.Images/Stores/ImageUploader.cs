using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Nimbus.Images.Formats;
using Nimbus.Platform.Errors;

namespace Nimbus.Images.Stores;

/// <summary>What an upload stored: where, how many bytes, their checksums, and what the bytes are.</summary>
/// <param name="Location">The store location to read the bytes back from.</param>
/// <param name="Size">Bytes stored.</param>
/// <param name="Md5Hex">Lower-case hex MD5 (Glance's <c>checksum</c>).</param>
/// <param name="Sha512Hex">Lower-case hex SHA-512 (Glance's <c>os_hash_value</c> with <c>os_hash_algo</c> sha512).</param>
/// <param name="VirtualSize">The size of the disk a guest sees, when the format tells it.</param>
/// <param name="Format">The format the bytes were recognised as (a <see cref="DiskFormats"/> name).</param>
internal sealed record UploadedImage(string Location, long Size, string Md5Hex, string Sha512Hex, long? VirtualSize, string Format);

/// <summary>
/// The one path every image upload takes: inspect the head, refuse a format mismatch before the store
/// sees a byte, then stream head and rest through MD5, SHA-512 and a byte counter into the store.
/// Memory held is the inspected head plus the store's copy buffer, whatever the image's size. When the
/// body is short, too long, over the limit, or the client goes away, the store's all-or-nothing write
/// leaves nothing behind and a typed exception says which.
/// </summary>
internal sealed class ImageUploader
{
    private readonly ILogger _logger;

    public ImageUploader(ILogger<ImageUploader>? logger = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <param name="store">Where the bytes go.</param>
    /// <param name="imageId">The image's id, which names its data in the store.</param>
    /// <param name="body">The request body; read once, to its end.</param>
    /// <param name="declaredDiskFormat">The image's disk_format, checked against the bytes.</param>
    /// <param name="expectedSize">The announced length (Content-Length, or the image's size), when known.</param>
    /// <param name="maxBytes">The most bytes this upload may store (image_size_cap, or what the quota leaves).</param>
    /// <param name="cancellationToken">Cancels the upload; nothing is left in the store.</param>
    public async Task<UploadedImage> UploadAsync(
        IImageStore store,
        string imageId,
        Stream body,
        string declaredDiskFormat,
        long? expectedSize,
        long maxBytes,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentException.ThrowIfNullOrWhiteSpace(declaredDiskFormat);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        try
        {
            if (expectedSize is { } announced)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(announced, nameof(expectedSize));
                if (announced > maxBytes)
                {
                    throw TooLarge(announced, maxBytes);
                }
            }

            // One byte past a small limit is enough to know the limit is exceeded.
            var head = new byte[maxBytes < DiskFormatInspector.HeadLength ? maxBytes + 1 : DiskFormatInspector.HeadLength];
            var headLength = await ReadHeadAsync(body, head, cancellationToken);
            if (headLength > maxBytes)
            {
                throw TooLarge(headLength, maxBytes);
            }

            var ended = headLength < head.Length;
            var inspected = DiskFormatInspector.Inspect(head.AsSpan(0, headLength), ended ? headLength : expectedSize);
            if (DiskFormatCheck.Verify(declaredDiskFormat, inspected) is { } refusal)
            {
                throw new ImageFormatMismatchException(refusal);
            }

            if (ended && expectedSize is { } size && headLength != size)
            {
                throw headLength < size ? Incomplete(headLength, size) : Mismatch(headLength, size);
            }

            using var counted = new CountingHashStream(head.AsMemory(0, headLength), ended ? Stream.Null : body, expectedSize, maxBytes);
            string location;
            try
            {
                location = await store.WriteAsync(imageId, counted, cancellationToken);
            }
            catch (Exception ex) when (counted.Failure is { } failure && !ReferenceEquals(ex, failure))
            {
                // The store wraps what its source threw (HttpClient does); the source's reason is the one to report.
                throw failure;
            }

            var (md5, sha512) = counted.Finish();
            var virtualSize = inspected.VirtualSize ?? (inspected.Format == DiskFormats.Raw ? counted.Count : null);
            ImagesStoreLog.Uploaded(_logger, imageId, store.Name, counted.Count, inspected.Format, virtualSize);
            return new UploadedImage(location, counted.Count, md5, sha512, virtualSize, inspected.Format);
        }
        catch (NimbusException ex)
        {
            ImagesStoreLog.UploadRefused(_logger, imageId, ex.Code, ex.Message);
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ImagesStoreLog.UploadFailed(_logger, imageId, store.Name, ex);
            throw;
        }
    }

    /// <summary>Reads the client's body, turning a client that went away into the upload's own error.</summary>
    private static async ValueTask<int> ReadBodyAsync(Stream body, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await body.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or Microsoft.AspNetCore.Http.BadHttpRequestException)
        {
            // Kestrel reports a client that hung up mid-body as an IOException or a bad request.
            throw new ImageUploadIncompleteException("The connection ended before all the image data arrived; upload the image again.", ex);
        }
    }

    private static async Task<int> ReadHeadAsync(Stream body, byte[] head, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < head.Length)
        {
            var read = await ReadBodyAsync(body, head.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return filled;
    }

    internal static ImageTooLargeException TooLarge(long size, long maxBytes) =>
        new($"The image data is larger than the {maxBytes} bytes this upload may store (at least {size} bytes arrived or were announced); free quota or upload a smaller image.");

    internal static ImageUploadIncompleteException Incomplete(long actual, long expected) =>
        new($"The upload ended after {actual} of the {expected} bytes announced; upload the image again.");

    internal static ImageSizeMismatchException Mismatch(long actual, long expected) =>
        new($"The upload carried {actual} bytes but announced {expected}; send exactly the announced size.");

    /// <summary>
    /// Yields the buffered head then the rest of the body, hashing and counting as it goes; the limit
    /// and the announced size are enforced here, inside the store's copy, so an over-long body stops
    /// the write before it is committed.
    /// </summary>
    private sealed class CountingHashStream(ReadOnlyMemory<byte> head, Stream rest, long? expectedSize, long maxBytes) : ForwardReadStream
    {
        private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        private readonly IncrementalHash _sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        private ReadOnlyMemory<byte> _head = head;
        private bool _ended;

        public long Count { get; private set; }

        /// <summary>Why this stream stopped the write, when it did.</summary>
        public NimbusException? Failure { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Failure is not null)
            {
                throw Failure;
            }

            if (buffer.IsEmpty || _ended)
            {
                return 0;
            }

            int read;
            if (!_head.IsEmpty)
            {
                read = Math.Min(buffer.Length, _head.Length);
                _head[..read].CopyTo(buffer);
                _head = _head[read..];
            }
            else
            {
                try
                {
                    read = await ReadBodyAsync(rest, buffer, cancellationToken);
                }
                catch (ImageUploadIncompleteException ex)
                {
                    throw Fail(ex);
                }
            }

            if (read == 0)
            {
                if (expectedSize is { } expected && Count < expected)
                {
                    throw Fail(Incomplete(Count, expected));
                }

                _ended = true;
                return 0;
            }

            Count += read;
            if (Count > maxBytes)
            {
                throw Fail(TooLarge(Count, maxBytes));
            }

            if (expectedSize is { } announced && Count > announced)
            {
                throw Fail(Mismatch(Count, announced));
            }

            var chunk = buffer.Span[..read];
            _md5.AppendData(chunk);
            _sha512.AppendData(chunk);
            return read;
        }

        public (string Md5, string Sha512) Finish() =>
            (Convert.ToHexStringLower(_md5.GetHashAndReset()), Convert.ToHexStringLower(_sha512.GetHashAndReset()));

        private NimbusException Fail(NimbusException failure)
        {
            Failure = failure;
            return failure;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _md5.Dispose();
                _sha512.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

using System.Security.Cryptography;
using Nimbus.Objects.Common;

namespace Nimbus.Objects.Storage;

/// <summary>
/// An object being written to <c>&lt;device&gt;/tmp</c>: bytes stream through a bounded buffer
/// into the temp file while their MD5 is computed; nothing is in the hash directory until commit.
/// </summary>
internal sealed class DiskObjectWriter(DiskObjectBackend backend, ObjectLocation location, string tempPath, FileStream stream) : IObjectWriter
{
    public const int BufferSize = 64 * 1024;

    /// <summary>Swift's bytes_per_sync: syncing as the body arrives keeps the commit's final fsync short.</summary>
    public const long BytesPerSync = 512L * 1024 * 1024;

    private long _unsynced;

    private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    private bool _finished;

    public long BytesWritten { get; private set; }

    public string ContentMd5 => Convert.ToHexStringLower(_md5.GetCurrentHash());

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        await stream.WriteAsync(data, cancellationToken);
        _md5.AppendData(data.Span);
        BytesWritten += data.Length;
        _unsynced += data.Length;
        if (_unsynced >= BytesPerSync)
        {
            await stream.FlushAsync(cancellationToken);
            stream.Flush(flushToDisk: true);
            _unsynced = 0;
        }
    }

    public async ValueTask<bool> CommitAsync(SwiftTimestamp timestamp, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        ArgumentNullException.ThrowIfNull(metadata);
        cancellationToken.ThrowIfCancellationRequested();
        var json = ObjectMetadata.Serialize(metadata);
        _finished = true;
        string? sidecar = null;
        try
        {
            await stream.FlushAsync(cancellationToken);
            var inAttribute = backend.TryStoreInExtendedAttribute(location.Device, stream.SafeFileHandle, json);
            stream.Flush(flushToDisk: true);
            await stream.DisposeAsync();
            if (!inAttribute)
            {
                sidecar = backend.WriteTempFile(location.Device, json);
            }

            return backend.Commit(
                location,
                tempPath,
                new StoredFileName(timestamp, StoredFileKind.Data),
                sidecar,
                state => DiskObjectBackend.IsNewer(state, timestamp));
        }
        finally
        {
            // Renamed away on success; whatever is left was not committed.
            DiskObjectBackend.DeleteIfExists(tempPath);
            DiskObjectBackend.DeleteIfExists(sidecar);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _md5.Dispose();
        if (_finished)
        {
            return;
        }

        _finished = true;
        await stream.DisposeAsync();
        File.Delete(tempPath);
    }
}

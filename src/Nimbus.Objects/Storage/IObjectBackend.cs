using Nimbus.Objects.Common;

namespace Nimbus.Objects.Storage;

/// <summary>Where an object lives on one storage node: Swift's device, partition and name hash.</summary>
/// <param name="Device">The device's directory name under the node's devices root (e.g. "d1").</param>
/// <param name="Partition">The ring partition the object hashes to.</param>
/// <param name="Hash">The 32 hex digits of the object's path hash (HashRing.HashPath).</param>
public sealed record ObjectLocation(string Device, int Partition, string Hash)
{
    /// <summary>The last three hex digits of the hash: the directory the replicator compares by.</summary>
    public string Suffix => Hash[^3..];
}

/// <summary>What a device holds for one object name.</summary>
public enum ObjectPresence
{
    /// <summary>Nothing was ever stored, or everything was reclaimed.</summary>
    Missing,

    /// <summary>The newest file is a tombstone.</summary>
    Deleted,

    /// <summary>The newest file is data.</summary>
    Present,
}

/// <summary>
/// Swift's DiskFile manager: the on-disk layout of objects behind one interface, with an in-memory
/// twin. Names are opaque here; the server stores "name" (the /account/container/object path) in
/// the metadata it passes in.
/// </summary>
public interface IObjectBackend
{
    /// <summary>
    /// Opens the newest state of an object. For <see cref="ObjectPresence.Present"/> the data is
    /// held open, so a concurrent overwrite or delete does not disturb a reader.
    /// </summary>
    ValueTask<ObjectHandle> OpenAsync(ObjectLocation location, CancellationToken cancellationToken);

    /// <summary>Starts a write; nothing is visible until <see cref="IObjectWriter.CommitAsync"/>.</summary>
    ValueTask<IObjectWriter> CreateWriterAsync(ObjectLocation location, CancellationToken cancellationToken);

    /// <summary>Writes a tombstone (<c>&lt;timestamp&gt;.ts</c>) unless something newer exists.</summary>
    ValueTask WriteTombstoneAsync(ObjectLocation location, SwiftTimestamp timestamp, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken);

    /// <summary>
    /// Writes a POST's metadata (<c>&lt;timestamp&gt;.meta</c>), which replaces the user metadata of the
    /// data it is newer than. Returns false, writing nothing, when the object is not present.
    /// </summary>
    ValueTask<bool> WriteMetadataAsync(ObjectLocation location, SwiftTimestamp timestamp, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken);

    /// <summary>The partitions a device holds objects for.</summary>
    ValueTask<IReadOnlyList<int>> ListPartitionsAsync(string device, CancellationToken cancellationToken);

    /// <summary>
    /// Per suffix of a partition, a hash of the names of the newest files of every object in it:
    /// two devices whose suffix hashes match hold the same versions.
    /// </summary>
    ValueTask<IReadOnlyDictionary<string, string>> GetSuffixHashesAsync(string device, int partition, CancellationToken cancellationToken);

    /// <summary>The objects in the given suffixes of a partition, with the newest timestamp of each.</summary>
    ValueTask<IReadOnlyList<StoredObjectVersion>> ListObjectsAsync(string device, int partition, IReadOnlyCollection<string> suffixes, CancellationToken cancellationToken);

    /// <summary>Every object location on a device, for the auditor and the expirer.</summary>
    IAsyncEnumerable<ObjectLocation> EnumerateAsync(string device, CancellationToken cancellationToken);

    /// <summary>
    /// Moves everything stored for an object out of the way (Swift's quarantine), so that it reads
    /// as missing and the replicator restores it from a good copy.
    /// </summary>
    ValueTask QuarantineAsync(ObjectLocation location, CancellationToken cancellationToken);

    /// <summary>Removes a partition that now belongs to other devices, after it was handed over.</summary>
    ValueTask RemovePartitionAsync(string device, int partition, CancellationToken cancellationToken);
}

/// <summary>The newest version of one object on a device, as the replicator compares them.</summary>
public sealed record StoredObjectVersion(string Hash, ObjectPresence Presence, SwiftTimestamp DataTimestamp, SwiftTimestamp? MetadataTimestamp);

/// <summary>An open object: its newest state and, when present, its data.</summary>
public abstract class ObjectHandle : IAsyncDisposable
{
    public required ObjectPresence Presence { get; init; }

    /// <summary>The timestamp of the data or tombstone; zero when missing.</summary>
    public required SwiftTimestamp Timestamp { get; init; }

    /// <summary>The timestamp of the newest .meta applied, if any.</summary>
    public SwiftTimestamp? MetadataTimestamp { get; init; }

    /// <summary>
    /// The data's system metadata (name, Content-Type, ETag, Content-Length, X-Timestamp) with the
    /// newest user metadata (X-Object-Meta-*, X-Delete-At, Content-Disposition…) applied.
    /// Empty when missing; the tombstone's metadata when deleted.
    /// </summary>
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    /// <summary>The data's length in bytes; 0 unless present.</summary>
    public required long Length { get; init; }

    /// <summary>A stream over the data from its start, positioned at <paramref name="offset"/>.</summary>
    public abstract Stream OpenRead(long offset = 0);

    public abstract ValueTask DisposeAsync();
}

/// <summary>A write in progress. Disposing without a commit discards every byte.</summary>
public interface IObjectWriter : IAsyncDisposable
{
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    long BytesWritten { get; }

    /// <summary>The MD5 of the bytes written so far, as 32 lower-case hex digits.</summary>
    string ContentMd5 { get; }

    /// <summary>
    /// Makes the object durable and visible as <c>&lt;timestamp&gt;.data</c>: fsync, rename, fsync of the
    /// directory, then removes the files it supersedes. Returns false, keeping nothing, when a newer
    /// version (data or tombstone) is already there.
    /// </summary>
    ValueTask<bool> CommitAsync(SwiftTimestamp timestamp, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken);
}

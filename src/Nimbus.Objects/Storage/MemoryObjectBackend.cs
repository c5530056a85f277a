using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Nimbus.Objects.Common;

namespace Nimbus.Objects.Storage;

/// <summary>
/// The in-memory twin of <see cref="DiskObjectBackend"/> (Swift's mem_diskfile): each object is a
/// set of named files with the same newest-wins, cleanup and suffix-hash rules, so tests of the
/// servers above behave as on disk.
/// </summary>
public sealed class MemoryObjectBackend : IObjectBackend
{
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();

    // device → partition → hash → file name → file
    private readonly Dictionary<string, SortedDictionary<int, Dictionary<string, Dictionary<string, MemoryFile>>>> _devices = new(StringComparer.Ordinal);

    public MemoryObjectBackend(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    public ValueTask<ObjectHandle> OpenAsync(ObjectLocation location, CancellationToken cancellationToken)
    {
        Validate(location);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            var files = Find(location);
            var state = Evaluate(files);
            ObjectHandle handle = state.Newest switch
            {
                null => StateOnlyObjectHandle.Missing(),
                { Kind: StoredFileKind.Tombstone } tombstone => new StateOnlyObjectHandle
                {
                    Presence = ObjectPresence.Deleted,
                    Timestamp = tombstone.Timestamp,
                    Metadata = ObjectMetadata.Copy(files![tombstone.Name].Metadata),
                    Length = 0,
                },
                { } data => new MemoryObjectHandle(files![data.Name].Data)
                {
                    Presence = ObjectPresence.Present,
                    Timestamp = data.Timestamp,
                    MetadataTimestamp = state.Meta?.Timestamp,
                    Metadata = ObjectMetadata.Merge(files[data.Name].Metadata, state.Meta is { } meta ? files[meta.Name].Metadata : null),
                    Length = files[data.Name].Data.Length,
                },
            };
            return ValueTask.FromResult(handle);
        }
    }

    public ValueTask<IObjectWriter> CreateWriterAsync(ObjectLocation location, CancellationToken cancellationToken)
    {
        Validate(location);
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult<IObjectWriter>(new Writer(this, location));
    }

    public ValueTask WriteTombstoneAsync(ObjectLocation location, SwiftTimestamp timestamp, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        Validate(location);
        ArgumentNullException.ThrowIfNull(metadata);
        cancellationToken.ThrowIfCancellationRequested();
        ObjectMetadata.Serialize(metadata);
        Commit(location, new StoredFileName(timestamp, StoredFileKind.Tombstone), new MemoryFile([], ObjectMetadata.Copy(metadata)), state => DiskObjectBackend.IsNewer(state, timestamp));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    /// <remarks>Also false when the data or an existing .meta is as new as <paramref name="timestamp"/> (Swift's 409).</remarks>
    public ValueTask<bool> WriteMetadataAsync(ObjectLocation location, SwiftTimestamp timestamp, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        Validate(location);
        ArgumentNullException.ThrowIfNull(metadata);
        cancellationToken.ThrowIfCancellationRequested();
        ObjectMetadata.Serialize(metadata);
        return ValueTask.FromResult(Commit(
            location,
            new StoredFileName(timestamp, StoredFileKind.Meta),
            new MemoryFile([], ObjectMetadata.Copy(metadata)),
            state => DiskObjectBackend.AcceptsMetadata(state, timestamp)));
    }

    public ValueTask<IReadOnlyList<int>> ListPartitionsAsync(string device, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            IReadOnlyList<int> partitions = _devices.TryGetValue(device, out var found) ? [.. found.Keys] : [];
            return ValueTask.FromResult(partitions);
        }
    }

    public ValueTask<IReadOnlyDictionary<string, string>> GetSuffixHashesAsync(string device, int partition, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        lock (_lock)
        {
            if (!TryGetPartition(device, partition, out var objects))
            {
                return ValueTask.FromResult<IReadOnlyDictionary<string, string>>(hashes);
            }

            foreach (var hash in objects.Keys.ToList())
            {
                CleanUp(objects, hash);
            }

            foreach (var suffix in objects.GroupBy(o => o.Key[^3..], StringComparer.Ordinal))
            {
                if (SuffixHash.Compute(suffix.Select(o => (o.Key, Evaluate(o.Value)))) is { } suffixHash)
                {
                    hashes[suffix.Key] = suffixHash;
                }
            }

            if (objects.Count == 0)
            {
                _devices[device].Remove(partition);
            }
        }

        return ValueTask.FromResult<IReadOnlyDictionary<string, string>>(hashes);
    }

    public ValueTask<IReadOnlyList<StoredObjectVersion>> ListObjectsAsync(string device, int partition, IReadOnlyCollection<string> suffixes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(suffixes);
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var suffix in suffixes)
        {
            if (!DiskObjectBackend.IsSuffix(suffix))
            {
                throw new ArgumentException($"suffix '{suffix}' is not three lower-case hex digits.", nameof(suffixes));
            }
        }

        var wanted = suffixes.ToHashSet(StringComparer.Ordinal);
        var versions = new List<StoredObjectVersion>();
        lock (_lock)
        {
            if (TryGetPartition(device, partition, out var objects))
            {
                foreach (var (hash, files) in objects)
                {
                    var state = Evaluate(files);
                    if (wanted.Contains(hash[^3..]) && state.Newest is { } newest)
                    {
                        versions.Add(new StoredObjectVersion(hash, state.Presence, newest.Timestamp, state.Meta?.Timestamp));
                    }
                }
            }
        }

        versions.Sort((a, b) => string.CompareOrdinal(a.Hash, b.Hash));
        return ValueTask.FromResult<IReadOnlyList<StoredObjectVersion>>(versions);
    }

    public async IAsyncEnumerable<ObjectLocation> EnumerateAsync(string device, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<ObjectLocation> locations = [];
        lock (_lock)
        {
            if (_devices.TryGetValue(device, out var partitions))
            {
                foreach (var (partition, objects) in partitions)
                {
                    foreach (var (hash, files) in objects)
                    {
                        if (Evaluate(files).Newest is not null)
                        {
                            locations.Add(new ObjectLocation(device, partition, hash));
                        }
                    }
                }
            }
        }

        foreach (var location in locations)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return location;
        }
    }

    public ValueTask QuarantineAsync(ObjectLocation location, CancellationToken cancellationToken)
    {
        Validate(location);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (TryGetPartition(location.Device, location.Partition, out var objects))
            {
                objects.Remove(location.Hash);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask RemovePartitionAsync(string device, int partition, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (_devices.TryGetValue(device, out var partitions))
            {
                partitions.Remove(partition);
            }
        }

        return ValueTask.CompletedTask;
    }

    private bool Commit(ObjectLocation location, StoredFileName name, MemoryFile file, Func<HashDirectoryState, bool> accept)
    {
        lock (_lock)
        {
            if (!accept(Evaluate(Find(location))))
            {
                return false;
            }

            if (!_devices.TryGetValue(location.Device, out var partitions))
            {
                _devices[location.Device] = partitions = [];
            }

            if (!partitions.TryGetValue(location.Partition, out var objects))
            {
                partitions[location.Partition] = objects = new Dictionary<string, Dictionary<string, MemoryFile>>(StringComparer.Ordinal);
            }

            if (!objects.TryGetValue(location.Hash, out var files))
            {
                objects[location.Hash] = files = new Dictionary<string, MemoryFile>(StringComparer.Ordinal);
            }

            files[name.Name] = file;
            return CleanUp(objects, location.Hash).Kept.Contains(name);
        }
    }

    private HashDirectoryState CleanUp(Dictionary<string, Dictionary<string, MemoryFile>> objects, string hash)
    {
        var files = objects[hash];
        var state = Evaluate(files);
        foreach (var obsolete in state.Obsolete)
        {
            files.Remove(obsolete.Name);
        }

        if (files.Count == 0)
        {
            objects.Remove(hash);
        }

        return state;
    }

    private HashDirectoryState Evaluate(Dictionary<string, MemoryFile>? files) =>
        HashDirectoryState.Evaluate(files?.Keys ?? Enumerable.Empty<string>(), HashDirectoryState.ReclaimBefore(_time));

    private Dictionary<string, MemoryFile>? Find(ObjectLocation location) =>
        TryGetPartition(location.Device, location.Partition, out var objects) && objects.TryGetValue(location.Hash, out var files)
            ? files
            : null;

    private bool TryGetPartition(string device, int partition, out Dictionary<string, Dictionary<string, MemoryFile>> objects)
    {
        objects = null!;
        return _devices.TryGetValue(device, out var partitions) && partitions.TryGetValue(partition, out objects!);
    }

    private static void Validate(ObjectLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentException.ThrowIfNullOrEmpty(location.Device);
        ArgumentOutOfRangeException.ThrowIfNegative(location.Partition);
        DiskObjectBackend.ValidateHash(location.Hash);
    }

    private sealed record MemoryFile(byte[] Data, IReadOnlyDictionary<string, string> Metadata);

    /// <summary>Buffers the object in memory until commit, as the disk writer buffers it in tmp.</summary>
    private sealed class Writer(MemoryObjectBackend backend, ObjectLocation location) : IObjectWriter
    {
        private readonly MemoryStream _buffer = new();
        private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        private bool _finished;

        public long BytesWritten { get; private set; }

        public string ContentMd5 => Convert.ToHexStringLower(_md5.GetCurrentHash());

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_finished, this);
            cancellationToken.ThrowIfCancellationRequested();
            _buffer.Write(data.Span);
            _md5.AppendData(data.Span);
            BytesWritten += data.Length;
            return ValueTask.CompletedTask;
        }

        public ValueTask<bool> CommitAsync(SwiftTimestamp timestamp, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_finished, this);
            ArgumentNullException.ThrowIfNull(metadata);
            cancellationToken.ThrowIfCancellationRequested();
            ObjectMetadata.Serialize(metadata);
            _finished = true;
            return ValueTask.FromResult(backend.Commit(
                location,
                new StoredFileName(timestamp, StoredFileKind.Data),
                new MemoryFile(_buffer.ToArray(), ObjectMetadata.Copy(metadata)),
                state => DiskObjectBackend.IsNewer(state, timestamp)));
        }

        public ValueTask DisposeAsync()
        {
            _finished = true;
            _md5.Dispose();
            _buffer.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

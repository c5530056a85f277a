using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Nimbus.Objects.Common;
using Nimbus.Shared;

namespace Nimbus.Objects.Storage;

/// <summary>Where <see cref="DiskObjectBackend"/> keeps each file's metadata.</summary>
public enum DiskMetadataStorage
{
    /// <summary>In an xattr when the device's filesystem takes user xattrs (probed once per device), else in files.</summary>
    Automatic,

    /// <summary>Always try the xattr first; a value the filesystem refuses still falls back to a file.</summary>
    ExtendedAttribute,

    /// <summary>Never use xattrs: a sidecar next to each .data, the content of each .ts and .meta.</summary>
    SidecarFile,
}

/// <summary>
/// Swift's DiskFile layout (swift/obj/diskfile.py) on one node's devices:
/// <c>&lt;device&gt;/objects/&lt;partition&gt;/&lt;suffix&gt;/&lt;hash&gt;/&lt;timestamp&gt;.data|.ts|.meta</c>.
/// Writes go to <c>&lt;device&gt;/tmp</c> and are renamed in, so a reader sees a whole file or none;
/// quarantined objects move to <c>&lt;device&gt;/quarantined/objects/&lt;hash&gt;-&lt;random&gt;</c>.
/// Metadata is JSON in the <c>user.nimbus.metadata</c> xattr, or, where xattrs are missing or too
/// small, in a <c>&lt;timestamp&gt;.data.json</c> sidecar renamed in before its data (and in the
/// content of .ts and .meta files, which have no other content).
/// </summary>
public sealed class DiskObjectBackend : IObjectBackend
{
    internal const string MetadataAttribute = "user.nimbus.metadata";

    /// <summary>The suffix of a .data file's metadata sidecar.</summary>
    internal const string SidecarSuffix = ".json";

    /// <summary>
    /// Files in tmp, and sidecars without data, older than this are leftovers of a crash; a live
    /// upload rewrites its temp file far more often than this.
    /// </summary>
    public static readonly TimeSpan TempFileMaxAge = TimeSpan.FromDays(1);

    private const string ObjectsDirectory = "objects";
    private const string TempDirectoryName = "tmp";
    private const string QuarantineDirectory = "quarantined";
    private const int LockStripes = 64;
    private const int OpenAttempts = 5;
    private const string ProbeAttribute = "user.nimbus.probe";

    private readonly string _devicesRoot;
    private readonly TimeProvider _time;
    private readonly DiskMetadataStorage _metadataStorage;
    private readonly ConcurrentDictionary<string, bool> _xattrsByDevice = new(StringComparer.Ordinal);

    // Commits, cleanups and quarantines of one hash directory are serialized: a cleanup must never
    // see a commit's sidecar before its data arrives. Readers take no lock; they retry instead.
    private readonly Lock[] _hashLocks;

    public DiskObjectBackend(string devicesRoot, TimeProvider time)
        : this(devicesRoot, time, DiskMetadataStorage.Automatic)
    {
    }

    public DiskObjectBackend(string devicesRoot, TimeProvider time, DiskMetadataStorage metadataStorage)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(devicesRoot);
        ArgumentNullException.ThrowIfNull(time);
        _devicesRoot = Path.GetFullPath(devicesRoot);
        _time = time;
        _metadataStorage = metadataStorage;
        _hashLocks = new Lock[LockStripes];
        for (var i = 0; i < _hashLocks.Length; i++)
        {
            _hashLocks[i] = new Lock();
        }
    }

    /// <summary>The directory holding everything stored for one object.</summary>
    internal string GetHashDirectory(ObjectLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        ValidateHash(location.Hash);
        ArgumentOutOfRangeException.ThrowIfNegative(location.Partition);
        return Path.Combine(
            DevicePath(location.Device),
            ObjectsDirectory,
            location.Partition.ToString(CultureInfo.InvariantCulture),
            location.Suffix,
            location.Hash);
    }

    /// <summary>True when this backend keeps metadata of the device's new files in xattrs.</summary>
    internal bool UsesExtendedAttributes(string device) => _metadataStorage switch
    {
        DiskMetadataStorage.SidecarFile => false,
        DiskMetadataStorage.ExtendedAttribute => true,
        _ => _xattrsByDevice.GetOrAdd(device, ProbeExtendedAttributes),
    };

    public async ValueTask<ObjectHandle> OpenAsync(ObjectLocation location, CancellationToken cancellationToken)
    {
        var hashDirectory = GetHashDirectory(location);
        for (var attempt = 0; attempt < OpenAttempts; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var state = HashDirectoryState.Evaluate(ListFileNames(hashDirectory), HashDirectoryState.ReclaimBefore(_time));
            try
            {
                var handle = Open(hashDirectory, state);
                if (handle is not null)
                {
                    return handle;
                }
            }
            catch (Exception ex) when (ex is JsonException or InvalidDataException)
            {
                // Swift quarantines what it cannot read, so that replication restores a good copy.
                await QuarantineAsync(location, cancellationToken);
                return StateOnlyObjectHandle.Missing();
            }
        }

        throw new IOException($"object {location.Hash} on device {location.Device} kept changing while it was opened {OpenAttempts} times; retry the request.");
    }

    /// <summary>The object's handle, or null when a file it listed was removed before it was opened.</summary>
    private static ObjectHandle? Open(string hashDirectory, HashDirectoryState state)
    {
        if (state.Newest is not { } newest)
        {
            return StateOnlyObjectHandle.Missing();
        }

        var path = Path.Combine(hashDirectory, newest.Name);
        if (newest.Kind == StoredFileKind.Tombstone)
        {
            var tombstone = ReadFileMetadata(path);
            return tombstone is null ? null : new StateOnlyObjectHandle
            {
                Presence = ObjectPresence.Deleted,
                Timestamp = newest.Timestamp,
                Metadata = tombstone,
                Length = 0,
            };
        }

        SafeFileHandle data;
        try
        {
            data = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            var dataMetadata = ReadDataMetadata(data, path);
            Dictionary<string, string>? metaMetadata = null;
            if (state.Meta is { } meta)
            {
                metaMetadata = ReadFileMetadata(Path.Combine(hashDirectory, meta.Name));
                if (metaMetadata is null)
                {
                    data.Dispose();
                    return null;
                }
            }

            if (dataMetadata is null)
            {
                data.Dispose();
                return null;
            }

            return new DiskObjectHandle(data)
            {
                Presence = ObjectPresence.Present,
                Timestamp = newest.Timestamp,
                MetadataTimestamp = state.Meta?.Timestamp,
                Metadata = ObjectMetadata.Merge(dataMetadata, metaMetadata),
                Length = RandomAccess.GetLength(data),
            };
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    public ValueTask<IObjectWriter> CreateWriterAsync(ObjectLocation location, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        GetHashDirectory(location);
        var path = CreateTempPath(location.Device);
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.Asynchronous,
            BufferSize = DiskObjectWriter.BufferSize,
        });
        return ValueTask.FromResult<IObjectWriter>(new DiskObjectWriter(this, location, path, stream));
    }

    public ValueTask WriteTombstoneAsync(ObjectLocation location, SwiftTimestamp timestamp, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        WriteSmallFile(location, new StoredFileName(timestamp, StoredFileKind.Tombstone), metadata, state => IsNewer(state, timestamp));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    /// <remarks>Also false when the data or an existing .meta is as new as <paramref name="timestamp"/> (Swift's 409).</remarks>
    public ValueTask<bool> WriteMetadataAsync(ObjectLocation location, SwiftTimestamp timestamp, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(WriteSmallFile(
            location,
            new StoredFileName(timestamp, StoredFileKind.Meta),
            metadata,
            state => AcceptsMetadata(state, timestamp)));
    }

    public ValueTask<IReadOnlyList<int>> ListPartitionsAsync(string device, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var partitions = new List<int>();
        foreach (var directory in ListDirectories(Path.Combine(DevicePath(device), ObjectsDirectory)))
        {
            if (TryParsePartition(Path.GetFileName(directory), out var partition))
            {
                partitions.Add(partition);
            }
        }

        partitions.Sort();
        return ValueTask.FromResult<IReadOnlyList<int>>(partitions);
    }

    /// <inheritdoc/>
    /// <remarks>Cleans every hash directory on the way (obsolete files, reclaimed tombstones, orphan sidecars) and removes empty suffixes.</remarks>
    public ValueTask<IReadOnlyDictionary<string, string>> GetSuffixHashesAsync(string device, int partition, CancellationToken cancellationToken)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var suffixDirectory in ListDirectories(PartitionPath(device, partition)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var suffix = Path.GetFileName(suffixDirectory);
            if (!IsSuffix(suffix))
            {
                continue;
            }

            var objects = new List<(string, HashDirectoryState)>();
            foreach (var hashDirectory in ListDirectories(suffixDirectory))
            {
                var hash = Path.GetFileName(hashDirectory);
                if (IsHash(hash))
                {
                    objects.Add((hash, CleanUp(hashDirectory)));
                }
            }

            if (SuffixHash.Compute(objects) is { } suffixHash)
            {
                hashes[suffix] = suffixHash;
            }
            else
            {
                TryRemoveEmptyDirectory(suffixDirectory);
            }
        }

        if (hashes.Count == 0)
        {
            TryRemoveEmptyDirectory(PartitionPath(device, partition));
        }

        return ValueTask.FromResult<IReadOnlyDictionary<string, string>>(hashes);
    }

    public ValueTask<IReadOnlyList<StoredObjectVersion>> ListObjectsAsync(string device, int partition, IReadOnlyCollection<string> suffixes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(suffixes);
        var reclaimBefore = HashDirectoryState.ReclaimBefore(_time);
        var partitionPath = PartitionPath(device, partition);
        var versions = new List<StoredObjectVersion>();
        foreach (var suffix in suffixes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!IsSuffix(suffix))
            {
                throw new ArgumentException($"suffix '{suffix}' is not three lower-case hex digits.", nameof(suffixes));
            }

            foreach (var hashDirectory in ListDirectories(Path.Combine(partitionPath, suffix)))
            {
                var hash = Path.GetFileName(hashDirectory);
                var state = HashDirectoryState.Evaluate(ListFileNames(hashDirectory), reclaimBefore);
                if (IsHash(hash) && state.Newest is { } newest)
                {
                    versions.Add(new StoredObjectVersion(hash, state.Presence, newest.Timestamp, state.Meta?.Timestamp));
                }
            }
        }

        versions.Sort((a, b) => string.CompareOrdinal(a.Hash, b.Hash));
        return ValueTask.FromResult<IReadOnlyList<StoredObjectVersion>>(versions);
    }

    public async IAsyncEnumerable<ObjectLocation> EnumerateAsync(string device, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reclaimBefore = HashDirectoryState.ReclaimBefore(_time);
        foreach (var partitionDirectory in ListDirectories(Path.Combine(DevicePath(device), ObjectsDirectory)))
        {
            if (!TryParsePartition(Path.GetFileName(partitionDirectory), out var partition))
            {
                continue;
            }

            // One partition's directories are read at a time; the caller's work interleaves.
            await Task.Yield();
            foreach (var suffixDirectory in ListDirectories(partitionDirectory))
            {
                if (!IsSuffix(Path.GetFileName(suffixDirectory)))
                {
                    continue;
                }

                foreach (var hashDirectory in ListDirectories(suffixDirectory))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var hash = Path.GetFileName(hashDirectory);
                    if (IsHash(hash) && HashDirectoryState.Evaluate(ListFileNames(hashDirectory), reclaimBefore).Newest is not null)
                    {
                        yield return new ObjectLocation(device, partition, hash);
                    }
                }
            }
        }
    }

    public ValueTask QuarantineAsync(ObjectLocation location, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var hashDirectory = GetHashDirectory(location);
        var quarantine = Path.Combine(DevicePath(location.Device), QuarantineDirectory, ObjectsDirectory);
        lock (LockFor(hashDirectory))
        {
            if (!Directory.Exists(hashDirectory))
            {
                return ValueTask.CompletedTask;
            }

            AtomicFile.CreateDirectory(quarantine);
            Directory.Move(hashDirectory, Path.Combine(quarantine, $"{location.Hash}-{Guid.NewGuid():N}"));
            AtomicFile.SyncDirectory(quarantine);
            AtomicFile.SyncDirectory(Path.GetDirectoryName(hashDirectory)!);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask RemovePartitionAsync(string device, int partition, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var partitionPath = PartitionPath(device, partition);
        if (!Directory.Exists(partitionPath))
        {
            return ValueTask.CompletedTask;
        }

        // Renamed away first, so that the partition vanishes at once rather than file by file.
        var doomed = Path.Combine(TempPath(device), $"partition-{partition}-{Guid.NewGuid():N}");
        AtomicFile.CreateDirectory(TempPath(device));
        Directory.Move(partitionPath, doomed);
        AtomicFile.SyncDirectory(Path.GetDirectoryName(partitionPath)!);
        Directory.Delete(doomed, recursive: true);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Removes what crashed writes left in every device's tmp directory (entries older than
    /// <see cref="TempFileMaxAge"/>). Run at start and from the replicator's passes.
    /// </summary>
    /// <returns>How many entries were removed.</returns>
    public ValueTask<int> CleanTempAsync(CancellationToken cancellationToken)
    {
        var removed = 0;
        var cutoff = (_time.GetUtcNow() - TempFileMaxAge).UtcDateTime;
        foreach (var device in ListDirectories(_devicesRoot))
        {
            foreach (var entry in ListEntries(Path.Combine(device, TempDirectoryName)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    if (entry is DirectoryInfo directory && directory.LastWriteTimeUtc < cutoff)
                    {
                        directory.Delete(recursive: true);
                        removed++;
                    }
                    else if (entry is FileInfo file && file.LastWriteTimeUtc < cutoff)
                    {
                        file.Delete();
                        removed++;
                    }
                }
                catch (DirectoryNotFoundException)
                {
                }
            }
        }

        return ValueTask.FromResult(removed);
    }

    /// <summary>
    /// Makes a finished temp file <paramref name="file"/> of the object's hash directory when
    /// <paramref name="accept"/> agrees with what is there: sidecar first (when there is one), then
    /// the file, each rename made durable, then the files it supersedes are removed.
    /// </summary>
    /// <returns>True when the file is part of the object's state afterwards.</returns>
    internal bool Commit(ObjectLocation location, string tempPath, StoredFileName file, string? sidecarTempPath, Func<HashDirectoryState, bool> accept)
    {
        var hashDirectory = GetHashDirectory(location);
        lock (LockFor(hashDirectory))
        {
            var state = HashDirectoryState.Evaluate(ListFileNames(hashDirectory), HashDirectoryState.ReclaimBefore(_time));
            if (!accept(state))
            {
                return false;
            }

            AtomicFile.CreateDirectory(hashDirectory);
            var target = Path.Combine(hashDirectory, file.Name);
            if (sidecarTempPath is not null)
            {
                // Durable before the data appears: data is never visible without its metadata.
                File.Move(sidecarTempPath, target + SidecarSuffix, overwrite: true);
                AtomicFile.SyncDirectory(hashDirectory);
            }

            File.Move(tempPath, target, overwrite: true);
            AtomicFile.SyncDirectory(hashDirectory);
            return CleanUpLocked(hashDirectory).Kept.Contains(file);
        }
    }

    /// <summary>A new file in the device's tmp directory, created empty, for a write to fill.</summary>
    internal string CreateTempPath(string device)
    {
        var devicePath = DevicePath(device);
        if (!Directory.Exists(devicePath))
        {
            throw new DirectoryNotFoundException($"device '{device}' is not under {_devicesRoot}; mount it or remove it from the ring.");
        }

        var temp = TempPath(device);
        AtomicFile.CreateDirectory(temp);
        return Path.Combine(temp, Guid.NewGuid().ToString("N"));
    }

    /// <summary>Writes bytes to a new temp file and syncs it.</summary>
    internal string WriteTempFile(string device, ReadOnlySpan<byte> content)
    {
        var path = CreateTempPath(device);
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        stream.Write(content);
        stream.Flush(flushToDisk: true);
        return path;
    }

    /// <summary>Stores serialized metadata in the open file's xattr when this device uses them and it fits.</summary>
    internal bool TryStoreInExtendedAttribute(string device, SafeFileHandle file, ReadOnlySpan<byte> metadata) =>
        UsesExtendedAttributes(device)
        && ExtendedAttributes.Set(file, MetadataAttribute, metadata) == ExtendedAttributes.SetResult.Stored;

    internal static bool IsNewer(HashDirectoryState state, SwiftTimestamp timestamp) =>
        state.Newest is not { } newest || newest.Timestamp < timestamp;

    internal static bool AcceptsMetadata(HashDirectoryState state, SwiftTimestamp timestamp) =>
        state.Newest is { Kind: StoredFileKind.Data } data && data.Timestamp < timestamp
        && (state.Meta is not { } meta || meta.Timestamp < timestamp);

    internal static void DeleteIfExists(string? path)
    {
        if (path is not null)
        {
            File.Delete(path);
        }
    }

    private bool WriteSmallFile(ObjectLocation location, StoredFileName file, IReadOnlyDictionary<string, string> metadata, Func<HashDirectoryState, bool> accept)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var json = ObjectMetadata.Serialize(metadata);
        GetHashDirectory(location);
        var temp = CreateTempPath(location.Device);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                if (!TryStoreInExtendedAttribute(location.Device, stream.SafeFileHandle, json))
                {
                    stream.Write(json);
                }

                stream.Flush(flushToDisk: true);
            }

            return Commit(location, temp, file, sidecarTempPath: null, accept);
        }
        finally
        {
            DeleteIfExists(temp);
        }
    }

    private HashDirectoryState CleanUp(string hashDirectory)
    {
        lock (LockFor(hashDirectory))
        {
            return CleanUpLocked(hashDirectory);
        }
    }

    /// <summary>Swift's hash_cleanup_listdir, plus sidecars whose data is gone. Call under the hash directory's lock.</summary>
    private HashDirectoryState CleanUpLocked(string hashDirectory)
    {
        var names = ListFileNames(hashDirectory);
        var state = HashDirectoryState.Evaluate(names, HashDirectoryState.ReclaimBefore(_time));
        foreach (var obsolete in state.Obsolete)
        {
            var path = Path.Combine(hashDirectory, obsolete.Name);
            File.Delete(path);
            if (obsolete.Kind == StoredFileKind.Data)
            {
                File.Delete(path + SidecarSuffix);
            }
        }

        var present = names.ToHashSet(StringComparer.Ordinal);
        var orphanCutoff = (_time.GetUtcNow() - TempFileMaxAge).UtcDateTime;
        foreach (var name in names)
        {
            if (!name.EndsWith(SidecarSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            var dataName = name[..^SidecarSuffix.Length];
            var path = Path.Combine(hashDirectory, name);
            if (!StoredFileName.TryParse(dataName, out var data) || data.Kind != StoredFileKind.Data)
            {
                continue;
            }

            var superseded = state.Newest is { } newest && newest.Timestamp >= data.Timestamp && newest != data;
            if (!present.Contains(dataName) && (superseded || File.GetLastWriteTimeUtc(path) < orphanCutoff))
            {
                File.Delete(path);
            }
        }

        if (state.Newest is null)
        {
            TryRemoveEmptyDirectory(hashDirectory);
        }

        return state;
    }

    /// <summary>The tombstone's or .meta's metadata, or null when the file is gone.</summary>
    private static Dictionary<string, string>? ReadFileMetadata(string path)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        using (handle)
        {
            if (ExtendedAttributes.Get(handle, MetadataAttribute, ObjectMetadata.MaxSerializedBytes) is { } attribute)
            {
                return ObjectMetadata.Deserialize(attribute);
            }

            var length = RandomAccess.GetLength(handle);
            if (length > ObjectMetadata.MaxSerializedBytes)
            {
                throw new InvalidDataException($"{path} holds {length} bytes of metadata, more than a backend writes.");
            }

            var content = new byte[length];
            var read = 0;
            while (read < content.Length)
            {
                var n = RandomAccess.Read(handle, content.AsSpan(read), read);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            return ObjectMetadata.Deserialize(content.AsSpan(0, read));
        }
    }

    /// <summary>The data's metadata from its xattr or sidecar; null when both went away with the data.</summary>
    private static Dictionary<string, string>? ReadDataMetadata(SafeFileHandle data, string path)
    {
        if (ExtendedAttributes.Get(data, MetadataAttribute, ObjectMetadata.MaxSerializedBytes) is { } attribute)
        {
            return ObjectMetadata.Deserialize(attribute);
        }

        if (ReadFileMetadata(path + SidecarSuffix) is { } sidecar)
        {
            return sidecar;
        }

        // A cleanup removes the data before its sidecar: data still there without one is damage.
        return File.Exists(path)
            ? throw new InvalidDataException($"{path} has neither the {MetadataAttribute} xattr nor a {SidecarSuffix} sidecar.")
            : null;
    }

    private bool ProbeExtendedAttributes(string device)
    {
        var path = WriteTempFile(device, []);
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
            return ExtendedAttributes.Set(handle, ProbeAttribute, "1"u8) == ExtendedAttributes.SetResult.Stored;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private Lock LockFor(string hashDirectory) =>
        _hashLocks[(uint)StringComparer.Ordinal.GetHashCode(hashDirectory) % LockStripes];

    private string DevicePath(string device)
    {
        ArgumentException.ThrowIfNullOrEmpty(device);
        if (device is "." or ".." || device.Contains('/', StringComparison.Ordinal) || device.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"device name '{device}' is not one directory name.", nameof(device));
        }

        return Path.Combine(_devicesRoot, device);
    }

    private string TempPath(string device) => Path.Combine(DevicePath(device), TempDirectoryName);

    private string PartitionPath(string device, int partition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        return Path.Combine(DevicePath(device), ObjectsDirectory, partition.ToString(CultureInfo.InvariantCulture));
    }


    private static void TryRemoveEmptyDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: false);
        }
        catch (IOException)
        {
            // Not empty (a write arrived) or already gone: either way nothing to do.
        }
    }

    private static List<string> ListFileNames(string directory)
    {
        try
        {
            return Directory.GetFiles(directory).Select(p => Path.GetFileName(p)).ToList();
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static string[] ListDirectories(string directory)
    {
        try
        {
            return Directory.GetDirectories(directory);
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static FileSystemInfo[] ListEntries(string directory)
    {
        try
        {
            return new DirectoryInfo(directory).GetFileSystemInfos();
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static bool TryParsePartition(string name, out int partition) =>
        int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out partition)
        && partition.ToString(CultureInfo.InvariantCulture) == name;

    internal static bool IsSuffix(string name) => name.Length == 3 && name.All(char.IsAsciiHexDigitLower);

    internal static bool IsHash(string name) => name.Length == 32 && name.All(char.IsAsciiHexDigitLower);

    internal static void ValidateHash(string hash)
    {
        if (!IsHash(hash))
        {
            throw new ArgumentException($"object hash '{hash}' is not 32 lower-case hex digits.", nameof(hash));
        }
    }
}

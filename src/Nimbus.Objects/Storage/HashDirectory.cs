using System.Security.Cryptography;
using System.Text;
using Nimbus.Objects.Common;

namespace Nimbus.Objects.Storage;

internal enum StoredFileKind
{
    Data,
    Tombstone,
    Meta,
}

/// <summary>One file of a hash directory: <c>&lt;timestamp&gt;.data</c>, <c>.ts</c> or <c>.meta</c>.</summary>
internal readonly record struct StoredFileName(SwiftTimestamp Timestamp, StoredFileKind Kind)
{
    public string Name => Timestamp.Normal + Kind switch
    {
        StoredFileKind.Data => ".data",
        StoredFileKind.Tombstone => ".ts",
        _ => ".meta",
    };

    public static bool TryParse(string name, out StoredFileName file)
    {
        file = default;
        var dot = name.LastIndexOf('.');
        if (dot <= 0)
        {
            return false;
        }

        StoredFileKind kind;
        switch (name.AsSpan(dot + 1))
        {
            case "data":
                kind = StoredFileKind.Data;
                break;
            case "ts":
                kind = StoredFileKind.Tombstone;
                break;
            case "meta":
                kind = StoredFileKind.Meta;
                break;
            default:
                return false;
        }

        // Only the normal form: any other spelling of the same time would not sort with the rest.
        if (!SwiftTimestamp.TryParse(name.AsSpan(0, dot), out var timestamp) || timestamp.Normal.Length != dot
            || !name.AsSpan(0, dot).SequenceEqual(timestamp.Normal))
        {
            return false;
        }

        file = new StoredFileName(timestamp, kind);
        return true;
    }

    public override string ToString() => Name;
}

/// <summary>
/// What the files of one hash directory mean, by Swift's rules (diskfile.py, hash_cleanup_listdir):
/// the newest .data or .ts is the object's state (a .ts wins a tie); the newest .meta counts only
/// when the state is data older than it; everything else is obsolete, and so is a lone .ts older
/// than the reclaim age.
/// </summary>
internal sealed record HashDirectoryState(StoredFileName? Newest, StoredFileName? Meta, IReadOnlyList<StoredFileName> Obsolete)
{
    public static readonly TimeSpan ReclaimAge = TimeSpan.FromDays(7);

    public ObjectPresence Presence => Newest switch
    {
        null => ObjectPresence.Missing,
        { Kind: StoredFileKind.Tombstone } => ObjectPresence.Deleted,
        _ => ObjectPresence.Present,
    };

    /// <summary>The files that make up the object's state, in name order.</summary>
    public IEnumerable<StoredFileName> Kept
    {
        get
        {
            if (Newest is { } newest)
            {
                yield return newest;
            }

            if (Meta is { } meta)
            {
                yield return meta;
            }
        }
    }

    /// <param name="names">The directory's file names; names that are not object files are ignored.</param>
    /// <param name="reclaimBefore">Tombstones older than this are obsolete.</param>
    public static HashDirectoryState Evaluate(IEnumerable<string> names, SwiftTimestamp reclaimBefore)
    {
        var files = new List<StoredFileName>();
        foreach (var name in names)
        {
            if (StoredFileName.TryParse(name, out var file))
            {
                files.Add(file);
            }
        }

        StoredFileName? newest = null;
        foreach (var file in files)
        {
            if (file.Kind == StoredFileKind.Meta)
            {
                continue;
            }

            if (newest is not { } current || file.Timestamp > current.Timestamp
                || (file.Timestamp == current.Timestamp && file.Kind == StoredFileKind.Tombstone))
            {
                newest = file;
            }
        }

        if (newest is { Kind: StoredFileKind.Tombstone } tombstone && tombstone.Timestamp < reclaimBefore)
        {
            newest = null;
        }

        StoredFileName? meta = null;
        if (newest is { Kind: StoredFileKind.Data } data)
        {
            foreach (var file in files)
            {
                if (file.Kind == StoredFileKind.Meta && file.Timestamp > data.Timestamp
                    && (meta is not { } current || file.Timestamp > current.Timestamp))
                {
                    meta = file;
                }
            }
        }

        var obsolete = files.Where(f => f != newest && f != meta).ToList();
        return new HashDirectoryState(newest, meta, obsolete);
    }

    public static SwiftTimestamp ReclaimBefore(TimeProvider time) =>
        SwiftTimestamp.FromDateTimeOffset(time.GetUtcNow() - ReclaimAge);
}

/// <summary>
/// The replicator's suffix hash: MD5 over each object's hash and the names of the files that make
/// up its state, in hash order, so two devices holding the same versions agree.
/// </summary>
internal static class SuffixHash
{
    public static string? Compute(IEnumerable<(string Hash, HashDirectoryState State)> objects)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var any = false;
        foreach (var (hash, state) in objects.OrderBy(o => o.Hash, StringComparer.Ordinal))
        {
            foreach (var file in state.Kept)
            {
                md5.AppendData(Encoding.ASCII.GetBytes($"{hash}/{file.Name}\n"));
                any = true;
            }
        }

        return any ? Convert.ToHexStringLower(md5.GetHashAndReset()) : null;
    }
}

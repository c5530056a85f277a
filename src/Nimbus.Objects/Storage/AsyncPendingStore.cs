using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Nimbus.Objects.Common;
using Nimbus.Shared;

namespace Nimbus.Objects.Storage;

/// <summary>An object server's update of a container listing (Swift's container update).</summary>
/// <param name="Operation">"PUT" or "DELETE".</param>
/// <param name="Account">The object's account.</param>
/// <param name="Container">The object's container.</param>
/// <param name="Object">The object's name within the container.</param>
/// <param name="Timestamp">The object's X-Timestamp, which orders updates of one object.</param>
/// <param name="Size">The object's length in bytes (0 for DELETE).</param>
/// <param name="ContentType">The object's Content-Type, as the listing shows it.</param>
/// <param name="ETag">The MD5 of the object's content, as the listing shows it.</param>
/// <param name="ContainerPartition">The container's ring partition, so the updater need not look it up again.</param>
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Swift's name for the object part of a path.")]
public sealed record ContainerUpdateRecord(
    string Operation,
    string Account,
    string Container,
    string Object,
    SwiftTimestamp Timestamp,
    long Size,
    string ContentType,
    string ETag,
    int ContainerPartition);

/// <summary>A stored update; <paramref name="Id"/> names it for <see cref="AsyncPendingStore.CompleteAsync"/>.</summary>
public sealed record PendingUpdate(string Id, ContainerUpdateRecord Update);

/// <summary>
/// Swift's async_pending: container updates that no container server accepted, kept durably for
/// the object updater as <c>&lt;device&gt;/async_pending/&lt;suffix&gt;/&lt;hash&gt;-&lt;timestamp&gt;</c> (JSON),
/// where hash is the MD5 of /account/container/object. Only the newest update of each object
/// matters: an older one is superseded and removed.
/// </summary>
public sealed class AsyncPendingStore
{
    internal const string DirectoryName = "async_pending";

    private readonly string _devicesRoot;

    public AsyncPendingStore(string devicesRoot)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(devicesRoot);
        _devicesRoot = Path.GetFullPath(devicesRoot);
    }

    /// <summary>Stores the update durably unless a newer one for the same object is already pending.</summary>
    /// <returns>False when a newer (or the same) update was pending, so nothing was written.</returns>
    public async ValueTask<bool> WriteAsync(string device, ContainerUpdateRecord update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (update.Operation is not ("PUT" or "DELETE"))
        {
            throw new ArgumentException($"container update operation '{update.Operation}' is neither PUT nor DELETE.", nameof(update));
        }

        var hash = HashName(update);
        var directory = Path.Combine(PendingPath(device), hash[^3..]);
        var existing = ListForHash(directory, hash);
        if (existing.Any(e => e.Timestamp >= update.Timestamp))
        {
            return false;
        }

        AtomicFile.CreateDirectory(directory);
        var json = JsonSerializer.Serialize(StoredUpdate.From(update));
        await AtomicFile.WriteAllTextAsync(Path.Combine(directory, $"{hash}-{update.Timestamp.Normal}"), json, cancellationToken);
        foreach (var (older, _) in existing)
        {
            File.Delete(Path.Combine(directory, older));
        }

        return true;
    }

    /// <summary>The newest pending update of each object on the device; superseded ones are removed on the way.</summary>
    public async IAsyncEnumerable<PendingUpdate> EnumerateAsync(string device, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var directory in ListDirectories(PendingPath(device)))
        {
            var suffix = Path.GetFileName(directory);
            if (!DiskObjectBackend.IsSuffix(suffix))
            {
                continue;
            }

            var newest = new Dictionary<string, (string Name, SwiftTimestamp Timestamp)>(StringComparer.Ordinal);
            foreach (var path in ListFiles(directory))
            {
                var name = Path.GetFileName(path);
                if (!TryParseName(name, out var hash, out var timestamp))
                {
                    continue;
                }

                if (newest.TryGetValue(hash, out var current) && current.Timestamp >= timestamp)
                {
                    File.Delete(path);
                    continue;
                }

                if (current.Name is not null)
                {
                    File.Delete(Path.Combine(directory, current.Name));
                }

                newest[hash] = (name, timestamp);
            }

            foreach (var (name, _) in newest.Values.OrderBy(v => v.Name, StringComparer.Ordinal))
            {
                cancellationToken.ThrowIfCancellationRequested();
                string json;
                try
                {
                    json = await File.ReadAllTextAsync(Path.Combine(directory, name), cancellationToken);
                }
                catch (FileNotFoundException)
                {
                    continue;
                }

                var stored = JsonSerializer.Deserialize<StoredUpdate>(json)
                    ?? throw new InvalidDataException($"pending update {suffix}/{name} on {device} is JSON null.");
                yield return new PendingUpdate($"{suffix}/{name}", stored.ToRecord());
            }
        }
    }

    /// <summary>Removes an update the container server accepted, durably, so it is not sent again after a crash.</summary>
    public ValueTask CompleteAsync(string device, string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        cancellationToken.ThrowIfCancellationRequested();
        var slash = id.IndexOf('/', StringComparison.Ordinal);
        if (slash != 3 || !DiskObjectBackend.IsSuffix(id[..3]) || !TryParseName(id[4..], out var hash, out _) || hash[^3..] != id[..3])
        {
            throw new ArgumentException($"'{id}' is not the id of a pending update.", nameof(id));
        }

        var directory = Path.Combine(PendingPath(device), id[..3]);
        var path = Path.Combine(directory, id[4..]);
        if (File.Exists(path))
        {
            File.Delete(path);
            AtomicFile.SyncDirectory(directory);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The hash that names an object's pending updates: the MD5 of /account/container/object.</summary>
    internal static string HashName(ContainerUpdateRecord update)
    {
        ArgumentNullException.ThrowIfNull(update);
#pragma warning disable CA5351 // A stable file name for one object, not a security boundary.
        return Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes($"/{update.Account}/{update.Container}/{update.Object}")));
#pragma warning restore CA5351
    }

    private static List<(string Name, SwiftTimestamp Timestamp)> ListForHash(string directory, string hash)
    {
        var found = new List<(string, SwiftTimestamp)>();
        foreach (var path in ListFiles(directory))
        {
            var name = Path.GetFileName(path);
            if (TryParseName(name, out var other, out var timestamp) && other == hash)
            {
                found.Add((name, timestamp));
            }
        }

        return found;
    }

    private static bool TryParseName(string name, out string hash, out SwiftTimestamp timestamp)
    {
        hash = string.Empty;
        timestamp = default;
        if (name.Length < 34 || name[32] != '-' || !DiskObjectBackend.IsHash(name[..32])
            || !SwiftTimestamp.TryParse(name.AsSpan(33), out timestamp) || timestamp.Normal != name[33..])
        {
            return false;
        }

        hash = name[..32];
        return true;
    }

    private string PendingPath(string device)
    {
        ArgumentException.ThrowIfNullOrEmpty(device);
        if (device is "." or ".." || device.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"device name '{device}' is not one directory name.", nameof(device));
        }

        var devicePath = Path.Combine(_devicesRoot, device);
        return Path.Combine(devicePath, DirectoryName);
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

    private static string[] ListFiles(string directory)
    {
        try
        {
            return Directory.GetFiles(directory);
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    /// <summary>The JSON form: the timestamp in Swift's normal form rather than as ticks.</summary>
    private sealed record StoredUpdate(
        string Operation,
        string Account,
        string Container,
        string Object,
        string Timestamp,
        long Size,
        string ContentType,
        string ETag,
        int ContainerPartition)
    {
        public static StoredUpdate From(ContainerUpdateRecord update) => new(
            update.Operation, update.Account, update.Container, update.Object, update.Timestamp.Normal,
            update.Size, update.ContentType, update.ETag, update.ContainerPartition);

        public ContainerUpdateRecord ToRecord() => new(
            Operation,
            Account,
            Container,
            Object,
            SwiftTimestamp.TryParse(Timestamp, out var timestamp) ? timestamp : throw new InvalidDataException($"pending update timestamp '{Timestamp}' is not a timestamp."),
            Size,
            ContentType,
            ETag,
            ContainerPartition);
    }
}

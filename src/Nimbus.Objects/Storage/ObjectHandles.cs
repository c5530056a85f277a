using Microsoft.Win32.SafeHandles;

namespace Nimbus.Objects.Storage;

/// <summary>A missing or deleted object: its state, no data.</summary>
internal sealed class StateOnlyObjectHandle : ObjectHandle
{
    public static StateOnlyObjectHandle Missing() => new()
    {
        Presence = ObjectPresence.Missing,
        Timestamp = Common.SwiftTimestamp.Zero,
        Metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase),
        Length = 0,
    };

    public override Stream OpenRead(long offset = 0) =>
        throw new InvalidOperationException($"the object is {Presence.ToString().ToLowerInvariant()}; only a present object has data to read.");

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A present object on disk, holding its data file open from the moment it was chosen.</summary>
internal sealed class DiskObjectHandle(SafeFileHandle data) : ObjectHandle
{
    private const int ReadBufferSize = 64 * 1024;

    public override Stream OpenRead(long offset = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Length);
        ObjectDisposedException.ThrowIf(data.IsClosed, this);

        // A fresh open file description of the same inode: each reader gets its own position, and
        // the inode stays readable after a newer version unlinks its name.
        var added = false;
        data.DangerousAddRef(ref added);
        try
        {
            var stream = new FileStream(
                $"/proc/self/fd/{data.DangerousGetHandle()}",
                FileMode.Open,
                FileAccess.Read,
                FileShare.ReadWrite | FileShare.Delete,
                ReadBufferSize,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
            stream.Position = offset;
            return stream;
        }
        finally
        {
            if (added)
            {
                data.DangerousRelease();
            }
        }
    }

    public override ValueTask DisposeAsync()
    {
        data.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>A present object in memory; its bytes never change once committed.</summary>
internal sealed class MemoryObjectHandle(byte[] data) : ObjectHandle
{
    public override Stream OpenRead(long offset = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Length);
        return new MemoryStream(data, writable: false) { Position = offset };
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

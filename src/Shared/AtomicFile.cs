using System.Runtime.InteropServices;
using System.Text;

namespace Nimbus.Shared;

/// <summary>
/// Writes files so that readers see the old content or the new, never a mix, and so that an
/// acknowledged write survives power loss: temp file, fsync, rename, fsync of the directory.
/// Compiled into each assembly that needs it (src/Shared), so Nimbus.Virt stays free of Nimbus dependencies.
/// </summary>
internal static partial class AtomicFile
{
    /// <summary>Read and write for the owner only (0600): the mode of every file that holds a secret.</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>0700: the mode of a directory only its owner may enter (the state directory, key directories).</summary>
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static Task WriteAllTextAsync(string path, string content, CancellationToken cancellationToken) =>
        WriteAllBytesAsync(path, Encoding.UTF8.GetBytes(content), cancellationToken);

    /// <summary>Writes text into a file created with <paramref name="mode"/> (such as <see cref="OwnerOnly"/>) before its first byte.</summary>
    public static Task WriteAllTextAsync(string path, string content, UnixFileMode mode, CancellationToken cancellationToken) =>
        WriteAllBytesAsync(path, Encoding.UTF8.GetBytes(content), mode, cancellationToken);

    public static Task WriteAllBytesAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        WriteAsync(path, null, (stream, ct) => stream.WriteAsync(content, ct), cancellationToken);

    /// <summary>Writes bytes into a file created with <paramref name="mode"/> before its first byte.</summary>
    public static Task WriteAllBytesAsync(string path, ReadOnlyMemory<byte> content, UnixFileMode mode, CancellationToken cancellationToken) =>
        WriteAsync(path, mode, (stream, ct) => stream.WriteAsync(content, ct), cancellationToken);

    /// <summary>
    /// Replaces <paramref name="path"/> with what <paramref name="write"/> writes. With a <paramref name="mode"/>,
    /// the temp file is created with it (less the umask), so a secret is never readable by others, not even for
    /// the moment between creating and renaming; without one, the process's default mode applies.
    /// </summary>
    public static async Task WriteAsync(string path, UnixFileMode? mode, Func<Stream, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(write);
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
            if (mode is { } createMode)
            {
                options.UnixCreateMode = createMode;
            }

            await using (var stream = new FileStream(temp, options))
            {
                await write(stream, cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, fullPath, overwrite: true);
            SyncDirectory(directory);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// Makes an empty marker file exist or not (an autostart flag, an active pool), durably either
    /// way: a crash never brings back a flag that was cleared.
    /// </summary>
    public static async Task SetMarkerAsync(string path, bool present, CancellationToken cancellationToken)
    {
        if (present)
        {
            await WriteAllTextAsync(path, string.Empty, cancellationToken);
            return;
        }

        if (File.Exists(path))
        {
            File.Delete(path);
            SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
    }

    /// <summary>Creates a directory and its missing parents, syncing each parent so the new entries survive a crash.</summary>
    public static void CreateDirectory(string path) => CreateDirectory(path, null);

    /// <summary>
    /// Creates a directory and its missing parents as <see cref="CreateDirectory(string)"/> does; the directory
    /// itself (not its parents) is created with <paramref name="mode"/>, so it is never open wider, even briefly.
    /// </summary>
    public static void CreateDirectory(string path, UnixFileMode? mode)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        var missing = new Stack<string>();
        for (var current = path; !Directory.Exists(current); current = Path.GetDirectoryName(current)!)
        {
            missing.Push(current);
        }

        if (mode is { } createMode)
        {
            Directory.CreateDirectory(path, createMode);
        }
        else
        {
            Directory.CreateDirectory(path);
        }

        foreach (var created in missing)
        {
            SyncDirectory(Path.GetDirectoryName(created)!);
        }
    }

    /// <summary>Makes a rename or delete inside <paramref name="directory"/> durable.</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fd = Open(directory, OpenReadOnly | OpenDirectory);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory '{directory}' to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (FSync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private const int OpenReadOnly = 0;
    private const int OpenDirectory = 0x10000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

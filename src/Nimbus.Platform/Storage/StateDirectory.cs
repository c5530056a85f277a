using Nimbus.Platform.Errors;
using Nimbus.Shared;

namespace Nimbus.Platform.Storage;

/// <summary>
/// The node's state directory (<c>$NIMBUS_HOME</c>): created when missing, proven writable before
/// anything starts, and held by one daemon at a time through an advisory lock.
/// </summary>
public sealed class StateDirectory : IDisposable
{
    public const string EnvironmentVariable = "NIMBUS_HOME";
    public const string DefaultPath = ".nimbus";
    private const string LockFileName = "nimbusd.lock";

    private readonly FileStream _lock;

    private StateDirectory(string path, FileStream lockStream)
    {
        Path = path;
        _lock = lockStream;
    }

    public string Path { get; }

    /// <summary>The state directory named by <paramref name="explicitPath"/>, else <c>$NIMBUS_HOME</c>, else <c>./.nimbus</c>.</summary>
    public static string Resolve(string? explicitPath, string? environmentValue) =>
        System.IO.Path.GetFullPath(
            !string.IsNullOrWhiteSpace(explicitPath) ? explicitPath
            : !string.IsNullOrWhiteSpace(environmentValue) ? environmentValue
            : DefaultPath);

    /// <summary>
    /// Creates the directory if needed, owner-only (0700) from the start since it holds the cloud's secrets,
    /// and writes, syncs and removes a probe file in it. An existing directory keeps the mode its owner gave it.
    /// </summary>
    public static void EnsureWritable(string path)
    {
        var probe = System.IO.Path.Combine(path, $".write-probe-{Environment.ProcessId}");
        try
        {
            AtomicFile.CreateDirectory(path, AtomicFile.OwnerOnlyDirectory);
            using (var stream = new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.WriteByte(0);
                stream.Flush(flushToDisk: true);
            }

            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException(
                "config.state_dir_unwritable",
                EnvironmentVariable,
                $"state directory '{path}' is not writable ({ex.Message.TrimEnd('.')}); set NIMBUS_HOME or --home to a directory nimbusd can create and write.",
                ex);
        }
    }

    /// <summary>Takes the directory for this process; fails when another daemon holds it.</summary>
    public static StateDirectory Acquire(string path)
    {
        EnsureWritable(path);
        var lockPath = System.IO.Path.Combine(path, LockFileName);
        try
        {
            // FileShare.None is an exclusive flock on Unix: the kernel drops it when the process dies, even by kill -9.
            var stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return new StateDirectory(path, stream);
        }
        catch (IOException ex)
        {
            throw new ConflictException(
                "daemon.state_dir_in_use",
                $"another nimbusd is already using the state directory '{path}'; stop it first, or give this one its own directory with --home or NIMBUS_HOME.",
                ex);
        }
    }

    public void Dispose() => _lock.Dispose();
}

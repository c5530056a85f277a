using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Nimbus.Platform.Errors;
using Nimbus.Shared;

namespace Nimbus.Identity.Tokens;

/// <summary>
/// The token keys of this deployment, as keystone-manage fernet_setup / fernet_rotate keep them: a
/// directory of files named 0, 1, 2…, each 32 random bytes, mode 0600. Key 0 is staged (every node
/// already decrypts with it before it encrypts anything), the highest number is the primary that
/// seals new tokens, the ones between are secondaries that still open tokens they sealed. Rotation
/// promotes the staged key, stages a new one and drops the oldest secondaries beyond
/// <see cref="MaxActiveKeys"/>. Nodes sharing the directory notice a rotation made elsewhere through
/// a change marker checked at most once a second (<see cref="ReloadIfChangedAsync"/>), so
/// validation itself never touches the disk.
/// </summary>
public sealed class TokenKeyRing : IDisposable
{
    /// <summary>Where the keys live under $NIMBUS_HOME.</summary>
    public const string HomeRelativeDirectory = "identity/token-keys";

    /// <summary>Fewer than three would drop the previous primary at a rotation and end its tokens early.</summary>
    public const int MinActiveKeys = 3;

    private const string MarkerFile = ".rotation";
    private const string LockFile = ".lock";
    private const UnixFileMode KeyFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(30);

    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _rotating = new(1, 1);
    private volatile KeySet _keys;
    private string _marker;
    private long _lastCheck;

    private TokenKeyRing(string directory, int maxActiveKeys, TimeProvider time, ILogger logger, KeySet keys, string marker)
    {
        Directory = directory;
        MaxActiveKeys = maxActiveKeys;
        _time = time;
        _logger = logger;
        _keys = keys;
        _marker = marker;
        _lastCheck = time.GetTimestamp();
    }

    public string Directory { get; }

    /// <summary>Staged, primary and secondaries together (keystone's max_active_keys).</summary>
    public int MaxActiveKeys { get; }

    /// <summary>The number of the key that seals new tokens.</summary>
    public int PrimaryIndex => _keys.Primary.Index;

    /// <summary>The numbers of the keys that open tokens, lowest first (0, the staged key, among them).</summary>
    public IReadOnlyList<int> KeyIndexes => [.. _keys.All.Select(k => k.Index).Order()];

    internal KeySet Keys => _keys;

    /// <summary>Releases the current keys; keys retired by earlier rotations are left to the finalizers, since a validation may still hold them.</summary>
    public void Dispose()
    {
        _rotating.Dispose();
        foreach (var key in _keys.All)
        {
            key.Dispose();
        }
    }

    public static Task<TokenKeyRing> LoadOrCreateAsync(string directory, int maxActiveKeys = MinActiveKeys, CancellationToken cancellationToken = default) =>
        LoadOrCreateAsync(directory, maxActiveKeys, TimeProvider.System, NullLogger.Instance, cancellationToken);

    /// <summary>
    /// Loads the keys in <paramref name="directory"/>, creating the directory (mode 0700) with a
    /// staged key and a primary when it holds none (fernet_setup).
    /// </summary>
    public static async Task<TokenKeyRing> LoadOrCreateAsync(string directory, int maxActiveKeys, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxActiveKeys, MinActiveKeys);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        directory = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            AtomicFile.CreateDirectory(directory, DirectoryMode);
        }
        else if ((File.GetUnixFileMode(directory) & ~DirectoryMode) != 0)
        {
            // Key files are created 0600; a private directory keeps their names, the marker and the lock private too.
            try
            {
                File.SetUnixFileMode(directory, DirectoryMode);
            }
            catch (UnauthorizedAccessException)
            {
                TokensLog.KeyDirectoryNotPrivate(logger, directory);
            }
        }

        var files = ReadKeyFiles(directory);
        if (files.Count == 0)
        {
            await using var held = await LockAsync(directory, time, cancellationToken);
            files = ReadKeyFiles(directory);
            if (files.Count == 0)
            {
                // fernet_setup: a staged key, then a rotation that makes it the first primary.
                await WriteKeyAsync(directory, 0, RandomNumberGenerator.GetBytes(TokenKey.KeyBytes), cancellationToken);
                await RotateFilesAsync(directory, maxActiveKeys, cancellationToken);
                files = ReadKeyFiles(directory);
                TokensLog.KeysCreated(logger, directory);
            }
        }

        var ring = new TokenKeyRing(directory, maxActiveKeys, time, logger, KeySet.From(files), ReadMarker(directory));
        TokensLog.KeysLoaded(logger, directory, files.Count, ring.PrimaryIndex);
        return ring;
    }

    /// <summary>
    /// fernet_rotate: the staged key becomes the primary, a new staged key is made, and the oldest
    /// secondaries beyond <see cref="MaxActiveKeys"/> are removed (their tokens stop validating).
    /// Serialized with rotations by other processes on the same directory.
    /// </summary>
    public async Task RotateAsync(CancellationToken cancellationToken)
    {
        await _rotating.WaitAsync(cancellationToken);
        try
        {
            await using (await LockAsync(Directory, _time, cancellationToken))
            {
                await RotateFilesAsync(Directory, MaxActiveKeys, cancellationToken);
                Reload(ReadMarker(Directory));
            }

            TokensLog.KeysRotated(_logger, Directory, PrimaryIndex, _keys.All.Length);
        }
        finally
        {
            _rotating.Release();
        }
    }

    /// <summary>
    /// Reloads the keys when another process rotated them. Reads only the small change marker, and
    /// that at most once a second; returns whether the keys changed.
    /// </summary>
    public Task<bool> ReloadIfChangedAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetTimestamp();
        if (_time.GetElapsedTime(Interlocked.Read(ref _lastCheck), now) < CheckInterval)
        {
            return Task.FromResult(false);
        }

        Interlocked.Exchange(ref _lastCheck, now);
        try
        {
            var marker = ReadMarker(Directory);
            if (string.Equals(marker, Volatile.Read(ref _marker), StringComparison.Ordinal))
            {
                return Task.FromResult(false);
            }

            Reload(marker);
        }
        catch (Exception ex) when (ex is NimbusException or IOException or UnauthorizedAccessException)
        {
            // Keep validating with the keys we have rather than with none; the next check retries.
            TokensLog.KeysReloadFailed(_logger, Directory, ex);
            return Task.FromResult(false);
        }

        TokensLog.KeysReloaded(_logger, Directory, PrimaryIndex, _keys.All.Length);
        return Task.FromResult(true);
    }

    private void Reload(string marker)
    {
        var files = ReadKeyFiles(Directory);
        if (files.Count == 0)
        {
            throw new ServiceUnavailableException("identity.token_keys_missing", $"the token key directory {Directory} holds no keys; restore it from another node or a backup (every node must share the same keys).");
        }

        _keys = KeySet.From(files);
        Volatile.Write(ref _marker, marker);
    }

    private static async Task RotateFilesAsync(string directory, int maxActiveKeys, CancellationToken cancellationToken)
    {
        var indexes = KeyFileIndexes(directory);
        var next = indexes.Count == 0 ? 1 : Math.Max(indexes[^1], 0) + 1;
        var staged = indexes.Contains(0) ? ReadKeyFile(directory, 0) : RandomNumberGenerator.GetBytes(TokenKey.KeyBytes);

        // Each step leaves a usable ring behind: the new primary exists before the staged key is
        // replaced, and the marker changes last so other nodes reload the finished state.
        await WriteKeyAsync(directory, next, staged, cancellationToken);
        await WriteKeyAsync(directory, 0, RandomNumberGenerator.GetBytes(TokenKey.KeyBytes), cancellationToken);
        var secondaries = KeyFileIndexes(directory).Where(i => i != 0 && i != next).ToList();
        var excess = secondaries.Count + 2 - maxActiveKeys;
        foreach (var old in secondaries.Take(Math.Max(excess, 0)))
        {
            File.Delete(Path.Combine(directory, old.ToString(CultureInfo.InvariantCulture)));
        }

        AtomicFile.SyncDirectory(directory);
        await AtomicFile.WriteAllTextAsync(Path.Combine(directory, MarkerFile), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), cancellationToken);
    }

    private static async Task WriteKeyAsync(string directory, int index, byte[] key, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, index.ToString(CultureInfo.InvariantCulture));
        await AtomicFile.WriteAllBytesAsync(path, key, KeyFileMode, cancellationToken);
    }

    private static List<int> KeyFileIndexes(string directory)
    {
        var indexes = new List<int>();
        foreach (var path in System.IO.Directory.EnumerateFiles(directory))
        {
            var name = Path.GetFileName(path);
            if (name.Length is > 0 and < 10 && name.All(char.IsAsciiDigit) && (name == "0" || name[0] != '0')
                && int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                indexes.Add(index);
            }
        }

        indexes.Sort();
        return indexes;
    }

    private static List<(int Index, byte[] Key)> ReadKeyFiles(string directory) =>
        [.. KeyFileIndexes(directory).Select(i => (i, ReadKeyFile(directory, i)))];

    private static byte[] ReadKeyFile(string directory, int index)
    {
        var path = Path.Combine(directory, index.ToString(CultureInfo.InvariantCulture));
        byte[] key;
        try
        {
            key = File.ReadAllBytes(path);
        }
        catch (IOException ex)
        {
            throw new ServiceUnavailableException("identity.token_key_unreadable", $"cannot read token key {path}: {ex.Message}; check its owner and mode (0600, owned by the user nimbusd runs as).", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new ServiceUnavailableException("identity.token_key_unreadable", $"cannot read token key {path}: {ex.Message}; check its owner and mode (0600, owned by the user nimbusd runs as).", ex);
        }

        if (key.Length != TokenKey.KeyBytes)
        {
            throw new ServiceUnavailableException("identity.token_key_invalid", $"token key {path} holds {key.Length} bytes, not {TokenKey.KeyBytes}; restore the directory from another node, or remove the file if it is not a key.");
        }

        return key;
    }

    // What changes when the keys do: the marker a rotation rewrites, and the directory's mtime, which
    // also catches keys copied in by hand or by rsync from another node (as operators share Fernet keys).
    // Read before the keys, so a change made while they are read shows at the next check.
    private static string ReadMarker(string directory)
    {
        var modified = System.IO.Directory.GetLastWriteTimeUtc(directory).Ticks.ToString(CultureInfo.InvariantCulture);
        try
        {
            return modified + "/" + File.ReadAllText(Path.Combine(directory, MarkerFile));
        }
        catch (FileNotFoundException)
        {
            return modified;
        }
    }

    // Serializes set-up and rotation across processes: .NET takes an advisory flock for FileShare.None.
    private static async Task<FileStream> LockAsync(string directory, TimeProvider time, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, LockFile);
        var started = time.GetTimestamp();
        while (true)
        {
            try
            {
                return new FileStream(path, new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None, UnixCreateMode = KeyFileMode });
            }
            catch (IOException) when (time.GetElapsedTime(started) < LockWait)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
            }
        }
    }

    /// <summary>One immutable view of the ring, swapped whole so validation never sees a half-loaded ring.</summary>
    internal sealed class KeySet
    {
        private KeySet(TokenKey primary, TokenKey[] all)
        {
            Primary = primary;
            All = all;
        }

        public TokenKey Primary { get; }

        /// <summary>Every key that opens tokens, primary first.</summary>
        public TokenKey[] All { get; }

        public static KeySet From(IReadOnlyList<(int Index, byte[] Key)> files)
        {
            var keys = files.OrderByDescending(f => f.Index).Select(f => new TokenKey(f.Index, f.Key)).ToArray();
            return new KeySet(keys[0], keys);
        }
    }
}

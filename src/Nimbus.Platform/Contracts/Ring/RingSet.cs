namespace Nimbus.Objects.Ring;

/// <summary>
/// The account, container and object rings of a cluster, loaded from one directory
/// (<c>account.ring</c>, <c>container.ring</c>, <c>object.ring</c>) and reloaded when a new ring
/// file is shipped there, at most once per check interval.
/// </summary>
public sealed class RingSet
{
    public const string AccountRing = "account";
    public const string ContainerRing = "container";
    public const string ObjectRing = "object";

    private readonly string _directory;
    private readonly TimeProvider _time;
    private readonly TimeSpan _checkInterval;
    private readonly Lock _reloadLock = new();
    private Loaded _loaded;
    private long _nextCheckTicks;

    public RingSet(string directory, TimeProvider time, TimeSpan? checkInterval = null)
    {
        _directory = directory;
        _time = time;
        _checkInterval = checkInterval ?? TimeSpan.FromSeconds(5);
        _loaded = Load(directory);
        _nextCheckTicks = time.GetUtcNow().UtcTicks + _checkInterval.Ticks;
    }

    public string Directory => _directory;

    public HashRing Accounts => Current.Account;

    public HashRing Containers => Current.Container;

    public HashRing Objects => Current.Object;

    public static string PathOf(string directory, string ring) => System.IO.Path.Combine(directory, ring + ".ring");

    private Loaded Current
    {
        get
        {
            var now = _time.GetUtcNow().UtcTicks;
            if (now >= Volatile.Read(ref _nextCheckTicks))
            {
                ReloadIfChanged(now);
            }

            return Volatile.Read(ref _loaded);
        }
    }

    private void ReloadIfChanged(long now)
    {
        lock (_reloadLock)
        {
            if (now < _nextCheckTicks)
            {
                return;
            }

            _nextCheckTicks = now + _checkInterval.Ticks;
            var current = _loaded;
            if (Stamp(_directory) == current.Stamp)
            {
                return;
            }

            try
            {
                Volatile.Write(ref _loaded, Load(_directory));
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
                // A ring file being replaced mid-read; the next check picks up the finished one.
            }
        }
    }

    private static Loaded Load(string directory) => new(
        HashRing.Load(PathOf(directory, AccountRing)),
        HashRing.Load(PathOf(directory, ContainerRing)),
        HashRing.Load(PathOf(directory, ObjectRing)),
        Stamp(directory));

    private static string Stamp(string directory) => string.Join('|', new[] { AccountRing, ContainerRing, ObjectRing }
        .Select(r => new FileInfo(PathOf(directory, r)))
        .Select(f => f.Exists ? $"{f.LastWriteTimeUtc.Ticks}:{f.Length}" : "-"));

    private sealed record Loaded(HashRing Account, HashRing Container, HashRing Object, string Stamp);
}

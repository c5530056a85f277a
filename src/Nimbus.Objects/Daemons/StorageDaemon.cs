using Microsoft.Extensions.Logging;

namespace Nimbus.Objects.Daemons;

/// <summary>
/// A consistency daemon of a storage node (Swift's swift/common/daemon.py): one pass over the
/// node's devices in <see cref="RunOnceAsync"/>, which tests call directly, and a loop that repeats
/// it at an interval while the node runs.
/// </summary>
public abstract class StorageDaemon
{
    protected StorageDaemon(string name, TimeSpan interval, TimeProvider time, ILogger logger)
    {
        Name = name;
        Interval = interval;
        Time = time;
        Logger = logger;
    }

    public string Name { get; }

    public TimeSpan Interval { get; }

    protected TimeProvider Time { get; }

    protected ILogger Logger { get; }

    /// <summary>One full pass; returns what it did, for logs and tests.</summary>
    public abstract Task<DaemonPass> RunOnceAsync(CancellationToken cancellationToken);

    /// <summary>Work between full passes (the updater's changed containers); nothing by default.</summary>
    protected virtual Task RunBetweenPassesAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Between-pass work runs this often.</summary>
    protected virtual TimeSpan BetweenPassesInterval => Interval;

    /// <summary>Swift's run_forever: passes at the interval until stopped; a failed pass is logged, not fatal.</summary>
    public async Task RunForeverAsync(CancellationToken cancellationToken)
    {
        var nextPass = Time.GetUtcNow();
        var tick = BetweenPassesInterval < Interval ? BetweenPassesInterval : Interval;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (Time.GetUtcNow() >= nextPass)
                {
                    nextPass = Time.GetUtcNow() + Interval;
                    var pass = await RunOnceAsync(cancellationToken);
                    ObjectsLog.DaemonPass(Logger, Name, pass.Examined, pass.Changed, pass.Failed);
                }
                else
                {
                    await RunBetweenPassesAsync(cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                ObjectsLog.DaemonFailed(Logger, Name, ex);
            }

            try
            {
                await Task.Delay(tick, Time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The devices (directories) under a node's devices root.</summary>
    protected static IEnumerable<string> Devices(string devicesRoot) =>
        Directory.Exists(devicesRoot)
            ? Directory.EnumerateDirectories(devicesRoot).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)
            : [];
}

/// <summary>What one pass did: items examined, changed (pushed, quarantined, reported…), failed.</summary>
public sealed record DaemonPass(int Examined, int Changed, int Failed)
{
    public static DaemonPass operator +(DaemonPass left, DaemonPass right) =>
        new(left.Examined + right.Examined, left.Changed + right.Changed, left.Failed + right.Failed);

    public static DaemonPass Empty { get; } = new(0, 0, 0);
}

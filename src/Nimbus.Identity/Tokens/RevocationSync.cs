using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Nimbus.Identity.Tokens;

/// <summary>
/// Keeps this node's view of revocations and token keys current: about once a second it learns
/// the revocation events other nodes recorded and reloads the keys if another process rotated them.
/// </summary>
public sealed class RevocationSync : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    private readonly RevocationList _revocations;
    private readonly TokenKeyRing _keys;
    private readonly TimeProvider _time;
    private readonly ILogger<RevocationSync> _logger;

    public RevocationSync(RevocationList revocations, TokenKeyRing keys, TimeProvider time, ILogger<RevocationSync> logger)
    {
        ArgumentNullException.ThrowIfNull(revocations);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _revocations = revocations;
        _keys = keys;
        _time = time;
        _logger = logger;
    }

    /// <summary>One round: check the key ring for a rotation, then sync revocation events (pruning aged ones now and then). Returns the events learned.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        // The key check reports its own failures, so a database that is away never holds back a rotation.
        await _keys.ReloadIfChangedAsync(cancellationToken);
        return await _revocations.SyncAsync(cancellationToken);
    }

    /// <summary>Loads the revocation events before the host serves requests, so no revoked token is honoured at start-up.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await _revocations.SyncAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, _time);
        while (await WaitAsync(timer, stoppingToken))
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A database that is briefly away must not stop the loop; the next round catches up.
                TokensLog.SyncFailed(_logger, ex);
            }
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}

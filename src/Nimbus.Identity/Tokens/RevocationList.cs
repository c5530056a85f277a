using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Nimbus.Platform.Data;

namespace Nimbus.Identity.Tokens;

/// <summary>
/// The revocation events every node honours (Keystone's revoke API): kept in the identity table
/// <c>revocation_events</c> and, for validation, in an in-memory <see cref="RevocationIndex"/>.
/// <see cref="AddAsync"/> records an event and honours it here at once; <see cref="SyncAsync"/>
/// learns events recorded by other nodes and prunes those that can no longer revoke an unexpired
/// token. Times are kept to the millisecond, IssuedBefore rounded up so that no node honours an
/// event less than the node that made it.
/// </summary>
public sealed class RevocationList : IDisposable
{
    /// <summary>The table the identity migration creates; tests create it with this statement.</summary>
    public const string TableSql =
        "CREATE TABLE revocation_events (id TEXT PRIMARY KEY, user_id TEXT NULL, project_id TEXT NULL, domain_id TEXT NULL, role_id TEXT NULL, audit_id TEXT NULL, app_cred_id TEXT NULL, issued_before BIGINT NOT NULL, revoked_at BIGINT NOT NULL); "
        + "CREATE INDEX revocation_events_revoked_at ON revocation_events (revoked_at);";

    /// <summary>How far back each sync re-reads, for clocks that differ between nodes and writes that commit late.</summary>
    public static readonly TimeSpan DefaultSyncOverlap = TimeSpan.FromMinutes(1);

    private const string Columns =
        "id AS Id, user_id AS UserId, project_id AS ProjectId, domain_id AS DomainId, role_id AS RoleId, audit_id AS AuditId, app_cred_id AS ApplicationCredentialId, issued_before AS IssuedBefore, revoked_at AS RevokedAt";

    private static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(1);

    private readonly Database _database;
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxTokenLifetime;
    private readonly TimeSpan _syncOverlap;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _syncing = new(1, 1);
    private readonly Dictionary<string, RevocationEvent> _events = new(StringComparer.Ordinal);
    private volatile RevocationIndex _index = RevocationIndex.Empty;
    private long? _syncedThrough;
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;

    /// <param name="database">The identity database holding <c>revocation_events</c>.</param>
    /// <param name="time">The clock that decides which events have aged out.</param>
    /// <param name="maxTokenLifetime">The longest a token lives (expiration plus any window for expired tokens); older events are pruned.</param>
    /// <param name="logger">Where recorded, synced and pruned events are reported.</param>
    /// <param name="syncOverlap">How far back each sync re-reads; <see cref="DefaultSyncOverlap"/> when null.</param>
    public RevocationList(Database database, TimeProvider time, TimeSpan maxTokenLifetime, ILogger<RevocationList>? logger = null, TimeSpan? syncOverlap = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxTokenLifetime, TimeSpan.Zero);
        _database = database;
        _time = time;
        _maxTokenLifetime = maxTokenLifetime;
        _syncOverlap = syncOverlap ?? DefaultSyncOverlap;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The longest a token may live: events that reach no further back are pruned, so no token may outlive it.</summary>
    public TimeSpan MaxTokenLifetime => _maxTokenLifetime;

    public void Dispose() => _syncing.Dispose();

    /// <summary>The events held in memory (those that may still revoke an unexpired token).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _events.Count;
            }
        }
    }

    /// <summary>Whether an event revokes <paramref name="token"/>. No I/O and no locks: a few hash lookups.</summary>
    public bool IsRevoked(TokenPayload token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _index.IsRevoked(token);
    }

    /// <summary>The events held, oldest first (for GET /v3/OS-REVOKE/events).</summary>
    public IReadOnlyList<RevocationEvent> Events(DateTimeOffset? since = null)
    {
        lock (_gate)
        {
            return [.. _events.Values.Where(e => since is null || e.RevokedAt >= since).OrderBy(e => e.RevokedAt).ThenBy(e => e.Id, StringComparer.Ordinal)];
        }
    }

    /// <summary>
    /// Stores <paramref name="revocation"/> under a new id and honours it on this node before
    /// returning; other nodes honour it after their next sync. Returns the event as stored.
    /// </summary>
    public async Task<RevocationEvent> AddAsync(RevocationEvent revocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(revocation);
        var stored = Normalize(revocation);
        await _database.WriteAsync(
            session => session.ExecuteAsync(
                "INSERT INTO revocation_events (id, user_id, project_id, domain_id, role_id, audit_id, app_cred_id, issued_before, revoked_at) "
                + "VALUES (@Id, @UserId, @ProjectId, @DomainId, @RoleId, @AuditId, @ApplicationCredentialId, @IssuedBefore, @RevokedAt)",
                EventRow.From(stored)),
            cancellationToken);
        Apply([stored]);
        TokensLog.EventRecorded(_logger, stored.Id, stored.UserId, stored.ProjectId, stored.DomainId, stored.RoleId, stored.AuditId, stored.ApplicationCredentialId, stored.IssuedBefore);
        return stored;
    }

    /// <summary>
    /// Learns the events recorded since the last sync (by any node), re-reading an overlap window
    /// and skipping ids already known; prunes aged-out events at most once a minute. Returns how
    /// many events were new here.
    /// </summary>
    public async Task<int> SyncAsync(CancellationToken cancellationToken)
    {
        await _syncing.WaitAsync(cancellationToken);
        try
        {
            var since = _syncedThrough is { } through ? through - (long)_syncOverlap.TotalMilliseconds : long.MinValue;
            var rows = await _database.ReadAsync(
                session => session.QueryAsync<EventRow>($"SELECT {Columns} FROM revocation_events WHERE revoked_at >= @Since", new { Since = since }),
                cancellationToken);
            if (rows.Count > 0)
            {
                _syncedThrough = Math.Max(_syncedThrough ?? long.MinValue, rows.Max(r => r.RevokedAt));
            }

            var learned = Apply([.. rows.Select(r => r.ToEvent())]);
            if (learned > 0)
            {
                TokensLog.EventsSynced(_logger, learned, Count);
            }

            if (_time.GetUtcNow() - _lastPrune >= PruneInterval)
            {
                await PruneCoreAsync(cancellationToken);
            }

            return learned;
        }
        finally
        {
            _syncing.Release();
        }
    }

    /// <summary>Removes, from memory and the table, the events that can no longer revoke an unexpired token. Returns the rows deleted.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        await _syncing.WaitAsync(cancellationToken);
        try
        {
            return await PruneCoreAsync(cancellationToken);
        }
        finally
        {
            _syncing.Release();
        }
    }

    private async Task<int> PruneCoreAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var cutoff = now - _maxTokenLifetime;
        var cutoffMs = cutoff.ToUnixTimeMilliseconds();
        // Any token issued at or before the cutoff has expired, so an event that only reaches that far revokes nothing.
        var rows = await _database.WriteAsync(
            session => session.ExecuteAsync("DELETE FROM revocation_events WHERE revoked_at < @Cutoff AND issued_before < @Cutoff", new { Cutoff = cutoffMs }),
            cancellationToken);
        int total;
        lock (_gate)
        {
            var expired = _events.Values.Where(e => e.IssuedBefore < cutoff).Select(e => e.Id).ToList();
            foreach (var id in expired)
            {
                _events.Remove(id);
            }

            if (expired.Count > 0)
            {
                _index = RevocationIndex.Of(_events.Values);
            }

            total = _events.Count;
        }

        _lastPrune = now;
        if (rows > 0)
        {
            TokensLog.EventsPruned(_logger, rows, cutoff, total);
        }

        return rows;
    }

    // Adds the events not yet known (by id) and still able to revoke something; returns how many.
    private int Apply(IReadOnlyList<RevocationEvent> events)
    {
        var cutoff = _time.GetUtcNow() - _maxTokenLifetime;
        lock (_gate)
        {
            var added = new List<RevocationEvent>();
            foreach (var e in events)
            {
                if (e.IssuedBefore >= cutoff && _events.TryAdd(e.Id, e))
                {
                    added.Add(e);
                }
            }

            _index = _index.With(added);
            return added.Count;
        }
    }

    private static RevocationEvent Normalize(RevocationEvent e)
    {
        // Ceiling: a token issued in the same millisecond as IssuedBefore is revoked on every node.
        var issuedBeforeMs = e.IssuedBefore.ToUnixTimeMilliseconds();
        if (DateTimeOffset.FromUnixTimeMilliseconds(issuedBeforeMs) < e.IssuedBefore)
        {
            issuedBeforeMs++;
        }

        return e with
        {
            // A fresh id per stored event: events made from one template with `with` share the template's.
            Id = Guid.NewGuid().ToString("N"),
            IssuedBefore = DateTimeOffset.FromUnixTimeMilliseconds(issuedBeforeMs),
            RevokedAt = DateTimeOffset.FromUnixTimeMilliseconds(e.RevokedAt.ToUnixTimeMilliseconds()),
        };
    }

    private sealed record EventRow(string Id, string? UserId, string? ProjectId, string? DomainId, string? RoleId, string? AuditId, string? ApplicationCredentialId, long IssuedBefore, long RevokedAt)
    {
        public static EventRow From(RevocationEvent e) =>
            new(e.Id, e.UserId, e.ProjectId, e.DomainId, e.RoleId, e.AuditId, e.ApplicationCredentialId, e.IssuedBefore.ToUnixTimeMilliseconds(), e.RevokedAt.ToUnixTimeMilliseconds());

        public RevocationEvent ToEvent() => new()
        {
            Id = Id,
            UserId = UserId,
            ProjectId = ProjectId,
            DomainId = DomainId,
            RoleId = RoleId,
            AuditId = AuditId,
            ApplicationCredentialId = ApplicationCredentialId,
            IssuedBefore = DateTimeOffset.FromUnixTimeMilliseconds(IssuedBefore),
            RevokedAt = DateTimeOffset.FromUnixTimeMilliseconds(RevokedAt),
        };
    }
}

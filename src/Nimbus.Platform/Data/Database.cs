using System.Data.Common;
using System.Text.RegularExpressions;

namespace Nimbus.Platform.Data;

/// <summary>
/// One service's database: a SQLite file or a PostgreSQL schema. Services read and write only
/// through <see cref="ReadAsync{T}"/> and <see cref="WriteAsync{T}"/>; every write is one
/// transaction, committed when the delegate returns and rolled back when it throws, so nothing
/// half-written is ever visible.
/// </summary>
public abstract partial class Database : IAsyncDisposable
{
    private const string MigrationsTable = "schema_migrations";

    // Set for the code a write delegate runs, so a write nested in it is caught (see EnterWrite).
    private readonly AsyncLocal<bool> _writing = new();

    protected Database(string service)
        : this(service, TimeProvider.System)
    {
    }

    protected Database(string service, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (!ServiceName().IsMatch(service))
        {
            throw new ArgumentException($"'{service}' is not a service name: use lower-case letters, digits and underscores, starting with a letter.", nameof(service));
        }

        Service = service;
        TimeProvider = timeProvider;
        ColumnMapping.Install();
    }

    /// <summary>The owning service (<c>identity</c>, <c>images</c>): the SQLite file name or the PostgreSQL schema.</summary>
    public string Service { get; }

    public abstract DataProvider Provider { get; }

    /// <summary>The clock that stamps applied migrations.</summary>
    protected TimeProvider TimeProvider { get; }

    /// <summary>Where the data lives, for messages and logs; never includes a password.</summary>
    public abstract string Location { get; }

    public abstract Task<T> ReadAsync<T>(Func<DataSession, Task<T>> read, CancellationToken cancellationToken);

    /// <summary>Runs <paramref name="write"/> in one transaction. It may run more than once when the engine asks for a retry (a serialization failure), so it must only touch the database.</summary>
    public abstract Task<T> WriteAsync<T>(Func<DataSession, Task<T>> write, CancellationToken cancellationToken);

    public Task WriteAsync(Func<DataSession, Task> write, CancellationToken cancellationToken) =>
        WriteAsync<bool>(
            async session =>
            {
                await write(session);
                return true;
            },
            cancellationToken);

    /// <summary>
    /// Applies, in order, each migration not yet recorded, each in its own transaction with its
    /// record. Refuses to start, changing nothing, when an applied migration changed or the
    /// database is newer than this release.
    /// </summary>
    public async Task MigrateAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new ArgumentException($"{Service} migration '{migrations[i].Name}' has version {migrations[i].Version}; versions must run 1, 2, 3… in order.", nameof(migrations));
            }
        }

        await PrepareAsync(cancellationToken);
        var recorded = 0;
        await WriteLockedAsync(
            async session =>
            {
                await session.ExecuteAsync($"CREATE TABLE IF NOT EXISTS {MigrationsTable} (version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)");
                recorded = Check(await AppliedAsync(session), migrations);
            },
            cancellationToken);

        foreach (var migration in migrations.Skip(recorded))
        {
            await WriteLockedAsync(
                async session =>
                {
                    // Another node may have applied it (or moved on) while this one waited for the lock.
                    if (Check(await AppliedAsync(session), migrations) >= migration.Version)
                    {
                        return;
                    }

                    await session.ExecuteAsync(migration.Sql);
                    await session.ExecuteAsync(
                        $"INSERT INTO {MigrationsTable} (version, name, checksum, applied_at) VALUES (@Version, @Name, @Checksum, @AppliedAt)",
                        new { migration.Version, migration.Name, migration.Checksum, AppliedAt = TimeProvider.GetUtcNow().ToUnixTimeMilliseconds() });
                },
                cancellationToken);
        }
    }

    /// <summary>The versions recorded as applied, oldest first; none when nothing was ever migrated.</summary>
    public Task<IReadOnlyList<int>> AppliedMigrationsAsync(CancellationToken cancellationToken) =>
        ReadAsync(
            async session =>
            {
                try
                {
                    return (IReadOnlyList<int>)(await session.QueryAsync<long>($"SELECT version FROM {MigrationsTable} ORDER BY version")).Select(v => (int)v).ToList();
                }
                catch (Exception ex) when (IsMissingTable(ex))
                {
                    return [];
                }
            },
            cancellationToken);

    public abstract ValueTask DisposeAsync();

    /// <summary>Creates whatever must exist before the first migration (the file, the schema).</summary>
    protected abstract Task PrepareAsync(CancellationToken cancellationToken);

    /// <summary>A write transaction that also keeps other nodes from migrating the same schema at once.</summary>
    protected abstract Task WriteLockedAsync(Func<DataSession, Task> write, CancellationToken cancellationToken);

    protected static DataSession Session(DbConnection connection, DbTransaction? transaction, Func<Exception, Exception?> translate, CancellationToken cancellationToken) =>
        new(connection, transaction, translate, cancellationToken);

    private protected static DataSession Session(DbConnection connection, DbTransaction? transaction, Func<Exception, Exception?> translate, Func<string, string> dialect, CancellationToken cancellationToken) =>
        new(connection, transaction, translate, dialect, cancellationToken);

    /// <summary>
    /// Marks the rest of the calling WriteAsync as inside a write. A write nested in another of the
    /// same database would wait for itself on SQLite and commit apart from it on PostgreSQL; both
    /// are bugs, refused at once. The mark ends when the calling async method returns.
    /// </summary>
    private protected void EnterWrite()
    {
        if (_writing.Value)
        {
            throw new InvalidOperationException($"WriteAsync on the {Service} database was called inside another WriteAsync of it; do the whole change in the outer write's session.");
        }

        _writing.Value = true;
    }

    /// <summary>A read session tried to change rows (through a query, since ExecuteAsync refuses outright).</summary>
    private protected static InvalidOperationException ReadOnlySession(Exception exception) =>
        new("Rows change only inside Database.WriteAsync; this statement ran in a ReadAsync session.", exception);

    /// <summary>Whether <paramref name="exception"/> says a table does not exist (a database never migrated).</summary>
    private protected abstract bool IsMissingTable(Exception exception);

    private static async Task<IReadOnlyList<AppliedMigration>> AppliedAsync(DataSession session) =>
        await session.QueryAsync<AppliedMigration>($"SELECT version, name, checksum FROM {MigrationsTable} ORDER BY version");

    /// <summary>Refuses a database this list of migrations cannot run on; otherwise returns how many of them are applied.</summary>
    private int Check(IReadOnlyList<AppliedMigration> applied, IReadOnlyList<Migration> migrations)
    {
        if (applied.Count > 0 && applied[^1].Version > migrations.Count)
        {
            var newest = applied[^1];
            throw new DataUnavailableException(
                "data.schema_too_new",
                $"the {Service} database ({Location}) has schema version {newest.Version} ('{newest.Name}'), newer than this release knows ({migrations.Count}); run the release that wrote it, or restore a backup.");
        }

        foreach (var recorded in applied)
        {
            var migration = migrations[(int)recorded.Version - 1];
            if (recorded.Checksum != migration.Checksum)
            {
                throw new DataUnavailableException(
                    "data.migration_changed",
                    $"{Service} migration {migration.Version} ('{migration.Name}') differs from the one applied to {Location}; a migration that has landed must not be edited — add a new one instead.");
            }
        }

        return applied.Count;
    }

    [GeneratedRegex("^[a-z][a-z0-9_]{0,62}$")]
    private static partial Regex ServiceName();

    private sealed record AppliedMigration(long Version, string Name, string Checksum);
}

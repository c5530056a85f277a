using Microsoft.Data.Sqlite;
using Nimbus.Objects.Common;

namespace Nimbus.Objects.Databases;

/// <summary>
/// One account's database (Swift's AccountBroker, swift/account/backend.py): a row per container as
/// container servers report it, live or deleted, with totals kept exact by triggers, and the
/// account's metadata. Every call opens a pooled connection, so one instance may be shared.
/// </summary>
public sealed class AccountDatabase
{
    public static readonly TimeSpan DefaultTimeout = DatabaseFile.DefaultTimeout;

    private const string ListingColumns = "name, object_count, bytes_used, put_timestamp";

    private static readonly DatabaseSchema Schema = new(
        Kind: "account",
        // "NMBA": tells an account database from a container database or a stray SQLite file.
        ApplicationId: 0x4E4D4241,
        RowTable: "container",
        TombstoneTimeColumn: "delete_timestamp",
        CreateSql: """
            CREATE TABLE stat (
                account TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                put_timestamp INTEGER NOT NULL,
                delete_timestamp INTEGER NOT NULL DEFAULT 0,
                container_count INTEGER NOT NULL DEFAULT 0,
                object_count INTEGER NOT NULL DEFAULT 0,
                bytes_used INTEGER NOT NULL DEFAULT 0,
                id TEXT NOT NULL
            );
            -- AUTOINCREMENT: row ids are replication positions and must never be reused.
            CREATE TABLE container (
                ROWID INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL,
                put_timestamp INTEGER NOT NULL,
                delete_timestamp INTEGER NOT NULL,
                object_count INTEGER NOT NULL,
                bytes_used INTEGER NOT NULL,
                deleted INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX ix_container_deleted_name ON container (deleted, name);
            CREATE TRIGGER container_insert AFTER INSERT ON container
            BEGIN
                UPDATE stat SET
                    container_count = container_count + (1 - new.deleted),
                    object_count = object_count + (1 - new.deleted) * new.object_count,
                    bytes_used = bytes_used + (1 - new.deleted) * new.bytes_used;
            END;
            CREATE TRIGGER container_delete AFTER DELETE ON container
            BEGIN
                UPDATE stat SET
                    container_count = container_count - (1 - old.deleted),
                    object_count = object_count - (1 - old.deleted) * old.object_count,
                    bytes_used = bytes_used - (1 - old.deleted) * old.bytes_used;
            END;
            -- A changed row gets a new row id (delete, insert) so replication sees it; updates would hide it.
            CREATE TRIGGER container_update BEFORE UPDATE ON container
            BEGIN
                SELECT RAISE(FAIL, 'container rows are replaced, never updated');
            END;
            """,
        InsertStatSql: """
            INSERT INTO stat (account, created_at, put_timestamp, id)
            VALUES ($account, $created_at, $put_timestamp, $id)
            """);

    private readonly DatabaseFile _file;

    private AccountDatabase(DatabaseFile file)
    {
        _file = file;
    }

    public string Path => _file.Path;

    /// <summary>Opens the database at <paramref name="path"/>, or returns null when there is none.</summary>
    public static Task<AccountDatabase?> OpenAsync(string path, CancellationToken cancellationToken) =>
        OpenAsync(path, DefaultTimeout, cancellationToken);

    /// <param name="path">The database file.</param>
    /// <param name="timeout">How long a call waits for another writer's lock (Swift's db timeout).</param>
    /// <param name="cancellationToken">Stops the open.</param>
    public static async Task<AccountDatabase?> OpenAsync(string path, TimeSpan timeout, CancellationToken cancellationToken) =>
        await DatabaseFile.OpenAsync(path, Schema, timeout, cancellationToken) is { } file ? new AccountDatabase(file) : null;

    /// <summary>
    /// Creates the database (and its directories), atomically; when it exists, records
    /// <paramref name="putTimestamp"/> if it is newer than the stored one.
    /// </summary>
    public static Task<AccountDatabase> CreateAsync(string path, string account, SwiftTimestamp putTimestamp, CancellationToken cancellationToken) =>
        CreateAsync(path, account, putTimestamp, DefaultTimeout, cancellationToken);

    public static async Task<AccountDatabase> CreateAsync(
        string path,
        string account,
        SwiftTimestamp putTimestamp,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(account);
        var file = await DatabaseFile.CreateAsync(
            path,
            Schema,
            timeout,
            parameters => parameters.AddWithValue("$account", account),
            putTimestamp,
            cancellationToken);
        return new AccountDatabase(file);
    }

    public Task<AccountInfo> GetInfoAsync(CancellationToken cancellationToken) =>
        _file.ReadAsync(async (connection, transaction) =>
        {
            var metadata = await DatabaseFile.ReadMetadataAsync(connection, transaction, includeRemoved: false, cancellationToken);
            var maxRowId = await _file.ReadMaxRowIdAsync(connection, transaction, cancellationToken);
            var rows = await DatabaseFile.QueryAsync(
                connection,
                transaction,
                "SELECT account, created_at, put_timestamp, delete_timestamp, container_count, object_count, bytes_used, id FROM stat",
                _ => { },
                reader => new AccountInfo(
                    reader.GetString(0),
                    new SwiftTimestamp(reader.GetInt64(1)),
                    new SwiftTimestamp(reader.GetInt64(2)),
                    new SwiftTimestamp(reader.GetInt64(3)),
                    reader.GetInt64(4),
                    reader.GetInt64(5),
                    reader.GetInt64(6),
                    metadata)
                {
                    DatabaseId = reader.GetString(7),
                    MaxRowId = maxRowId,
                },
                cancellationToken);
            return rows.Count == 1 ? rows[0] : throw new InvalidDataException($"The account database '{Path}' has no stat row; quarantine it.");
        }, cancellationToken);

    /// <summary>
    /// Merges container reports in one transaction (Swift's AccountBroker.merge_items). Per name each
    /// timestamp keeps its newest value; the counts come from the newer report by max(put, delete),
    /// the incoming one on a tie, since a container's counts change under the same timestamps. A
    /// row is deleted, and neither counted nor listed, when delete &gt; put and it holds no objects.
    /// </summary>
    public Task MergeContainersAsync(IReadOnlyList<ContainerRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        foreach (var record in records)
        {
            if (string.IsNullOrEmpty(record.Name) || !NameOrder.IsValid(record.Name) || record.ObjectCount < 0 || record.BytesUsed < 0)
            {
                throw new ArgumentException($"Container row '{record.Name}' needs a non-empty UTF-8 name and counts of 0 or more.", nameof(records));
            }
        }

        if (records.Count == 0)
        {
            return Task.CompletedTask;
        }

        return _file.ExecuteInTransactionAsync(async (connection, transaction) =>
        {
            await using var find = DatabaseFile.Command(connection, transaction, """
                SELECT put_timestamp, delete_timestamp, object_count, bytes_used, deleted
                FROM container WHERE deleted IN (0, 1) AND name = $name
                """);
            var findName = find.Parameters.Add("$name", SqliteType.Text);
            await using var delete = DatabaseFile.Command(connection, transaction, "DELETE FROM container WHERE deleted IN (0, 1) AND name = $name");
            var deleteName = delete.Parameters.Add("$name", SqliteType.Text);
            await using var insert = DatabaseFile.Command(connection, transaction, """
                INSERT INTO container (name, put_timestamp, delete_timestamp, object_count, bytes_used, deleted)
                VALUES ($name, $put, $delete, $count, $bytes, $deleted)
                """);
            var name = insert.Parameters.Add("$name", SqliteType.Text);
            var put = insert.Parameters.Add("$put", SqliteType.Integer);
            var deleteTimestamp = insert.Parameters.Add("$delete", SqliteType.Integer);
            var count = insert.Parameters.Add("$count", SqliteType.Integer);
            var bytes = insert.Parameters.Add("$bytes", SqliteType.Integer);
            var deleted = insert.Parameters.Add("$deleted", SqliteType.Integer);
            foreach (var record in records)
            {
                findName.Value = record.Name;
                var stored = await ReadStoredAsync(find, cancellationToken);
                var merged = stored is { } found ? Merge(found, record) : record;
                var isDeleted = merged.DeleteTimestamp > merged.PutTimestamp && merged.ObjectCount == 0;
                if (stored is not null)
                {
                    if (stored.Value.Row == merged with { RowId = 0 } && stored.Value.Deleted == isDeleted)
                    {
                        // Nothing changed: keep the row id, so replication does not send it again.
                        continue;
                    }

                    deleteName.Value = record.Name;
                    await delete.ExecuteNonQueryAsync(cancellationToken);
                }

                name.Value = merged.Name;
                put.Value = merged.PutTimestamp.Ticks;
                deleteTimestamp.Value = merged.DeleteTimestamp.Ticks;
                count.Value = merged.ObjectCount;
                bytes.Value = merged.BytesUsed;
                deleted.Value = isDeleted ? 1 : 0;
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
        }, cancellationToken);
    }

    /// <summary>A page of the live containers, with Swift's listing semantics (no <c>path</c> for accounts).</summary>
    public async Task<IReadOnlyList<ListingEntry>> ListAsync(ListingQuery query, CancellationToken cancellationToken) =>
        (await ListWithRowsReadAsync(query, cancellationToken)).Entries;

    internal Task<ListingResult> ListWithRowsReadAsync(ListingQuery query, CancellationToken cancellationToken) =>
        _file.ListAsync(
            query,
            allowPath: false,
            ListingColumns,
            // A container's last_modified in listings is its put timestamp, as in Swift.
            reader => new ContainerListingEntry(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), new SwiftTimestamp(reader.GetInt64(3))),
            cancellationToken);

    /// <summary>Per key the newest timestamp wins; an empty value records a removal.</summary>
    public Task UpdateMetadataAsync(IReadOnlyDictionary<string, MetadataValue> metadata, CancellationToken cancellationToken) =>
        _file.UpdateMetadataAsync(metadata, cancellationToken);

    /// <summary>All metadata including removals, which replication must pass on.</summary>
    public Task<IReadOnlyDictionary<string, MetadataValue>> GetAllMetadataAsync(CancellationToken cancellationToken) =>
        _file.GetAllMetadataAsync(cancellationToken);

    /// <summary>Records the delete timestamp, if newer, and clears the metadata as of it.</summary>
    public Task DeleteAsync(SwiftTimestamp deleteTimestamp, CancellationToken cancellationToken) =>
        _file.MarkDeletedAsync(deleteTimestamp, cancellationToken);

    /// <summary>Rows after <paramref name="rowId"/>, deleted ones too, in row order, for the replicator.</summary>
    public Task<IReadOnlyList<ContainerRecord>> GetRowsSinceAsync(long rowId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return _file.ReadAsync<IReadOnlyList<ContainerRecord>>(
            async (connection, transaction) => await DatabaseFile.QueryAsync(
                connection,
                transaction,
                "SELECT ROWID, name, put_timestamp, delete_timestamp, object_count, bytes_used FROM container WHERE ROWID > $row ORDER BY ROWID LIMIT $limit",
                parameters =>
                {
                    parameters.AddWithValue("$row", rowId);
                    parameters.AddWithValue("$limit", limit);
                },
                reader => new ContainerRecord(
                    reader.GetString(1),
                    new SwiftTimestamp(reader.GetInt64(2)),
                    new SwiftTimestamp(reader.GetInt64(3)),
                    reader.GetInt64(4),
                    reader.GetInt64(5))
                {
                    RowId = reader.GetInt64(0),
                },
                cancellationToken),
            cancellationToken);
    }

    /// <summary>Swift's id: stays with the file, so a peer's sync point names this database.</summary>
    public Task<string> GetDatabaseIdAsync(CancellationToken cancellationToken) => _file.GetDatabaseIdAsync(cancellationToken);

    /// <summary>Removes deleted container rows whose delete is older than <paramref name="olderThan"/>, and old metadata removals.</summary>
    public Task ReclaimAsync(SwiftTimestamp olderThan, CancellationToken cancellationToken) =>
        _file.ReclaimAsync(olderThan, cancellationToken);

    /// <summary>Closes pooled connections to the file, before the replicator or a delete removes it.</summary>
    public void ReleaseConnections() => _file.ReleaseConnections();

    private static ContainerRecord Merge((ContainerRecord Row, bool Deleted) stored, ContainerRecord incoming)
    {
        var row = stored.Row;
        var incomingWins = Max(incoming.PutTimestamp, incoming.DeleteTimestamp) >= Max(row.PutTimestamp, row.DeleteTimestamp);
        return new ContainerRecord(
            incoming.Name,
            Max(row.PutTimestamp, incoming.PutTimestamp),
            Max(row.DeleteTimestamp, incoming.DeleteTimestamp),
            incomingWins ? incoming.ObjectCount : row.ObjectCount,
            incomingWins ? incoming.BytesUsed : row.BytesUsed);
    }

    private static SwiftTimestamp Max(SwiftTimestamp left, SwiftTimestamp right) => left > right ? left : right;

    private static async Task<(ContainerRecord Row, bool Deleted)?> ReadStoredAsync(SqliteCommand find, CancellationToken cancellationToken)
    {
        await using var reader = await find.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var row = new ContainerRecord(
            (string)find.Parameters["$name"].Value!,
            new SwiftTimestamp(reader.GetInt64(0)),
            new SwiftTimestamp(reader.GetInt64(1)),
            reader.GetInt64(2),
            reader.GetInt64(3));
        return (row, reader.GetInt64(4) != 0);
    }
}

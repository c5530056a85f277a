using Microsoft.Data.Sqlite;
using Nimbus.Objects.Common;

namespace Nimbus.Objects.Databases;

/// <summary>
/// One container's database (Swift's ContainerBroker, swift/container/backend.py): its object rows,
/// live and deleted, with stats kept exact by triggers, its metadata, and what the account was last
/// told. Every call opens a pooled connection, so one instance may be shared by concurrent requests.
/// </summary>
public sealed class ContainerDatabase
{
    public static readonly TimeSpan DefaultTimeout = DatabaseFile.DefaultTimeout;

    private const string ListingColumns = "name, created_at, size, content_type, etag";

    private static readonly DatabaseSchema Schema = new(
        Kind: "container",
        // "NMBC": tells a container database from an account database or a stray SQLite file.
        ApplicationId: 0x4E4D4243,
        RowTable: "object",
        TombstoneTimeColumn: "created_at",
        CreateSql: """
            CREATE TABLE stat (
                account TEXT NOT NULL,
                container TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                put_timestamp INTEGER NOT NULL,
                delete_timestamp INTEGER NOT NULL DEFAULT 0,
                object_count INTEGER NOT NULL DEFAULT 0,
                bytes_used INTEGER NOT NULL DEFAULT 0,
                reported_put_timestamp INTEGER NOT NULL DEFAULT 0,
                reported_delete_timestamp INTEGER NOT NULL DEFAULT 0,
                reported_object_count INTEGER NOT NULL DEFAULT 0,
                reported_bytes_used INTEGER NOT NULL DEFAULT 0,
                id TEXT NOT NULL
            );
            -- AUTOINCREMENT: row ids are replication positions and must never be reused.
            CREATE TABLE object (
                ROWID INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                size INTEGER NOT NULL,
                content_type TEXT NOT NULL,
                etag TEXT NOT NULL,
                deleted INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX ix_object_deleted_name ON object (deleted, name);
            CREATE TRIGGER object_insert AFTER INSERT ON object
            BEGIN
                UPDATE stat SET
                    object_count = object_count + (1 - new.deleted),
                    bytes_used = bytes_used + (1 - new.deleted) * new.size;
            END;
            CREATE TRIGGER object_delete AFTER DELETE ON object
            BEGIN
                UPDATE stat SET
                    object_count = object_count - (1 - old.deleted),
                    bytes_used = bytes_used - (1 - old.deleted) * old.size;
            END;
            -- A changed row gets a new row id (delete, insert) so replication sees it; updates would hide it.
            CREATE TRIGGER object_update BEFORE UPDATE ON object
            BEGIN
                SELECT RAISE(FAIL, 'object rows are replaced, never updated');
            END;
            """,
        InsertStatSql: """
            INSERT INTO stat (account, container, created_at, put_timestamp, id)
            VALUES ($account, $container, $created_at, $put_timestamp, $id)
            """);

    private readonly DatabaseFile _file;

    private ContainerDatabase(DatabaseFile file)
    {
        _file = file;
    }

    public string Path => _file.Path;

    /// <summary>Opens the database at <paramref name="path"/>, or returns null when there is none.</summary>
    public static Task<ContainerDatabase?> OpenAsync(string path, CancellationToken cancellationToken) =>
        OpenAsync(path, DefaultTimeout, cancellationToken);

    /// <param name="path">The database file.</param>
    /// <param name="timeout">How long a call waits for another writer's lock (Swift's db timeout).</param>
    /// <param name="cancellationToken">Stops the open.</param>
    public static async Task<ContainerDatabase?> OpenAsync(string path, TimeSpan timeout, CancellationToken cancellationToken) =>
        await DatabaseFile.OpenAsync(path, Schema, timeout, cancellationToken) is { } file ? new ContainerDatabase(file) : null;

    /// <summary>
    /// Creates the database (and its directories), atomically; when it exists, records
    /// <paramref name="putTimestamp"/> if it is newer than the stored one.
    /// </summary>
    public static Task<ContainerDatabase> CreateAsync(string path, string account, string container, SwiftTimestamp putTimestamp, CancellationToken cancellationToken) =>
        CreateAsync(path, account, container, putTimestamp, DefaultTimeout, cancellationToken);

    public static async Task<ContainerDatabase> CreateAsync(
        string path,
        string account,
        string container,
        SwiftTimestamp putTimestamp,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(account);
        ArgumentException.ThrowIfNullOrEmpty(container);
        var file = await DatabaseFile.CreateAsync(
            path,
            Schema,
            timeout,
            parameters =>
            {
                parameters.AddWithValue("$account", account);
                parameters.AddWithValue("$container", container);
            },
            putTimestamp,
            cancellationToken);
        return new ContainerDatabase(file);
    }

    public Task<ContainerInfo> GetInfoAsync(CancellationToken cancellationToken) =>
        _file.ReadAsync(async (connection, transaction) =>
        {
            var metadata = await DatabaseFile.ReadMetadataAsync(connection, transaction, includeRemoved: false, cancellationToken);
            var maxRowId = await _file.ReadMaxRowIdAsync(connection, transaction, cancellationToken);
            var rows = await DatabaseFile.QueryAsync(
                connection,
                transaction,
                """
                SELECT account, container, created_at, put_timestamp, delete_timestamp, object_count, bytes_used,
                       reported_put_timestamp, reported_delete_timestamp, reported_object_count, reported_bytes_used, id
                FROM stat
                """,
                _ => { },
                reader => new ContainerInfo(
                    reader.GetString(0),
                    reader.GetString(1),
                    new SwiftTimestamp(reader.GetInt64(2)),
                    new SwiftTimestamp(reader.GetInt64(3)),
                    new SwiftTimestamp(reader.GetInt64(4)),
                    reader.GetInt64(5),
                    reader.GetInt64(6),
                    metadata,
                    new SwiftTimestamp(reader.GetInt64(7)),
                    new SwiftTimestamp(reader.GetInt64(8)),
                    reader.GetInt64(9),
                    reader.GetInt64(10))
                {
                    DatabaseId = reader.GetString(11),
                    MaxRowId = maxRowId,
                },
                cancellationToken);
            return rows.Count == 1 ? rows[0] : throw new InvalidDataException($"The container database '{Path}' has no stat row; quarantine it.");
        }, cancellationToken);

    /// <summary>
    /// Merges object rows in one transaction: per name the row with the newest CreatedAt wins, and
    /// a row no newer than the stored one is ignored (Swift's merge_items).
    /// </summary>
    public Task MergeObjectsAsync(IReadOnlyList<ObjectRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        foreach (var record in records)
        {
            if (string.IsNullOrEmpty(record.Name) || !NameOrder.IsValid(record.Name) || record.Size < 0)
            {
                throw new ArgumentException($"Object row '{record.Name}' needs a non-empty UTF-8 name and a size of 0 or more.", nameof(records));
            }
        }

        if (records.Count == 0)
        {
            return Task.CompletedTask;
        }

        return _file.ExecuteInTransactionAsync(async (connection, transaction) =>
        {
            await using var find = DatabaseFile.Command(connection, transaction, "SELECT created_at FROM object WHERE deleted IN (0, 1) AND name = $name");
            var findName = find.Parameters.Add("$name", SqliteType.Text);
            await using var delete = DatabaseFile.Command(connection, transaction, "DELETE FROM object WHERE deleted IN (0, 1) AND name = $name");
            var deleteName = delete.Parameters.Add("$name", SqliteType.Text);
            await using var insert = DatabaseFile.Command(connection, transaction, """
                INSERT INTO object (name, created_at, size, content_type, etag, deleted)
                VALUES ($name, $created_at, $size, $content_type, $etag, $deleted)
                """);
            var name = insert.Parameters.Add("$name", SqliteType.Text);
            var createdAt = insert.Parameters.Add("$created_at", SqliteType.Integer);
            var size = insert.Parameters.Add("$size", SqliteType.Integer);
            var contentType = insert.Parameters.Add("$content_type", SqliteType.Text);
            var etag = insert.Parameters.Add("$etag", SqliteType.Text);
            var deleted = insert.Parameters.Add("$deleted", SqliteType.Integer);
            foreach (var record in records)
            {
                findName.Value = record.Name;
                var existing = await find.ExecuteScalarAsync(cancellationToken);
                if (existing is long stored)
                {
                    if (stored >= record.CreatedAt.Ticks)
                    {
                        continue;
                    }

                    deleteName.Value = record.Name;
                    await delete.ExecuteNonQueryAsync(cancellationToken);
                }

                name.Value = record.Name;
                createdAt.Value = record.CreatedAt.Ticks;
                size.Value = record.Size;
                contentType.Value = record.ContentType ?? string.Empty;
                etag.Value = record.ETag ?? string.Empty;
                deleted.Value = record.Deleted ? 1 : 0;
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
        }, cancellationToken);
    }

    /// <summary>A page of the live objects, with Swift's listing semantics (see <see cref="ListingQuery"/>).</summary>
    public async Task<IReadOnlyList<ListingEntry>> ListAsync(ListingQuery query, CancellationToken cancellationToken) =>
        (await ListWithRowsReadAsync(query, cancellationToken)).Entries;

    internal Task<ListingResult> ListWithRowsReadAsync(ListingQuery query, CancellationToken cancellationToken) =>
        _file.ListAsync(
            query,
            allowPath: true,
            ListingColumns,
            reader => new ObjectListingEntry(
                reader.GetString(0),
                reader.GetInt64(2),
                reader.GetString(3),
                reader.GetString(4),
                new SwiftTimestamp(reader.GetInt64(1))),
            cancellationToken);

    /// <summary>Per key the newest timestamp wins; an empty value records a removal.</summary>
    public Task UpdateMetadataAsync(IReadOnlyDictionary<string, MetadataValue> metadata, CancellationToken cancellationToken) =>
        _file.UpdateMetadataAsync(metadata, cancellationToken);

    /// <summary>All metadata including removals, which replication must pass on.</summary>
    public Task<IReadOnlyDictionary<string, MetadataValue>> GetAllMetadataAsync(CancellationToken cancellationToken) =>
        _file.GetAllMetadataAsync(cancellationToken);

    /// <summary>
    /// Records the delete timestamp, if newer, and clears the metadata as of it. The caller checks
    /// that no live object is left; the container is deleted when delete &gt; put and it is empty.
    /// </summary>
    public Task DeleteAsync(SwiftTimestamp deleteTimestamp, CancellationToken cancellationToken) =>
        _file.MarkDeletedAsync(deleteTimestamp, cancellationToken);

    /// <summary>Rows after <paramref name="rowId"/>, deleted ones too, in row order, for the replicator.</summary>
    public Task<IReadOnlyList<ObjectRecord>> GetRowsSinceAsync(long rowId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return _file.ReadAsync<IReadOnlyList<ObjectRecord>>(
            async (connection, transaction) => await DatabaseFile.QueryAsync(
                connection,
                transaction,
                "SELECT ROWID, name, created_at, size, content_type, etag, deleted FROM object WHERE ROWID > $row ORDER BY ROWID LIMIT $limit",
                parameters =>
                {
                    parameters.AddWithValue("$row", rowId);
                    parameters.AddWithValue("$limit", limit);
                },
                reader => new ObjectRecord(
                    reader.GetString(1),
                    new SwiftTimestamp(reader.GetInt64(2)),
                    reader.GetInt64(3),
                    reader.GetString(4),
                    reader.GetString(5),
                    reader.GetInt64(6) != 0)
                {
                    RowId = reader.GetInt64(0),
                },
                cancellationToken),
            cancellationToken);
    }

    /// <summary>Swift's id: stays with the file, so a peer's sync point names this database.</summary>
    public Task<string> GetDatabaseIdAsync(CancellationToken cancellationToken) => _file.GetDatabaseIdAsync(cancellationToken);

    /// <summary>Records what the container updater told the account, so it reports again only on change.</summary>
    public Task MarkReportedAsync(ContainerInfo reported, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reported);
        return _file.ExecuteInTransactionAsync(async (connection, transaction) =>
        {
            await using var command = DatabaseFile.Command(connection, transaction, """
                UPDATE stat SET reported_put_timestamp = $put, reported_delete_timestamp = $delete,
                                reported_object_count = $count, reported_bytes_used = $bytes
                """);
            command.Parameters.AddWithValue("$put", reported.PutTimestamp.Ticks);
            command.Parameters.AddWithValue("$delete", reported.DeleteTimestamp.Ticks);
            command.Parameters.AddWithValue("$count", reported.ObjectCount);
            command.Parameters.AddWithValue("$bytes", reported.BytesUsed);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Removes tombstone rows and metadata removals older than <paramref name="olderThan"/>.</summary>
    public Task ReclaimAsync(SwiftTimestamp olderThan, CancellationToken cancellationToken) =>
        _file.ReclaimAsync(olderThan, cancellationToken);

    /// <summary>Closes pooled connections to the file, before the replicator or a delete removes it.</summary>
    public void ReleaseConnections() => _file.ReleaseConnections();
}

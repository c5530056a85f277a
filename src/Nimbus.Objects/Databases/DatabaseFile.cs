using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Nimbus.Objects.Common;
using Nimbus.Shared;

namespace Nimbus.Objects.Databases;

/// <summary>
/// What tells a container database from an account database: the SQLite application id, the table
/// of rows (objects or containers), the column that dates a tombstone, and the DDL.
/// </summary>
internal sealed record DatabaseSchema(string Kind, int ApplicationId, string RowTable, string TombstoneTimeColumn, string CreateSql, string InsertStatSql)
{
    /// <summary>The schema version written to <c>PRAGMA user_version</c>; raise it with each migration.</summary>
    public const int Version = 1;

    /// <summary>Both kinds keep metadata alike: per key a value (empty once removed) and when it was set.</summary>
    public const string MetadataTableSql = """
        CREATE TABLE metadata (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            timestamp INTEGER NOT NULL
        ) WITHOUT ROWID;
        """;
}

/// <summary>
/// The part of Swift's DatabaseBroker (swift/common/db.py) both databases share: one SQLite file
/// created atomically, connections with the same pragmas, the one-row <c>stat</c> table's put and
/// delete timestamps, the <c>metadata</c> table, rows-since reads and tombstone reclaim.
/// </summary>
internal sealed class DatabaseFile
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(25);

    // Reclaim deletes in pages so that a write lock is never held for long (Swift's RECLAIM_PAGE_SIZE).
    private const int ReclaimPageSize = 1000;

    private const int SqliteCantOpen = 14;

    private readonly string _connectionString;
    private readonly string _pragmas;

    private DatabaseFile(string path, DatabaseSchema schema, TimeSpan busyTimeout)
    {
        Path = path;
        Schema = schema;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            // ReadWrite, not ReadWriteCreate: a file removed under us must not come back empty.
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = true,
            DefaultTimeout = (int)Math.Ceiling(busyTimeout.TotalSeconds),
        }.ToString();
        _pragmas = Pragmas(busyTimeout);
    }

    public string Path { get; }

    public DatabaseSchema Schema { get; }

    public static async Task<DatabaseFile?> OpenAsync(string path, DatabaseSchema schema, TimeSpan busyTimeout, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        CheckTimeout(busyTimeout);
        var file = new DatabaseFile(System.IO.Path.GetFullPath(path), schema, busyTimeout);
        if (!File.Exists(file.Path))
        {
            return null;
        }

        try
        {
            await file.CheckSchemaAsync(cancellationToken);
        }
        catch (SqliteException error) when (error.SqliteErrorCode == SqliteCantOpen && !File.Exists(file.Path))
        {
            return null;
        }

        return file;
    }

    /// <summary>
    /// Creates the database, or records a newer put timestamp in the one that exists. The new file is
    /// built under a temporary name and linked into place, so <paramref name="path"/> never holds a
    /// half-initialised database and of two racing creators exactly one wins. <c>bindIdentity</c>
    /// binds the stat row's identity parameters ($account, and $container for containers).
    /// </summary>
    public static async Task<DatabaseFile> CreateAsync(
        string path,
        DatabaseSchema schema,
        TimeSpan busyTimeout,
        Action<SqliteParameterCollection> bindIdentity,
        SwiftTimestamp putTimestamp,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        CheckTimeout(busyTimeout);
        var fullPath = System.IO.Path.GetFullPath(path);
        var existing = await OpenAsync(fullPath, schema, busyTimeout, cancellationToken);
        if (existing is not null)
        {
            await existing.UpdatePutTimestampAsync(putTimestamp, cancellationToken);
            return existing;
        }

        var directory = System.IO.Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        var temp = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await BuildAsync(temp, schema, bindIdentity, putTimestamp, cancellationToken);
            try
            {
                // Without overwrite, .NET links then unlinks: an existing database is never replaced.
                File.Move(temp, fullPath, overwrite: false);
            }
            catch (IOException) when (File.Exists(fullPath))
            {
                var winner = await OpenAsync(fullPath, schema, busyTimeout, cancellationToken)
                    ?? throw new IOException($"The {schema.Kind} database '{fullPath}' vanished while it was being created; retry.");
                await winner.UpdatePutTimestampAsync(putTimestamp, cancellationToken);
                return winner;
            }

            AtomicFile.SyncDirectory(directory);
        }
        finally
        {
            foreach (var leftover in (ReadOnlySpan<string>)[temp, temp + "-wal", temp + "-shm", temp + "-journal"])
            {
                File.Delete(leftover);
            }
        }

        return new DatabaseFile(fullPath, schema, busyTimeout);
    }

    /// <summary>Opens a pooled connection with the pragmas every connection needs.</summary>
    public async Task<SqliteConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = _pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Closes the pooled connections to this file, before it is removed or moved.</summary>
    public void ReleaseConnections()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    public async Task<T> ExecuteInTransactionAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        // BEGIN IMMEDIATE: take the write lock up front, so a read never has to upgrade and fail busy.
        await using var transaction = connection.BeginTransaction(deferred: false);
        var result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    public Task ExecuteInTransactionAsync(Func<SqliteConnection, SqliteTransaction, Task> work, CancellationToken cancellationToken) =>
        ExecuteInTransactionAsync<bool>(async (connection, transaction) =>
        {
            await work(connection, transaction);
            return true;
        }, cancellationToken);

    /// <summary>Reads in one snapshot (a deferred transaction), so related reads agree.</summary>
    public async Task<T> ReadAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: true);
        return await work(connection, transaction);
    }

    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    public static async Task<List<T>> QueryAsync<T>(
        SqliteConnection connection,
        SqliteTransaction? transaction,
        string sql,
        Action<SqliteParameterCollection> bind,
        Func<SqliteDataReader, T> map,
        CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql);
        bind(command.Parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>
    /// Swift's listing over this file's live rows, reading each range lazily so that jumping past a
    /// pseudo-directory stops the read. <c>map</c> reads the row from <c>columns</c>, the first of which is the name.
    /// </summary>
    public async Task<ListingResult> ListAsync(
        ListingQuery query,
        bool allowPath,
        string columns,
        Func<SqliteDataReader, ListingEntry> map,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await ConnectAsync(cancellationToken);
        return await ListingScan.RunAsync(
            query,
            allowPath,
            (range, token) => ReadRangeAsync(connection, columns, range, map, token),
            cancellationToken);
    }

    private async IAsyncEnumerable<ListingEntry> ReadRangeAsync(
        SqliteConnection connection,
        string columns,
        NameRange range,
        Func<SqliteDataReader, ListingEntry> map,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Only fixed fragments are spliced in; names travel as parameters. The (deleted, name) index
        // serves both the range and the order.
        var sql = $"SELECT {columns} FROM {Schema.RowTable} WHERE deleted = 0"
            + (range.Lower is null ? string.Empty : range.LowerInclusive ? " AND name >= $lower" : " AND name > $lower")
            + (range.Upper is null ? string.Empty : range.UpperInclusive ? " AND name <= $upper" : " AND name < $upper")
            + (range.Descending ? " ORDER BY name DESC" : " ORDER BY name")
            + " LIMIT $limit";
        await using var command = Command(connection, null, sql);
        if (range.Lower is not null)
        {
            command.Parameters.AddWithValue("$lower", range.Lower);
        }

        if (range.Upper is not null)
        {
            command.Parameters.AddWithValue("$upper", range.Upper);
        }

        command.Parameters.AddWithValue("$limit", range.Limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return map(reader);
        }
    }

    public Task UpdatePutTimestampAsync(SwiftTimestamp putTimestamp, CancellationToken cancellationToken) =>
        ExecuteInTransactionAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, "UPDATE stat SET put_timestamp = $ts WHERE put_timestamp < $ts");
            command.Parameters.AddWithValue("$ts", putTimestamp.Ticks);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Swift's delete_db: clears the metadata as of the delete, then records the delete timestamp if
    /// it is newer than the one recorded.
    /// </summary>
    public Task MarkDeletedAsync(SwiftTimestamp deleteTimestamp, CancellationToken cancellationToken) =>
        ExecuteInTransactionAsync(async (connection, transaction) =>
        {
            await using var clear = Command(connection, transaction, "UPDATE metadata SET value = '', timestamp = $ts WHERE value <> '' AND timestamp < $ts");
            clear.Parameters.AddWithValue("$ts", deleteTimestamp.Ticks);
            await clear.ExecuteNonQueryAsync(cancellationToken);
            await using var mark = Command(connection, transaction, "UPDATE stat SET delete_timestamp = $ts WHERE delete_timestamp < $ts");
            mark.Parameters.AddWithValue("$ts", deleteTimestamp.Ticks);
            await mark.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>Per key the newest timestamp wins; a tie keeps what is stored, as Swift's update_metadata does.</summary>
    public Task UpdateMetadataAsync(IReadOnlyDictionary<string, MetadataValue> metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        foreach (var (key, value) in metadata)
        {
            if (string.IsNullOrEmpty(key) || value is null)
            {
                throw new ArgumentException("Metadata keys must be non-empty and values non-null (an empty value records a removal).", nameof(metadata));
            }
        }

        return ExecuteInTransactionAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, """
                INSERT INTO metadata (key, value, timestamp) VALUES ($key, $value, $ts)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp
                WHERE excluded.timestamp > metadata.timestamp
                """);
            var key = command.Parameters.Add("$key", SqliteType.Text);
            var value = command.Parameters.Add("$value", SqliteType.Text);
            var timestamp = command.Parameters.Add("$ts", SqliteType.Integer);
            foreach (var (name, entry) in metadata)
            {
                key.Value = name;
                value.Value = entry.Value;
                timestamp.Value = entry.Timestamp.Ticks;
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }, cancellationToken);
    }

    /// <summary>The metadata, without removals unless <paramref name="includeRemoved"/> (replication merges them too).</summary>
    public static async Task<IReadOnlyDictionary<string, MetadataValue>> ReadMetadataAsync(
        SqliteConnection connection,
        SqliteTransaction? transaction,
        bool includeRemoved,
        CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(
            connection,
            transaction,
            includeRemoved ? "SELECT key, value, timestamp FROM metadata" : "SELECT key, value, timestamp FROM metadata WHERE value <> ''",
            _ => { },
            reader => (Key: reader.GetString(0), Value: new MetadataValue(reader.GetString(1), new SwiftTimestamp(reader.GetInt64(2)))),
            cancellationToken);
        return rows.ToDictionary(row => row.Key, row => row.Value, StringComparer.Ordinal);
    }

    public Task<IReadOnlyDictionary<string, MetadataValue>> GetAllMetadataAsync(CancellationToken cancellationToken) =>
        ReadAsync((connection, transaction) => ReadMetadataAsync(connection, transaction, includeRemoved: true, cancellationToken), cancellationToken);

    public Task<string> GetDatabaseIdAsync(CancellationToken cancellationToken) =>
        ReadAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, "SELECT id FROM stat");
            return (string)(await command.ExecuteScalarAsync(cancellationToken))!;
        }, cancellationToken);

    /// <summary>
    /// The highest row id ever used (AUTOINCREMENT never reuses one), so a replication sync point
    /// stays valid after the newest rows are replaced or reclaimed.
    /// </summary>
    public async Task<long> ReadMaxRowIdAsync(SqliteConnection connection, SqliteTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, "SELECT seq FROM sqlite_sequence WHERE name = $table");
        command.Parameters.AddWithValue("$table", Schema.RowTable);
        return await command.ExecuteScalarAsync(cancellationToken) is long seq ? seq : 0;
    }

    /// <summary>
    /// Removes tombstone rows older than <paramref name="olderThan"/>, a page at a time in name order
    /// (Swift's TombstoneReclaimer), and metadata removals as old (Swift's _reclaim_metadata).
    /// </summary>
    public async Task ReclaimAsync(SwiftTimestamp olderThan, CancellationToken cancellationToken)
    {
        var pageEndSql = $"SELECT name FROM {Schema.RowTable} WHERE deleted = 1 AND name > $marker ORDER BY name LIMIT 1 OFFSET {ReclaimPageSize - 1}";
        var deleteSql = $"DELETE FROM {Schema.RowTable} WHERE deleted = 1 AND name > $marker AND {Schema.TombstoneTimeColumn} < $age";
        var marker = string.Empty;
        var finished = false;
        while (!finished)
        {
            marker = await ExecuteInTransactionAsync(async (connection, transaction) =>
            {
                await using var find = Command(connection, transaction, pageEndSql);
                find.Parameters.AddWithValue("$marker", marker);
                var pageEnd = await find.ExecuteScalarAsync(cancellationToken) as string;
                await using var delete = Command(connection, transaction, pageEnd is null ? deleteSql : deleteSql + " AND name <= $end");
                delete.Parameters.AddWithValue("$marker", marker);
                delete.Parameters.AddWithValue("$age", olderThan.Ticks);
                if (pageEnd is not null)
                {
                    delete.Parameters.AddWithValue("$end", pageEnd);
                }

                await delete.ExecuteNonQueryAsync(cancellationToken);
                finished = pageEnd is null;
                return pageEnd ?? marker;
            }, cancellationToken);
        }

        await ExecuteInTransactionAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, "DELETE FROM metadata WHERE value = '' AND timestamp < $age");
            command.Parameters.AddWithValue("$age", olderThan.Ticks);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);
    }

    private async Task CheckSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        await using var command = Command(connection, null, "SELECT application_id, user_version FROM pragma_application_id, pragma_user_version");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var applicationId = reader.GetInt32(0);
        var version = reader.GetInt32(1);
        if (applicationId != Schema.ApplicationId)
        {
            throw new InvalidDataException($"'{Path}' is not a Nimbus {Schema.Kind} database (application id {applicationId}); check the path.");
        }

        // Migrations from older versions go here, each raising user_version in its own transaction.
        if (version != DatabaseSchema.Version)
        {
            throw new InvalidDataException(
                $"The {Schema.Kind} database '{Path}' has schema version {version}; this Nimbus reads version {DatabaseSchema.Version}. Run the Nimbus that wrote it.");
        }
    }

    private static async Task BuildAsync(
        string temp,
        DatabaseSchema schema,
        Action<SqliteParameterCollection> bindIdentity,
        SwiftTimestamp putTimestamp,
        CancellationToken cancellationToken)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = temp,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // Not pooled: the file must be closed, its journal folded in, before it is linked into place.
            Pooling = false,
        }.ToString();
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var transaction = connection.BeginTransaction(deferred: false))
        {
            await using (var create = Command(connection, transaction, DatabaseSchema.MetadataTableSql + schema.CreateSql))
            {
                await create.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var insert = Command(connection, transaction, schema.InsertStatSql))
            {
                bindIdentity(insert.Parameters);
                // Swift stamps created_at with the clock; the first put timestamp is that moment, and deterministic.
                insert.Parameters.AddWithValue("$created_at", putTimestamp.Ticks);
                insert.Parameters.AddWithValue("$put_timestamp", putTimestamp.Ticks);
                insert.Parameters.AddWithValue("$id", Guid.NewGuid().ToString());
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var version = Command(connection, transaction, string.Create(
                CultureInfo.InvariantCulture,
                $"PRAGMA application_id = {schema.ApplicationId}; PRAGMA user_version = {DatabaseSchema.Version};")))
            {
                await version.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        // WAL is recorded in the file header, so every later connection uses it.
        await using var wal = Command(connection, null, "PRAGMA journal_mode = WAL");
        await wal.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Pragmas(TimeSpan busyTimeout) => string.Create(
        CultureInfo.InvariantCulture,
        // NORMAL survives a process crash (WAL is synced at checkpoints); Swift's pending files are not fsynced either.
        $"PRAGMA busy_timeout = {(long)busyTimeout.TotalMilliseconds}; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;");

    private static void CheckTimeout(TimeSpan busyTimeout)
    {
        if (busyTimeout <= TimeSpan.Zero || busyTimeout > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(busyTimeout), busyTimeout, "The database timeout must be positive and at most an hour.");
        }
    }
}

using Microsoft.Data.Sqlite;

namespace Nimbus.Platform.Data;

/// <summary>
/// A service's state in one SQLite file (WAL, full sync on commit, foreign keys on). SQLite has one
/// writer at a time, so writes queue here rather than spin on the file lock; reads run alongside.
/// </summary>
internal sealed class SqliteDatabase : Database
{
    // SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY (sqlite.org/rescode.html).
    private const int ConstraintUnique = 2067;
    private const int ConstraintPrimaryKey = 1555;
    private const int SqliteError = 1;
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;
    private const int SqliteReadOnly = 8;

    private readonly string _path;
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writer = new(1, 1);

    public SqliteDatabase(string service, string directory, int busyTimeoutSeconds, TimeProvider timeProvider)
        : base(service, timeProvider)
    {
        _path = Path.Combine(directory, service + ".db");
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = _path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = busyTimeoutSeconds,
            ForeignKeys = true,
        }.ToString();
    }

    public override DataProvider Provider => DataProvider.Sqlite;

    public override string Location => _path;

    public override async Task<T> ReadAsync<T>(Func<DataSession, Task<T>> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        await using var connection = await OpenAsync(cancellationToken);
        // Pooled connections serve writes too; this one refuses changes until a write turns it back.
        await PragmaAsync(connection, "PRAGMA query_only = 1", cancellationToken);
        return await read(Session(connection, null, TranslateRead, cancellationToken));
    }

    public override async Task<T> WriteAsync<T>(Func<DataSession, Task<T>> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        EnterWrite();
        await _writer.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            // Durable at commit, not only when the WAL is checkpointed: an acknowledged write survives power loss.
            await PragmaAsync(connection, "PRAGMA query_only = 0; PRAGMA synchronous = FULL", cancellationToken);

            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var result = await write(Session(connection, transaction, Translate, cancellationToken));
            // Cancelled before the commit: nothing lands. Once the commit starts it is not cut short.
            cancellationToken.ThrowIfCancellationRequested();
            await transaction.CommitAsync(CancellationToken.None);
            return result;
        }
        catch (SqliteException ex) when (Translate(ex) is { } translated)
        {
            throw translated;
        }
        finally
        {
            _writer.Release();
        }
    }

    public override ValueTask DisposeAsync()
    {
        _writer.Dispose();
        using (var connection = new SqliteConnection(_connectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        return ValueTask.CompletedTask;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // Readers and the writer do not block each other; the mode is kept in the file.
        await PragmaAsync(connection, "PRAGMA query_only = 0; PRAGMA journal_mode = WAL", cancellationToken);
    }

    protected override Task WriteLockedAsync(Func<DataSession, Task> write, CancellationToken cancellationToken) =>
        WriteAsync(write, cancellationToken);

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            await connection.DisposeAsync();
            throw new DataUnavailableException("data.unavailable", $"cannot open the {Service} database {_path}: {ex.Message}; check that the file is a SQLite database this user can write, or restore it from a backup.", ex);
        }
    }

    private async Task PragmaAsync(SqliteConnection connection, string pragma, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = pragma;
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException ex) when (Translate(ex) is { } translated)
        {
            throw translated;
        }
    }

    private Exception? TranslateRead(Exception exception) => exception switch
    {
        SqliteException { SqliteErrorCode: SqliteReadOnly } ex => ReadOnlySession(ex),
        _ => Translate(exception),
    };

    private Exception? Translate(Exception exception) => exception switch
    {
        SqliteException { SqliteExtendedErrorCode: ConstraintUnique or ConstraintPrimaryKey } ex => new DuplicateKeyException(ConstraintName(ex.Message), ex),
        SqliteException { SqliteErrorCode: SqliteCorrupt or SqliteNotADatabase } ex => new DataUnavailableException("data.corrupt", $"the {Service} database {_path} is damaged ({ex.Message}); restore it from a backup.", ex),
        _ => null,
    };

    private protected override bool IsMissingTable(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: SqliteError } ex && ex.Message.Contains("no such table", StringComparison.Ordinal);

    // "SQLite Error 19: 'UNIQUE constraint failed: users.domain_id, users.name'."
    private static string ConstraintName(string message)
    {
        var at = message.IndexOf("failed: ", StringComparison.Ordinal);
        return at < 0 ? "unique" : message[(at + "failed: ".Length)..].TrimEnd('.', '\'');
    }
}

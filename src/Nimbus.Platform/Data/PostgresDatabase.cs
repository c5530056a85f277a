using System.Text.RegularExpressions;
using Npgsql;

namespace Nimbus.Platform.Data;

/// <summary>
/// A service's state in its own schema of a PostgreSQL database shared by every node. Writes run
/// at read committed and are retried when PostgreSQL reports a serialization failure or deadlock.
/// </summary>
internal sealed partial class PostgresDatabase : Database
{
    // PostgreSQL error codes (postgresql.org/docs/current/errcodes-appendix.html).
    private const string UniqueViolation = "23505";
    private const string SerializationFailure = "40001";
    private const string DeadlockDetected = "40P01";
    private const string DuplicateSchema = "42P06";
    private const string UndefinedTable = "42P01";
    private const string InvalidSchemaName = "3F000";
    private const string ReadOnlyTransaction = "25006";
    private const int MaxAttempts = 5;

    private readonly NpgsqlDataSource _dataSource;
    private readonly NpgsqlDataSource _readSource;
    private readonly string _location;

    public PostgresDatabase(string service, string connectionString, TimeProvider timeProvider)
        : base(service, timeProvider)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = service };
        _location = $"postgresql://{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username} schema {service}";
        _dataSource = NpgsqlDataSource.Create(builder);
        // Reads get their own pool whose sessions refuse to change anything, at no extra round trip.
        builder.Options = $"{builder.Options} -c default_transaction_read_only=on".Trim();
        _readSource = NpgsqlDataSource.Create(builder);
    }

    public override DataProvider Provider => DataProvider.Postgres;

    public override string Location => _location;

    public override async Task<T> ReadAsync<T>(Func<DataSession, Task<T>> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        await using var connection = await OpenAsync(_readSource, cancellationToken);
        return await read(Session(connection, null, TranslateRead, Dialect, cancellationToken));
    }

    public override async Task<T> WriteAsync<T>(Func<DataSession, Task<T>> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        EnterWrite();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await OpenAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var result = await write(Session(connection, transaction, Translate, Dialect, cancellationToken));
                // Cancelled before the commit: nothing lands. Once the commit starts it is not cut short.
                cancellationToken.ThrowIfCancellationRequested();
                await transaction.CommitAsync(CancellationToken.None);
                return result;
            }
            catch (PostgresException ex) when (ex.SqlState is SerializationFailure or DeadlockDetected && attempt < MaxAttempts)
            {
                // A short, jittered real-time pause so the colliding writers do not meet again at once;
                // it is contention back-off, not service time, so it does not follow the injected clock.
                await Task.Delay(TimeSpan.FromMilliseconds(10 * attempt * Random.Shared.Next(1, 4)), cancellationToken);
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await _readSource.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"CREATE SCHEMA IF NOT EXISTS {Service}";
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState is UniqueViolation or DuplicateSchema)
        {
            // Two nodes created the schema at the same moment; it exists, which is all that matters.
        }
    }

    protected override Task WriteLockedAsync(Func<DataSession, Task> write, CancellationToken cancellationToken) =>
        WriteAsync(
            async session =>
            {
                // Nodes starting together migrate one at a time; the lock ends with the transaction.
                await session.ScalarAsync<object>("SELECT pg_advisory_xact_lock(hashtext(@Service))", new { Service });
                await write(session);
            },
            cancellationToken);

    private Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken) => OpenAsync(_dataSource, cancellationToken);

    private async Task<NpgsqlConnection> OpenAsync(NpgsqlDataSource source, CancellationToken cancellationToken)
    {
        try
        {
            return await source.OpenConnectionAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new DataUnavailableException("data.unavailable", $"cannot reach the {Service} database at {_location}: {ex.Message}; check that PostgreSQL is running and Data:ConnectionString is right.", ex);
        }
    }

    private protected override bool IsMissingTable(Exception exception) =>
        exception is PostgresException { SqlState: UndefinedTable or InvalidSchemaName };

    /// <summary>
    /// Dapper expands <c>IN @ids</c> into one parameter per item on SQLite, but hands Npgsql the
    /// list as one array parameter, and <c>IN $1</c> is not PostgreSQL; <c>= ANY($1)</c> is the same test.
    /// SQLite's <c>COLLATE BINARY</c> (byte order) is PostgreSQL's <c>COLLATE "C"</c>.
    /// </summary>
    private static string Dialect(string sql)
    {
        if (sql.Contains("COLLATE BINARY", StringComparison.Ordinal))
        {
            sql = sql.Replace("COLLATE BINARY", "COLLATE \"C\"", StringComparison.Ordinal);
        }

        return sql.Contains('@', StringComparison.Ordinal) ? InList().Replace(sql, match => (match.Groups["not"].Success ? "<> ALL(@" : "= ANY(@") + match.Groups["name"].Value + ")") : sql;
    }

    [GeneratedRegex(@"\b(?<not>NOT\s+)?IN\s+@(?<name>[A-Za-z_][A-Za-z0-9_]*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex InList();

    private Exception? TranslateRead(Exception exception) => exception switch
    {
        PostgresException { SqlState: ReadOnlyTransaction } ex => ReadOnlySession(ex),
        _ => Translate(exception),
    };

    private Exception? Translate(Exception exception) => exception switch
    {
        PostgresException { SqlState: UniqueViolation } ex => new DuplicateKeyException(ex.ConstraintName ?? "unique", ex),
        _ => null,
    };
}

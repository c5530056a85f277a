using System.Data.Common;
using Dapper;

namespace Nimbus.Platform.Data;

/// <summary>
/// One connection (and, for writes, one transaction) handed to a service's data code. The SQL is
/// the same on every engine; parameters are named <c>@name</c> and bound from an object's
/// properties (Dapper), lists expand for <c>IN @ids</c>, and <c>COLLATE BINARY</c> orders text by
/// byte on every engine.
/// </summary>
public sealed class DataSession
{
    private readonly DbConnection _connection;
    private readonly DbTransaction? _transaction;
    private readonly Func<Exception, Exception?> _translate;
    private readonly Func<string, string> _dialect;

    internal DataSession(DbConnection connection, DbTransaction? transaction, Func<Exception, Exception?> translate, CancellationToken cancellationToken)
        : this(connection, transaction, translate, static sql => sql, cancellationToken)
    {
    }

    internal DataSession(DbConnection connection, DbTransaction? transaction, Func<Exception, Exception?> translate, Func<string, string> dialect, CancellationToken cancellationToken)
    {
        _connection = connection;
        _transaction = transaction;
        _translate = translate;
        _dialect = dialect;
        CancellationToken = cancellationToken;
    }

    public CancellationToken CancellationToken { get; }

    /// <summary>Whether this session may change rows (it runs inside a transaction).</summary>
    public bool CanWrite => _transaction is not null;

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? args = null)
    {
        try
        {
            var rows = await _connection.QueryAsync<T>(Command(sql, args));
            return rows as IReadOnlyList<T> ?? rows.ToList();
        }
        catch (DbException ex) when (_translate(ex) is { } translated)
        {
            throw translated;
        }
    }

    public async Task<T?> QuerySingleOrDefaultAsync<T>(string sql, object? args = null)
    {
        try
        {
            return await _connection.QuerySingleOrDefaultAsync<T>(Command(sql, args));
        }
        catch (DbException ex) when (_translate(ex) is { } translated)
        {
            throw translated;
        }
    }

    public async Task<T?> ScalarAsync<T>(string sql, object? args = null)
    {
        try
        {
            return await _connection.ExecuteScalarAsync<T>(Command(sql, args));
        }
        catch (DbException ex) when (_translate(ex) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>Runs a statement that changes rows; returns how many it changed. A broken unique key is a <see cref="DuplicateKeyException"/>.</summary>
    public async Task<int> ExecuteAsync(string sql, object? args = null)
    {
        if (_transaction is null)
        {
            throw new InvalidOperationException("Rows change only inside Database.WriteAsync; this session comes from ReadAsync.");
        }

        try
        {
            return await _connection.ExecuteAsync(Command(sql, args));
        }
        catch (DbException ex) when (_translate(ex) is { } translated)
        {
            throw translated;
        }
    }

    private CommandDefinition Command(string sql, object? args) =>
        new(_dialect(sql), args, _transaction, commandTimeout: null, flags: CommandFlags.Buffered, cancellationToken: CancellationToken);
}

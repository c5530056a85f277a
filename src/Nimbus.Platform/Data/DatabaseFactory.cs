using System.Collections.Concurrent;

namespace Nimbus.Platform.Data;

/// <summary>Opens each service's database once, on the engine <see cref="DataOptions"/> names.</summary>
public interface IDatabaseFactory
{
    /// <summary>The database of <paramref name="service"/> (a lower-case name such as <c>identity</c>); the same instance on every call.</summary>
    Database Open(string service);
}

/// <summary>SQLite files under <c>$NIMBUS_HOME/data</c>, or schemas of one PostgreSQL database.</summary>
public sealed class DatabaseFactory(DataOptions options, string home, TimeProvider timeProvider) : IDatabaseFactory, IAsyncDisposable
{
    public DatabaseFactory(DataOptions options, string home)
        : this(options, home, TimeProvider.System)
    {
    }

    private readonly ConcurrentDictionary<string, Lazy<Database>> _open = new(StringComparer.Ordinal);

    public Database Open(string service) =>
        _open.GetOrAdd(service, name => new Lazy<Database>(() => Create(name))).Value;

    public async ValueTask DisposeAsync()
    {
        foreach (var database in _open.Values.Where(d => d.IsValueCreated))
        {
            await database.Value.DisposeAsync();
        }

        _open.Clear();
    }

    private Database Create(string service) => options.Provider switch
    {
        DataProvider.Postgres => new PostgresDatabase(service, options.ConnectionString, timeProvider),
        _ => new SqliteDatabase(service, Path.Combine(home, "data"), options.BusyTimeoutSeconds, timeProvider),
    };
}

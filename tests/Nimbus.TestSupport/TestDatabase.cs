using Nimbus.Platform.Data;
using Npgsql;

namespace Nimbus.TestSupport;

/// <summary>
/// Fresh, empty databases for one test on one engine: a temporary directory of SQLite files, or a
/// new PostgreSQL database on the throwaway cluster ./test.sh starts (NIMBUS_TEST_POSTGRES names
/// it). Disposing removes them. Component tests of services with state run on both engines.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    /// <summary>Connection string of a PostgreSQL superuser on the test cluster.</summary>
    public const string PostgresVariable = "NIMBUS_TEST_POSTGRES";

    private readonly TempDirectory? _directory;
    private readonly string? _postgresDatabase;

    private TestDatabase(DataProvider provider, DatabaseFactory factory, TempDirectory? directory, string? postgresDatabase, DataOptions options)
    {
        Provider = provider;
        Factory = factory;
        Options = options;
        _directory = directory;
        _postgresDatabase = postgresDatabase;
    }

    public DataProvider Provider { get; }

    /// <summary>Opens each service's database in this test's store.</summary>
    public DatabaseFactory Factory { get; }

    /// <summary>The settings that point a daemon at this store.</summary>
    public DataOptions Options { get; }

    /// <summary>The state directory whose <c>data</c> folder holds the SQLite files; null on PostgreSQL.</summary>
    public string? Home => _directory?.Path;

    public static async Task<TestDatabase> CreateAsync(DataProvider provider)
    {
        if (provider == DataProvider.Sqlite)
        {
            var directory = new TempDirectory();
            var sqlite = new DataOptions();
            return new TestDatabase(provider, new DatabaseFactory(sqlite, directory.Path), directory, null, sqlite);
        }

        var admin = PostgresAdminConnectionString();
        var name = "nimbus_test_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        var options = new DataOptions
        {
            Provider = DataProvider.Postgres,
            ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ToString(),
        };
        return new TestDatabase(provider, new DatabaseFactory(options, Path.GetTempPath()), null, name, options);
    }

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        _directory?.Dispose();
        if (_postgresDatabase is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(PostgresAdminConnectionString());
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_postgresDatabase} WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private static string PostgresAdminConnectionString() =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{PostgresVariable} is not set: the PostgreSQL half of the data-layer tests needs a throwaway cluster. Run ./test.sh, or start one with scripts/test-postgres.sh start and export the line it prints.");
}

using Nimbus.Platform.Data;
using Npgsql;

namespace Nimbus.Platform.Tests.Data;

public sealed class PostgresDatabaseTests : DatabaseConformanceTests
{
    protected override DataProvider Provider => DataProvider.Postgres;

    [Fact]
    public async Task Nodes_migrating_the_same_service_together_apply_each_migration_exactly_once()
    {
        // Each migration also logs itself; a second application would fail (CREATE TABLE without
        // IF NOT EXISTS) or log twice.
        Migration[] migrations =
        [
            new(1, "log", "CREATE TABLE applied (version BIGINT NOT NULL); INSERT INTO applied (version) VALUES (1)"),
            new(2, "items", "CREATE TABLE items (id TEXT PRIMARY KEY); INSERT INTO applied (version) VALUES (2)"),
            new(3, "counters", "CREATE TABLE counters (name TEXT PRIMARY KEY); INSERT INTO applied (version) VALUES (3)"),
        ];
        var nodes = Enumerable.Range(0, 4).Select(_ => new DatabaseFactory(Store.Options, Path.GetTempPath())).ToList();
        try
        {
            await Task.WhenAll(nodes.Select(node => Task.Run(() => node.Open(ServiceName).MigrateAsync(migrations, None))));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }

        Assert.Equal([1, 2, 3], await Db.AppliedMigrationsAsync(None));
        Assert.Equal([1L, 2L, 3L], await Db.ReadAsync(session => session.QueryAsync<long>("SELECT version FROM applied ORDER BY version"), None));
    }

    [Fact]
    public async Task A_write_that_deadlocks_is_retried_and_both_writes_land()
    {
        await Db.MigrateAsync([Items, Counters], None);
        await Db.WriteAsync(session => session.ExecuteAsync("INSERT INTO counters (name, value) VALUES ('left', 0), ('right', 0)"), None);
        var firstLocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondLocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = 0;

        // Each locks one row, waits until the other holds its row, then wants the other's: PostgreSQL
        // aborts one of them, and the data layer runs that one again.
        Task Writer(string mine, string theirs, TaskCompletionSource locked, TaskCompletionSource other) => Task.Run(() => Db.WriteAsync(
            async session =>
            {
                Interlocked.Increment(ref attempts);
                await session.ExecuteAsync("UPDATE counters SET value = value + 1 WHERE name = @Name", new { Name = mine });
                locked.TrySetResult();
                await other.Task.WaitAsync(TimeSpan.FromSeconds(30));
                await session.ExecuteAsync("UPDATE counters SET value = value + 10 WHERE name = @Name", new { Name = theirs });
            },
            None));

        await Task.WhenAll(Writer("left", "right", firstLocked, secondLocked), Writer("right", "left", secondLocked, firstLocked));

        Assert.Equal(3, attempts);
        Assert.Equal([11L, 11L], await Db.ReadAsync(session => session.QueryAsync<long>("SELECT value FROM counters ORDER BY name"), None));
    }

    [Fact]
    public async Task A_wrong_port_is_unavailable_naming_host_and_port_but_not_the_password()
    {
        var builder = new NpgsqlConnectionStringBuilder(Store.Options.ConnectionString) { Port = ClosedPort(), Password = "not-for-logs-4711" };
        await using var factory = new DatabaseFactory(new DataOptions { Provider = DataProvider.Postgres, ConnectionString = builder.ToString() }, Path.GetTempPath());
        var database = factory.Open(ServiceName);

        var migrate = await Assert.ThrowsAsync<DataUnavailableException>(() => database.MigrateAsync([Items], None));
        var read = await Assert.ThrowsAsync<DataUnavailableException>(() => database.ReadAsync(session => session.ScalarAsync<long>("SELECT 1"), None));

        foreach (var error in new[] { migrate, read })
        {
            Assert.Equal("data.unavailable", error.Code);
            Assert.Contains($"{builder.Host}:{builder.Port}", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("not-for-logs-4711", error.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Each_service_is_a_schema_of_the_one_database()
    {
        await Db.MigrateAsync([Items], None);

        var schemas = await Db.ReadAsync(session => session.QueryAsync<string>("SELECT table_schema FROM information_schema.tables WHERE table_name = 'items'"), None);

        Assert.Equal([ServiceName], schemas);
        Assert.Contains($"schema {ServiceName}", Db.Location, StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using Nimbus.Platform.Data;

namespace Nimbus.Platform.Tests.Data;

public sealed class SqliteDatabaseTests : DatabaseConformanceTests
{
    protected override DataProvider Provider => DataProvider.Sqlite;

    private string FilePath => Path.Combine(Store.Home!, "data", ServiceName + ".db");

    [Fact]
    public async Task The_file_is_the_service_name_under_home_data_in_wal_mode()
    {
        await Db.MigrateAsync([Items], None);
        await InsertItemAsync("a", "alpha");

        Assert.True(File.Exists(FilePath));
        Assert.Equal(FilePath, Db.Location);
        Assert.Equal("wal", await Db.ReadAsync(session => session.ScalarAsync<string>("PRAGMA journal_mode"), None));
    }

    [Fact]
    public async Task A_file_that_is_not_a_database_is_unavailable_and_named()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        await File.WriteAllTextAsync(FilePath, new string('x', 8192));

        var migrate = await Assert.ThrowsAsync<DataUnavailableException>(() => Db.MigrateAsync([Items], None));
        var read = await Assert.ThrowsAsync<DataUnavailableException>(() => Db.ReadAsync(session => session.ScalarAsync<long>("SELECT COUNT(*) FROM items"), None));
        var write = await Assert.ThrowsAsync<DataUnavailableException>(() => Db.WriteAsync(session => session.ExecuteAsync(InsertItem, Item("a", "alpha")), None));

        foreach (var error in new[] { migrate, read, write })
        {
            Assert.Contains(FilePath, error.Message, StringComparison.Ordinal);
            Assert.Contains("backup", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(new string('x', 8192), await File.ReadAllTextAsync(FilePath));
    }

    [Fact]
    public async Task Reads_before_any_migration_create_the_data_directory()
    {
        Assert.Empty(await Db.AppliedMigrationsAsync(None));

        Assert.True(Directory.Exists(Path.GetDirectoryName(FilePath)));
    }
}

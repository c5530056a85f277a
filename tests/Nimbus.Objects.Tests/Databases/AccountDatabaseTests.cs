using Nimbus.Objects.Common;
using Nimbus.Objects.Databases;
using Nimbus.TestSupport;
using static Nimbus.Objects.Tests.Databases.ContainerDatabaseTests;

namespace Nimbus.Objects.Tests.Databases;

public sealed class AccountDatabaseTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string DbPath => _temp.Combine("sda", "accounts", "3", "def", "hash", "hash.db");

    private Task<AccountDatabase> CreateAsync(long seconds = 0) => AccountDatabase.CreateAsync(DbPath, "AUTH_test", At(seconds), None);

    private static ContainerRecord Report(string name, long put, long delete = -1, long count = 0, long bytes = 0) =>
        new(name, At(put), delete < 0 ? SwiftTimestamp.Zero : At(delete), count, bytes);

    private static async Task<string[]> NamesAsync(AccountDatabase database, ListingQuery query) =>
        [.. (await database.ListAsync(query, None)).Select(entry => entry is SubdirEntry ? $"{entry.Name} (dir)" : entry.Name)];

    [Fact]
    public async Task Open_returns_null_until_the_account_is_created()
    {
        Assert.Null(await AccountDatabase.OpenAsync(DbPath, None));
        await CreateAsync(seconds: 4);
        await AccountDatabase.CreateAsync(DbPath, "AUTH_test", At(2), None);

        var database = await AccountDatabase.OpenAsync(DbPath, None);
        Assert.NotNull(database);
        var info = await database.GetInfoAsync(None);
        Assert.Equal(("AUTH_test", At(4), At(4)), (info.Account, info.CreatedAt, info.PutTimestamp));
        Assert.NotEmpty(info.DatabaseId);
    }

    [Fact]
    public async Task Newest_report_wins_per_container()
    {
        var database = await CreateAsync();
        await database.MergeContainersAsync([Report("photos", put: 5, count: 3, bytes: 300)], None);
        await database.MergeContainersAsync([Report("photos", put: 2, count: 1, bytes: 100)], None);

        var entry = Assert.IsType<ContainerListingEntry>(Assert.Single(await database.ListAsync(new ListingQuery(), None)));
        Assert.Equal((3L, 300L, At(5)), (entry.ObjectCount, entry.BytesUsed, entry.LastModified));
    }

    [Fact]
    public async Task Counts_under_the_same_timestamps_take_the_latest_report()
    {
        var database = await CreateAsync();
        await database.MergeContainersAsync([Report("photos", put: 5, count: 3, bytes: 300)], None);
        await database.MergeContainersAsync([Report("photos", put: 5, count: 4, bytes: 400)], None);

        var info = await database.GetInfoAsync(None);
        Assert.Equal((1L, 4L, 400L), (info.ContainerCount, info.ObjectCount, info.BytesUsed));
    }

    [Fact]
    public async Task An_unchanged_report_keeps_its_row()
    {
        var database = await CreateAsync();
        await database.MergeContainersAsync([Report("photos", put: 5, count: 3, bytes: 300)], None);
        var before = Assert.Single(await database.GetRowsSinceAsync(0, 10, None));

        await database.MergeContainersAsync([Report("photos", put: 5, count: 3, bytes: 300)], None);

        Assert.Equal(before.RowId, Assert.Single(await database.GetRowsSinceAsync(0, 10, None)).RowId);
    }

    [Fact]
    public async Task Deleted_containers_stay_as_tombstones_and_are_neither_counted_nor_listed()
    {
        var database = await CreateAsync();
        await database.MergeContainersAsync([Report("a", put: 1, count: 2, bytes: 20), Report("b", put: 1, count: 1, bytes: 5)], None);
        await database.MergeContainersAsync([Report("a", put: 1, delete: 3)], None);

        Assert.Equal(["b"], await NamesAsync(database, new ListingQuery()));
        var info = await database.GetInfoAsync(None);
        Assert.Equal((1L, 1L, 5L), (info.ContainerCount, info.ObjectCount, info.BytesUsed));

        var tombstone = (await database.GetRowsSinceAsync(0, 10, None)).Single(row => row.Name == "a");
        Assert.True(tombstone.Deleted);
        Assert.Equal((At(1), At(3)), (tombstone.PutTimestamp, tombstone.DeleteTimestamp));

        // A stale report from before the delete keeps the newer delete timestamp.
        await database.MergeContainersAsync([Report("a", put: 1, count: 2, bytes: 20)], None);
        Assert.Equal(["b"], await NamesAsync(database, new ListingQuery()));

        await database.MergeContainersAsync([Report("a", put: 4, count: 0)], None);
        Assert.Equal(["a", "b"], await NamesAsync(database, new ListingQuery()));
        Assert.Equal(2, (await database.GetInfoAsync(None)).ContainerCount);
    }

    [Fact]
    public async Task Stats_sum_the_live_containers()
    {
        var database = await CreateAsync();
        await database.MergeContainersAsync(
            [Report("a", put: 1, count: 2, bytes: 20), Report("b", put: 1, count: 3, bytes: 30), Report("c", put: 1, delete: 2)],
            None);

        var info = await database.GetInfoAsync(None);
        Assert.Equal((2L, 5L, 50L), (info.ContainerCount, info.ObjectCount, info.BytesUsed));
    }

    [Fact]
    public async Task Account_listing_has_swift_semantics_but_no_path()
    {
        var database = await CreateAsync();
        string[] names = ["logs-2025", "logs-2026", "photos", "é", "backup_a", "backup_b"];
        await database.MergeContainersAsync(names.Select(name => Report(name, put: 1, count: 1)).ToList(), None);

        Assert.Equal(["backup_a", "backup_b", "logs- (dir)", "photos", "é"], await NamesAsync(database, new ListingQuery(Delimiter: '-')));
        Assert.Equal(["logs- (dir)", "photos"], await NamesAsync(database, new ListingQuery(Limit: 2, Delimiter: '-', Marker: "backup_b")));
        Assert.Equal(["é", "photos"], await NamesAsync(database, new ListingQuery(Reverse: true, EndMarker: "logs-2026")));
        Assert.Equal(["logs-2026"], await NamesAsync(database, new ListingQuery(Prefix: "logs-", Marker: "logs-2025")));
        await Assert.ThrowsAsync<ArgumentException>(() => database.ListAsync(new ListingQuery(Path: "x"), None));
    }

    [Fact]
    public async Task Delete_marks_the_account_deleted_and_a_newer_put_revives_it()
    {
        var database = await CreateAsync(seconds: 1);
        await database.UpdateMetadataAsync(new Dictionary<string, MetadataValue> { ["X-Account-Meta-Owner"] = new("ann", At(1)) }, None);

        await database.DeleteAsync(At(2), None);
        var info = await database.GetInfoAsync(None);
        Assert.True(info.IsDeleted);
        Assert.Empty(info.Metadata);
        Assert.Equal(new MetadataValue(string.Empty, At(2)), (await database.GetAllMetadataAsync(None))["X-Account-Meta-Owner"]);

        await AccountDatabase.CreateAsync(DbPath, "AUTH_test", At(3), None);
        Assert.False((await database.GetInfoAsync(None)).IsDeleted);
    }

    [Fact]
    public async Task Reclaim_removes_container_tombstones_by_delete_time()
    {
        var database = await CreateAsync();
        await database.MergeContainersAsync([Report("old", put: 1, delete: 2), Report("recent", put: 1, delete: 9), Report("live", put: 1)], None);

        await database.ReclaimAsync(At(5), None);

        Assert.Equal(["recent", "live"], (await database.GetRowsSinceAsync(0, 10, None)).Select(row => row.Name));
    }

    [Fact]
    public async Task A_container_database_does_not_open_as_an_account_database()
    {
        await ContainerDatabase.CreateAsync(DbPath, "AUTH_test", "c", At(0), None);

        await Assert.ThrowsAsync<InvalidDataException>(() => AccountDatabase.OpenAsync(DbPath, None));
    }
}

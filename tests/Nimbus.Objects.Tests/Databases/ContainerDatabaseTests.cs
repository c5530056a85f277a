using Microsoft.Data.Sqlite;
using Nimbus.Objects.Common;
using Nimbus.Objects.Databases;
using Nimbus.TestSupport;

namespace Nimbus.Objects.Tests.Databases;

public sealed class ContainerDatabaseTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    internal static SwiftTimestamp At(long seconds) => SwiftTimestamp.FromSeconds(1_700_000_000 + seconds);

    internal static ObjectRecord Put(string name, long seconds, long size = 10, string contentType = "text/plain", string etag = "etag") =>
        new(name, At(seconds), size, contentType, etag, Deleted: false);

    internal static ObjectRecord Tombstone(string name, long seconds) => new(name, At(seconds), 0, string.Empty, string.Empty, Deleted: true);

    private string DbPath => _temp.Combine("sda", "containers", "17", "abc", "hash", "hash.db");

    private Task<ContainerDatabase> CreateAsync(long seconds = 0) => ContainerDatabase.CreateAsync(DbPath, "AUTH_test", "photos", At(seconds), None);

    [Fact]
    public async Task Open_returns_null_when_no_database_exists()
    {
        Assert.Null(await ContainerDatabase.OpenAsync(DbPath, None));
        Assert.False(File.Exists(DbPath));
    }

    [Fact]
    public async Task Create_is_atomic_and_idempotent()
    {
        var first = await CreateAsync(seconds: 5);
        await first.MergeObjectsAsync([Put("a", 6)], None);

        var again = await ContainerDatabase.CreateAsync(DbPath, "AUTH_test", "photos", At(3), None);
        var info = await again.GetInfoAsync(None);
        Assert.Equal(At(5), info.PutTimestamp);
        Assert.Equal(1, info.ObjectCount);

        await ContainerDatabase.CreateAsync(DbPath, "AUTH_test", "photos", At(9), None);
        var reopened = await ContainerDatabase.OpenAsync(DbPath, None);
        Assert.NotNull(reopened);
        info = await reopened.GetInfoAsync(None);
        Assert.Equal(At(9), info.PutTimestamp);
        Assert.Equal(At(5), info.CreatedAt);
        Assert.Equal(("AUTH_test", "photos"), (info.Account, info.Container));
        Assert.DoesNotContain(Directory.GetFiles(Path.GetDirectoryName(DbPath)!), file => file.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_leftover_temporary_file_is_not_taken_for_the_database()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DbPath)!);
        await File.WriteAllTextAsync(Path.Combine(Path.GetDirectoryName(DbPath)!, ".hash.db.0123.tmp"), "half written", None);

        Assert.Null(await ContainerDatabase.OpenAsync(DbPath, None));
        var created = await CreateAsync();
        Assert.Equal(0, (await created.GetInfoAsync(None)).ObjectCount);
    }

    [Fact]
    public async Task Racing_creators_end_with_one_database()
    {
        var creates = Enumerable.Range(0, 8).Select(i => Task.Run(() => ContainerDatabase.CreateAsync(DbPath, "AUTH_test", "photos", At(i), None)));
        var databases = await Task.WhenAll(creates);

        var ids = await Task.WhenAll(databases.Select(database => database.GetDatabaseIdAsync(None)));
        Assert.Single(ids.Distinct());
        Assert.Equal(At(7), (await databases[0].GetInfoAsync(None)).PutTimestamp);
        Assert.DoesNotContain(Directory.GetFiles(Path.GetDirectoryName(DbPath)!), file => file.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Database_records_schema_version_and_uses_wal()
    {
        var database = await CreateAsync();
        await database.MergeObjectsAsync([Put("a", 1)], None);

        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Pooling = false }.ToString());
        await connection.OpenAsync(None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT user_version, journal_mode FROM pragma_user_version, pragma_journal_mode";
        await using var reader = await command.ExecuteReaderAsync(None);
        Assert.True(await reader.ReadAsync(None));
        Assert.Equal(1, reader.GetInt32(0));
        Assert.Equal("wal", reader.GetString(1));
    }

    [Fact]
    public async Task An_account_database_does_not_open_as_a_container_database()
    {
        await AccountDatabase.CreateAsync(DbPath, "AUTH_test", At(0), None);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => ContainerDatabase.OpenAsync(DbPath, None));
        Assert.Contains("not a Nimbus container database", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Newest_row_wins_when_rows_arrive_out_of_order()
    {
        var database = await CreateAsync();
        await database.MergeObjectsAsync([Put("a", 3, size: 30, etag: "three")], None);
        await database.MergeObjectsAsync([Put("a", 1, size: 10, etag: "one"), Put("a", 2, size: 20, etag: "two")], None);

        var entry = Assert.IsType<ObjectListingEntry>(Assert.Single(await database.ListAsync(new ListingQuery(), None)));
        Assert.Equal(("three", 30L, At(3)), (entry.ETag, entry.Bytes, entry.LastModified));
        Assert.Equal(30, (await database.GetInfoAsync(None)).BytesUsed);
    }

    [Fact]
    public async Task Newest_row_wins_within_one_batch()
    {
        var database = await CreateAsync();
        await database.MergeObjectsAsync([Put("a", 2, size: 20), Tombstone("a", 4), Put("a", 3, size: 30)], None);

        Assert.Empty(await database.ListAsync(new ListingQuery(), None));
        var row = Assert.Single(await database.GetRowsSinceAsync(0, 10, None));
        Assert.True(row.Deleted);
        Assert.Equal(At(4), row.CreatedAt);
    }

    [Fact]
    public async Task A_row_with_the_same_timestamp_does_not_replace_the_stored_one()
    {
        var database = await CreateAsync();
        await database.MergeObjectsAsync([Put("a", 1, etag: "first")], None);
        await database.MergeObjectsAsync([Put("a", 1, etag: "second")], None);

        var entry = Assert.IsType<ObjectListingEntry>(Assert.Single(await database.ListAsync(new ListingQuery(), None)));
        Assert.Equal("first", entry.ETag);
        Assert.Single(await database.GetRowsSinceAsync(0, 10, None));
    }

    [Fact]
    public async Task Stats_count_only_live_rows()
    {
        var database = await CreateAsync();
        await database.MergeObjectsAsync([Put("a", 1, size: 100), Put("b", 1, size: 20), Put("c", 1, size: 3)], None);
        await database.MergeObjectsAsync([Tombstone("b", 2), Put("c", 2, size: 7), Tombstone("never-existed", 2)], None);

        var info = await database.GetInfoAsync(None);
        Assert.Equal(2, info.ObjectCount);
        Assert.Equal(107, info.BytesUsed);

        await database.MergeObjectsAsync([Put("b", 3, size: 1)], None);
        info = await database.GetInfoAsync(None);
        Assert.Equal(3, info.ObjectCount);
        Assert.Equal(108, info.BytesUsed);
    }

    [Fact]
    public async Task Rows_since_include_tombstones_in_row_order_and_a_replaced_row_moves_to_the_end()
    {
        var database = await CreateAsync();
        await database.MergeObjectsAsync([Put("a", 1), Put("b", 1), Put("c", 1)], None);
        await database.MergeObjectsAsync([Tombstone("a", 2)], None);

        var rows = await database.GetRowsSinceAsync(0, 100, None);
        Assert.Equal(["b", "c", "a"], rows.Select(row => row.Name));
        Assert.Equal([false, false, true], rows.Select(row => row.Deleted));
        Assert.True(rows.Zip(rows.Skip(1)).All(pair => pair.First.RowId < pair.Second.RowId));

        var after = await database.GetRowsSinceAsync(rows[0].RowId, 1, None);
        Assert.Equal("c", Assert.Single(after).Name);
        Assert.Equal(rows[^1].RowId, (await database.GetInfoAsync(None)).MaxRowId);
    }

    [Fact]
    public async Task Reclaim_removes_only_tombstones_older_than_the_age()
    {
        var database = await CreateAsync();
        var old = Enumerable.Range(0, 2500).Select(i => Tombstone($"old-{i:D5}", 10)).ToList();
        await database.MergeObjectsAsync([.. old, Tombstone("recent", 50), Put("live", 5)], None);
        var maxRowId = (await database.GetInfoAsync(None)).MaxRowId;

        await database.ReclaimAsync(At(20), None);

        var rows = await database.GetRowsSinceAsync(0, 10_000, None);
        Assert.Equal(["recent", "live"], rows.Select(row => row.Name));
        var info = await database.GetInfoAsync(None);
        Assert.Equal(1, info.ObjectCount);
        Assert.Equal(maxRowId, info.MaxRowId);
    }

    [Fact]
    public async Task Metadata_keeps_the_newest_value_per_key_and_remembers_removals()
    {
        var database = await CreateAsync();
        await database.UpdateMetadataAsync(
            new Dictionary<string, MetadataValue>
            {
                ["X-Container-Meta-Color"] = new("blue", At(2)),
                ["X-Container-Meta-Size"] = new("big", At(2)),
            },
            None);
        await database.UpdateMetadataAsync(
            new Dictionary<string, MetadataValue>
            {
                ["X-Container-Meta-Color"] = new("red", At(1)),
                ["X-Container-Meta-Size"] = new(string.Empty, At(3)),
            },
            None);

        var info = await database.GetInfoAsync(None);
        Assert.Equal(new MetadataValue("blue", At(2)), Assert.Single(info.Metadata).Value);
        var all = await database.GetAllMetadataAsync(None);
        Assert.Equal(new MetadataValue(string.Empty, At(3)), all["X-Container-Meta-Size"]);

        // A replica's older value for the removed key must not bring it back.
        await database.UpdateMetadataAsync(new Dictionary<string, MetadataValue> { ["X-Container-Meta-Size"] = new("big", At(2)) }, None);
        Assert.DoesNotContain("X-Container-Meta-Size", (await database.GetInfoAsync(None)).Metadata.Keys);

        await database.ReclaimAsync(At(4), None);
        Assert.DoesNotContain("X-Container-Meta-Size", (await database.GetAllMetadataAsync(None)).Keys);
    }

    [Fact]
    public async Task Delete_records_the_newer_timestamp_and_clears_metadata()
    {
        var database = await CreateAsync(seconds: 1);
        await database.UpdateMetadataAsync(new Dictionary<string, MetadataValue> { ["X-Container-Meta-A"] = new("1", At(1)) }, None);

        await database.DeleteAsync(At(5), None);
        await database.DeleteAsync(At(4), None);

        var info = await database.GetInfoAsync(None);
        Assert.Equal(At(5), info.DeleteTimestamp);
        Assert.True(info.IsDeleted);
        Assert.Empty(info.Metadata);

        await ContainerDatabase.CreateAsync(DbPath, "AUTH_test", "photos", At(6), None);
        Assert.False((await database.GetInfoAsync(None)).IsDeleted);
    }

    [Fact]
    public async Task Mark_reported_records_what_the_account_was_told()
    {
        var database = await CreateAsync(seconds: 1);
        await database.MergeObjectsAsync([Put("a", 2, size: 5)], None);
        var info = await database.GetInfoAsync(None);
        Assert.True(info.NeedsReport);

        await database.MarkReportedAsync(info, None);
        info = await database.GetInfoAsync(None);
        Assert.False(info.NeedsReport);
        Assert.Equal((At(1), 1L, 5L), (info.ReportedPutTimestamp, info.ReportedObjectCount, info.ReportedBytesUsed));

        await database.MergeObjectsAsync([Put("b", 3, size: 1)], None);
        Assert.True((await database.GetInfoAsync(None)).NeedsReport);
    }

    [Fact]
    public async Task Rows_with_invalid_names_are_refused()
    {
        var database = await CreateAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => database.MergeObjectsAsync([Put("bad\uD800", 1)], None));
        await Assert.ThrowsAsync<ArgumentException>(() => database.MergeObjectsAsync([Put(string.Empty, 1)], None));
        Assert.Empty(await database.GetRowsSinceAsync(0, 10, None));
    }

    [Fact]
    public async Task The_busy_timeout_is_a_parameter()
    {
        await CreateAsync();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => ContainerDatabase.OpenAsync(DbPath, TimeSpan.Zero, None));
        Assert.NotNull(await ContainerDatabase.OpenAsync(DbPath, TimeSpan.FromSeconds(1), None));
    }
}

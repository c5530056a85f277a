using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Nimbus.Objects.Common;
using Nimbus.Objects.Storage;

namespace Nimbus.Objects.Tests.Storage;

/// <summary>The behaviour every <see cref="IObjectBackend"/> must show; each backend runs it in a subclass.</summary>
public abstract class ObjectBackendConformance
{
    protected const string Device = "d1";
    protected const string OtherDevice = "d2";
    protected const int Partition = 7;

    private IObjectBackend? _backend;

    // Starts at the real time so that file ages on disk (mtimes) and the clock agree.
    protected FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    protected IObjectBackend Backend => _backend ??= CreateBackend(Time);

    protected static CancellationToken Ct => CancellationToken.None;

    protected abstract IObjectBackend CreateBackend(TimeProvider time);

    protected static ObjectLocation Location(string name = "/a/c/o", string device = Device, int partition = Partition) =>
        new(device, partition, Md5Hex(Encoding.UTF8.GetBytes(name)));

    protected static string Md5Hex(ReadOnlySpan<byte> data)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        md5.AppendData(data);
        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }

    protected SwiftTimestamp At(int seconds) =>
        new(SwiftTimestamp.Now(Time).Ticks + (seconds * SwiftTimestamp.TicksPerSecond));

    protected static Dictionary<string, string> DataMetadata(SwiftTimestamp timestamp, byte[] body, params (string Key, string Value)[] extra)
    {
        var metadata = new Dictionary<string, string>
        {
            ["name"] = "/a/c/o",
            ["Content-Type"] = "text/plain",
            ["ETag"] = Md5Hex(body),
            ["Content-Length"] = body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["X-Timestamp"] = timestamp.Normal,
        };
        foreach (var (key, value) in extra)
        {
            metadata[key] = value;
        }

        return metadata;
    }

    protected async Task<bool> PutAsync(ObjectLocation location, SwiftTimestamp timestamp, string body, params (string Key, string Value)[] extra)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        await using var writer = await Backend.CreateWriterAsync(location, Ct);
        await writer.WriteAsync(bytes, Ct);
        return await writer.CommitAsync(timestamp, DataMetadata(timestamp, bytes, extra), Ct);
    }

    protected async Task DeleteAsync(ObjectLocation location, SwiftTimestamp timestamp) =>
        await Backend.WriteTombstoneAsync(location, timestamp, new Dictionary<string, string> { ["X-Timestamp"] = timestamp.Normal, ["name"] = "/a/c/o" }, Ct);

    protected async Task<bool> PostAsync(ObjectLocation location, SwiftTimestamp timestamp, params (string Key, string Value)[] metadata) =>
        await Backend.WriteMetadataAsync(location, timestamp, metadata.ToDictionary(m => m.Key, m => m.Value), Ct);

    protected async Task<string> ReadTextAsync(ObjectLocation location)
    {
        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Equal(ObjectPresence.Present, handle.Presence);
        return await ReadTextAsync(handle);
    }

    protected static async Task<string> ReadTextAsync(ObjectHandle handle, long offset = 0)
    {
        await using var stream = handle.OpenRead(offset);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(Ct);
    }

    protected async Task<List<ObjectLocation>> EnumerateAsync(string device = Device)
    {
        var locations = new List<ObjectLocation>();
        await foreach (var location in Backend.EnumerateAsync(device, Ct))
        {
            locations.Add(location);
        }

        return locations;
    }

    [Fact]
    public async Task Committed_object_reads_back_with_its_metadata()
    {
        var location = Location();
        var timestamp = At(0);
        Assert.True(await PutAsync(location, timestamp, "hello", ("X-Object-Meta-Color", "blue")));

        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Equal(ObjectPresence.Present, handle.Presence);
        Assert.Equal(timestamp, handle.Timestamp);
        Assert.Null(handle.MetadataTimestamp);
        Assert.Equal(5, handle.Length);
        Assert.Equal("blue", handle.Metadata["X-Object-Meta-Color"]);
        Assert.Equal(Md5Hex("hello"u8), handle.Metadata["ETag"]);
        Assert.Equal("/a/c/o", handle.Metadata["name"]);
        Assert.Equal("hello", await ReadTextAsync(handle));
    }

    [Fact]
    public async Task Nothing_stored_reads_as_missing()
    {
        await using var handle = await Backend.OpenAsync(Location(), Ct);
        Assert.Equal(ObjectPresence.Missing, handle.Presence);
        Assert.Equal(SwiftTimestamp.Zero, handle.Timestamp);
        Assert.Empty(handle.Metadata);
        Assert.Throws<InvalidOperationException>(() => handle.OpenRead());
    }

    [Fact]
    public async Task Writer_counts_bytes_and_computes_their_md5()
    {
        await using var writer = await Backend.CreateWriterAsync(Location(), Ct);
        await writer.WriteAsync("hel"u8.ToArray(), Ct);
        await writer.WriteAsync("lo"u8.ToArray(), Ct);
        Assert.Equal(5, writer.BytesWritten);
        Assert.Equal(Md5Hex("hello"u8), writer.ContentMd5);
    }

    [Fact]
    public async Task Uncommitted_write_is_never_visible()
    {
        var location = Location();
        await using (var writer = await Backend.CreateWriterAsync(location, Ct))
        {
            await writer.WriteAsync("partial"u8.ToArray(), Ct);
            await using var during = await Backend.OpenAsync(location, Ct);
            Assert.Equal(ObjectPresence.Missing, during.Presence);
        }

        await using var after = await Backend.OpenAsync(location, Ct);
        Assert.Equal(ObjectPresence.Missing, after.Presence);
        Assert.Empty(await EnumerateAsync());
        Assert.Empty(await Backend.GetSuffixHashesAsync(Device, Partition, Ct));
    }

    [Fact]
    public async Task Large_object_written_in_chunks_reads_back_whole()
    {
        var location = Location();
        var chunk = new byte[64 * 1024];
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        await using (var writer = await Backend.CreateWriterAsync(location, Ct))
        {
            for (var i = 0; i < 40; i++)
            {
                Array.Fill(chunk, (byte)i);
                md5.AppendData(chunk);
                await writer.WriteAsync(chunk, Ct);
            }

            Assert.Equal(Convert.ToHexStringLower(md5.GetCurrentHash()), writer.ContentMd5);
            Assert.True(await writer.CommitAsync(At(0), new Dictionary<string, string> { ["ETag"] = writer.ContentMd5 }, Ct));
        }

        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Equal(40L * chunk.Length, handle.Length);
        var expected = Convert.ToHexStringLower(md5.GetHashAndReset());
        await using var stream = handle.OpenRead();
        var buffer = new byte[10_000];
        int read;
        while ((read = await stream.ReadAsync(buffer, Ct)) > 0)
        {
            md5.AppendData(buffer, 0, read);
        }

        Assert.Equal(expected, Convert.ToHexStringLower(md5.GetHashAndReset()));
    }

    [Fact]
    public async Task OpenRead_starts_at_the_offset()
    {
        var location = Location();
        await PutAsync(location, At(0), "0123456789");
        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Equal("789", await ReadTextAsync(handle, 7));
        Assert.Equal(string.Empty, await ReadTextAsync(handle, 10));
        Assert.Equal("0123456789", await ReadTextAsync(handle));
    }

    [Fact]
    public async Task Newer_data_replaces_older_data()
    {
        var location = Location();
        Assert.True(await PutAsync(location, At(0), "old"));
        Assert.True(await PutAsync(location, At(1), "new"));
        Assert.Equal("new", await ReadTextAsync(location));
    }

    [Fact]
    public async Task Commit_older_than_existing_data_keeps_nothing()
    {
        var location = Location();
        Assert.True(await PutAsync(location, At(1), "new"));
        Assert.False(await PutAsync(location, At(0), "old"));
        Assert.Equal("new", await ReadTextAsync(location));
        var versions = await Backend.ListObjectsAsync(Device, Partition, [location.Suffix], Ct);
        Assert.Equal(At(1), Assert.Single(versions).DataTimestamp);
    }

    [Fact]
    public async Task Commit_with_the_timestamp_of_existing_data_keeps_nothing()
    {
        var location = Location();
        Assert.True(await PutAsync(location, At(1), "first"));
        Assert.False(await PutAsync(location, At(1), "second"));
        Assert.Equal("first", await ReadTextAsync(location));
    }

    [Fact]
    public async Task Commit_older_than_a_tombstone_keeps_nothing()
    {
        var location = Location();
        await DeleteAsync(location, At(2));
        Assert.False(await PutAsync(location, At(1), "late"));
        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Equal(ObjectPresence.Deleted, handle.Presence);
    }

    [Fact]
    public async Task Newer_tombstone_hides_older_data()
    {
        var location = Location();
        await PutAsync(location, At(0), "data");
        await DeleteAsync(location, At(1));

        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Equal(ObjectPresence.Deleted, handle.Presence);
        Assert.Equal(At(1), handle.Timestamp);
        Assert.Equal(At(1).Normal, handle.Metadata["X-Timestamp"]);
        Assert.Equal(0, handle.Length);
        Assert.Throws<InvalidOperationException>(() => handle.OpenRead());
    }

    [Fact]
    public async Task Older_tombstone_does_not_hide_newer_data()
    {
        var location = Location();
        await PutAsync(location, At(1), "data");
        await DeleteAsync(location, At(0));
        Assert.Equal("data", await ReadTextAsync(location));
    }

    [Fact]
    public async Task Tombstone_with_the_timestamp_of_existing_data_is_not_written()
    {
        var location = Location();
        await PutAsync(location, At(1), "data");
        await DeleteAsync(location, At(1));
        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Equal(ObjectPresence.Present, handle.Presence);
    }

    [Fact]
    public async Task Data_newer_than_a_tombstone_is_present_again()
    {
        var location = Location();
        await PutAsync(location, At(0), "first");
        await DeleteAsync(location, At(1));
        Assert.True(await PutAsync(location, At(2), "again"));
        Assert.Equal("again", await ReadTextAsync(location));
    }

    [Fact]
    public async Task Meta_replaces_user_metadata_but_keeps_system_metadata()
    {
        var location = Location();
        await PutAsync(location, At(0), "data", ("X-Object-Meta-Color", "blue"), ("X-Object-Meta-Size", "big"), ("Content-Disposition", "inline"));
        Assert.True(await PostAsync(location, At(1), ("X-Object-Meta-Color", "red"), ("ETag", "forged"), ("X-Timestamp", At(1).Normal)));

        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Equal(At(0), handle.Timestamp);
        Assert.Equal(At(1), handle.MetadataTimestamp);
        Assert.Equal("red", handle.Metadata["X-Object-Meta-Color"]);
        Assert.False(handle.Metadata.ContainsKey("X-Object-Meta-Size"));
        Assert.False(handle.Metadata.ContainsKey("Content-Disposition"));
        Assert.Equal(Md5Hex("data"u8), handle.Metadata["ETag"]);
        Assert.Equal(At(0).Normal, handle.Metadata["X-Timestamp"]);
        Assert.Equal("text/plain", handle.Metadata["Content-Type"]);
        Assert.Equal("4", handle.Metadata["Content-Length"]);
        Assert.Equal("data", await ReadTextAsync(handle));
    }

    [Fact]
    public async Task Meta_may_override_the_content_type()
    {
        var location = Location();
        await PutAsync(location, At(0), "data");
        await PostAsync(location, At(1), ("Content-Type", "application/json"));
        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Equal("application/json", handle.Metadata["Content-Type"]);
    }

    [Fact]
    public async Task Metadata_write_needs_present_data_older_than_it()
    {
        var location = Location();
        Assert.False(await PostAsync(location, At(0), ("X-Object-Meta-A", "1")));

        await PutAsync(location, At(2), "data");
        Assert.False(await PostAsync(location, At(1), ("X-Object-Meta-A", "1")));
        Assert.False(await PostAsync(location, At(2), ("X-Object-Meta-A", "1")));

        await DeleteAsync(location, At(3));
        Assert.False(await PostAsync(location, At(4), ("X-Object-Meta-A", "1")));
        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Equal(ObjectPresence.Deleted, handle.Presence);
        Assert.Null(handle.MetadataTimestamp);
    }

    [Fact]
    public async Task Older_meta_after_a_newer_one_is_refused()
    {
        var location = Location();
        await PutAsync(location, At(0), "data");
        Assert.True(await PostAsync(location, At(3), ("X-Object-Meta-A", "new")));
        Assert.False(await PostAsync(location, At(2), ("X-Object-Meta-A", "old")));

        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Equal("new", handle.Metadata["X-Object-Meta-A"]);
        Assert.Equal(At(3), handle.MetadataTimestamp);
    }

    [Fact]
    public async Task Newer_data_drops_the_metadata_of_an_older_post()
    {
        var location = Location();
        await PutAsync(location, At(0), "v1");
        await PostAsync(location, At(1), ("X-Object-Meta-A", "posted"));
        await PutAsync(location, At(2), "v2", ("X-Object-Meta-B", "put"));

        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Null(handle.MetadataTimestamp);
        Assert.False(handle.Metadata.ContainsKey("X-Object-Meta-A"));
        Assert.Equal("put", handle.Metadata["X-Object-Meta-B"]);
    }

    [Fact]
    public async Task Reader_keeps_reading_after_a_concurrent_overwrite()
    {
        var location = Location();
        var original = new string('a', 200_000);
        await PutAsync(location, At(0), original);

        await using var handle = await Backend.OpenAsync(location, Ct);
        await using var stream = handle.OpenRead();
        var first = new byte[1000];
        await stream.ReadExactlyAsync(first, Ct);

        await PutAsync(location, At(1), "replacement");
        await DeleteAsync(location, At(2));
        await Backend.GetSuffixHashesAsync(Device, Partition, Ct);

        using var reader = new StreamReader(stream, Encoding.UTF8);
        var rest = await reader.ReadToEndAsync(Ct);
        Assert.Equal(original, Encoding.UTF8.GetString(first) + rest);
        Assert.Equal(original, await ReadTextAsync(handle));
    }

    [Fact]
    public async Task Concurrent_writes_of_one_object_leave_the_newest()
    {
        var location = Location();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => PutAsync(location, At(i), $"version {i}"))));
        Assert.True(results[7]);
        Assert.Equal("version 7", await ReadTextAsync(location));
        var version = Assert.Single(await Backend.ListObjectsAsync(Device, Partition, [location.Suffix], Ct));
        Assert.Equal(At(7), version.DataTimestamp);
    }

    [Fact]
    public async Task Equal_contents_give_equal_suffix_hashes_on_two_devices()
    {
        foreach (var device in new[] { Device, OtherDevice })
        {
            await PutAsync(Location("/a/c/one", device), At(0), "one");
            await PutAsync(Location("/a/c/two", device), At(0), "two");
            await PostAsync(Location("/a/c/two", device), At(1), ("X-Object-Meta-A", "1"));
            await DeleteAsync(Location("/a/c/three", device), At(2));
        }

        var first = await Backend.GetSuffixHashesAsync(Device, Partition, Ct);
        var second = await Backend.GetSuffixHashesAsync(OtherDevice, Partition, Ct);
        Assert.Equal(3, first.Count);
        Assert.Equal(first.OrderBy(p => p.Key), second.OrderBy(p => p.Key));
        Assert.Contains(Location("/a/c/one").Suffix, first.Keys);
    }

    [Fact]
    public async Task Different_versions_give_different_suffix_hashes()
    {
        await PutAsync(Location("/a/c/o", Device), At(0), "same");
        await PutAsync(Location("/a/c/o", OtherDevice), At(0), "same");
        await PostAsync(Location("/a/c/o", OtherDevice), At(1), ("X-Object-Meta-A", "1"));

        var suffix = Location().Suffix;
        var first = await Backend.GetSuffixHashesAsync(Device, Partition, Ct);
        var second = await Backend.GetSuffixHashesAsync(OtherDevice, Partition, Ct);
        Assert.NotEqual(first[suffix], second[suffix]);

        await PostAsync(Location("/a/c/o", Device), At(1), ("X-Object-Meta-A", "1"));
        Assert.Equal(second[suffix], (await Backend.GetSuffixHashesAsync(Device, Partition, Ct))[suffix]);
    }

    [Fact]
    public async Task Tombstone_older_than_the_reclaim_age_is_removed()
    {
        var location = Location();
        await PutAsync(location, At(0), "data");
        await DeleteAsync(location, At(1));

        Time.Advance(TimeSpan.FromDays(6));
        Assert.Single(await Backend.GetSuffixHashesAsync(Device, Partition, Ct));
        await using (var young = await Backend.OpenAsync(location, Ct))
        {
            Assert.Equal(ObjectPresence.Deleted, young.Presence);
        }

        Time.Advance(TimeSpan.FromDays(2));
        Assert.Empty(await Backend.GetSuffixHashesAsync(Device, Partition, Ct));
        Assert.Empty(await Backend.ListPartitionsAsync(Device, Ct));
        Assert.Empty(await EnumerateAsync());
        await using var reclaimed = await Backend.OpenAsync(location, Ct);
        Assert.Equal(ObjectPresence.Missing, reclaimed.Presence);
    }

    [Fact]
    public async Task Old_data_is_never_reclaimed()
    {
        var location = Location();
        await PutAsync(location, At(0), "data");
        Time.Advance(TimeSpan.FromDays(30));
        Assert.Single(await Backend.GetSuffixHashesAsync(Device, Partition, Ct));
        Assert.Equal("data", await ReadTextAsync(location));
    }

    [Fact]
    public async Task List_objects_reports_the_newest_state_of_each_object_in_the_suffixes()
    {
        var present = Location("/a/c/present");
        var deleted = Location("/a/c/deleted");
        var other = Location("/a/c/other-partition", partition: Partition + 1);
        await PutAsync(present, At(0), "data");
        await PostAsync(present, At(1), ("X-Object-Meta-A", "1"));
        await PutAsync(deleted, At(0), "data");
        await DeleteAsync(deleted, At(2));
        await PutAsync(other, At(0), "data");

        var versions = await Backend.ListObjectsAsync(Device, Partition, [present.Suffix, deleted.Suffix], Ct);
        var expected = new[]
        {
            new StoredObjectVersion(present.Hash, ObjectPresence.Present, At(0), At(1)),
            new StoredObjectVersion(deleted.Hash, ObjectPresence.Deleted, At(2), null),
        }.OrderBy(v => v.Hash, StringComparer.Ordinal);
        Assert.Equal(expected, versions);
        Assert.Single(await Backend.ListObjectsAsync(Device, Partition, [present.Suffix], Ct));
        Assert.Empty(await Backend.ListObjectsAsync(OtherDevice, Partition, [present.Suffix], Ct));
    }

    [Fact]
    public async Task List_partitions_returns_the_device_partitions_in_order()
    {
        await PutAsync(Location("/a/c/1", partition: 12), At(0), "x");
        await PutAsync(Location("/a/c/2", partition: 3), At(0), "x");
        await DeleteAsync(Location("/a/c/3", partition: 40), At(0));
        Assert.Equal([3, 12, 40], await Backend.ListPartitionsAsync(Device, Ct));
        Assert.Empty(await Backend.ListPartitionsAsync(OtherDevice, Ct));
    }

    [Fact]
    public async Task Enumerate_yields_every_object_on_the_device()
    {
        var locations = new[] { Location("/a/c/1", partition: 1), Location("/a/c/2", partition: 2), Location("/a/c/3", partition: 2) };
        foreach (var location in locations)
        {
            await PutAsync(location, At(0), "x");
        }

        await DeleteAsync(locations[2], At(1));
        await PutAsync(Location("/a/c/4", OtherDevice), At(0), "x");

        var found = await EnumerateAsync();
        Assert.Equal(locations.OrderBy(l => l.Hash, StringComparer.Ordinal), found.OrderBy(l => l.Hash, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Quarantined_object_reads_as_missing()
    {
        var location = Location();
        var neighbour = Location("/a/c/neighbour");
        await PutAsync(location, At(0), "bad");
        await PutAsync(neighbour, At(0), "good");
        await Backend.QuarantineAsync(location, Ct);

        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Equal(ObjectPresence.Missing, handle.Presence);
        Assert.Equal([neighbour], await EnumerateAsync());
        Assert.Empty(await Backend.ListObjectsAsync(Device, Partition, [location.Suffix], Ct));
        Assert.Equal("good", await ReadTextAsync(neighbour));

        Assert.True(await PutAsync(location, At(1), "restored"));
        Assert.Equal("restored", await ReadTextAsync(location));
    }

    [Fact]
    public async Task Quarantine_of_a_missing_object_does_nothing()
    {
        await Backend.QuarantineAsync(Location(), Ct);
        await using var handle = await Backend.OpenAsync(Location(), Ct);
        Assert.Equal(ObjectPresence.Missing, handle.Presence);
    }

    [Fact]
    public async Task Removed_partition_is_gone()
    {
        var removed = Location("/a/c/1", partition: 1);
        var kept = Location("/a/c/2", partition: 2);
        await PutAsync(removed, At(0), "x");
        await PutAsync(kept, At(0), "y");

        await Backend.RemovePartitionAsync(Device, 1, Ct);
        await Backend.RemovePartitionAsync(Device, 99, Ct);

        Assert.Equal([2], await Backend.ListPartitionsAsync(Device, Ct));
        Assert.Empty(await Backend.GetSuffixHashesAsync(Device, 1, Ct));
        await using var handle = await Backend.OpenAsync(removed, Ct);
        Assert.Equal(ObjectPresence.Missing, handle.Presence);
        Assert.Equal("y", await ReadTextAsync(kept));
    }

    [Fact]
    public async Task Large_metadata_round_trips()
    {
        var location = Location();
        var big = new string('m', 6000);
        await PutAsync(location, At(0), "data", ("X-Object-Meta-Big", big));
        await using (var handle = await Backend.OpenAsync(location, Ct))
        {
            Assert.Equal(big, handle.Metadata["X-Object-Meta-Big"]);
        }

        await PostAsync(location, At(1), ("X-Object-Meta-Big", big + "!"));
        await DeleteAsync(location, At(2));
        await Backend.WriteTombstoneAsync(location, At(3), new Dictionary<string, string> { ["X-Object-Meta-Note"] = big }, Ct);
        await using var deleted = await Backend.OpenAsync(location, Ct);
        Assert.Equal(big, deleted.Metadata["X-Object-Meta-Note"]);
    }

    [Fact]
    public async Task Metadata_over_the_limit_is_refused()
    {
        await using var writer = await Backend.CreateWriterAsync(Location(), Ct);
        await writer.WriteAsync("x"u8.ToArray(), Ct);
        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await writer.CommitAsync(At(0), new Dictionary<string, string> { ["X-Object-Meta-Huge"] = new string('h', 70_000) }, Ct));
    }

    [Fact]
    public async Task Metadata_keys_compare_without_case()
    {
        var location = Location();
        await PutAsync(location, At(0), "data");
        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Equal("text/plain", handle.Metadata["content-type"]);
    }
}

using Nimbus.Objects.Databases;
using Nimbus.TestSupport;
using static Nimbus.Objects.Tests.Databases.ContainerDatabaseTests;

namespace Nimbus.Objects.Tests.Databases;

public sealed class ContainerListingTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private async Task<ContainerDatabase> WithObjectsAsync(params string[] names)
    {
        var database = await ContainerDatabase.CreateAsync(_temp.Combine("c.db"), "AUTH_test", "c", At(0), None);
        await database.MergeObjectsAsync(names.Select(name => Put(name, 1)).ToList(), None);
        return database;
    }

    private static async Task<string[]> NamesAsync(ContainerDatabase database, ListingQuery query) =>
        [.. (await database.ListAsync(query, None)).Select(entry => entry is SubdirEntry ? $"{entry.Name} (dir)" : entry.Name)];

    [Fact]
    public async Task Names_sort_by_utf8_bytes_not_utf16()
    {
        // U+E000 is EE 80 80 in UTF-8 and sorts before U+1F600 (F0 ...); in UTF-16 the surrogate D83D sorts first.
        var database = await WithObjectsAsync("\U0001F600", "\uE000", "é", "z", "A");

        Assert.Equal(["A", "z", "é", "\uE000", "\U0001F600"], await NamesAsync(database, new ListingQuery()));
        Assert.Equal(["\U0001F600"], await NamesAsync(database, new ListingQuery(Marker: "\uE000")));
        Assert.Equal(["A", "z", "é"], await NamesAsync(database, new ListingQuery(EndMarker: "\uE000")));
    }

    [Fact]
    public async Task Deleted_objects_are_not_listed()
    {
        var database = await WithObjectsAsync("a", "b", "c");
        await database.MergeObjectsAsync([Tombstone("b", 2)], None);

        Assert.Equal(["a", "c"], await NamesAsync(database, new ListingQuery()));
    }

    [Fact]
    public async Task Marker_and_end_marker_are_exclusive()
    {
        var database = await WithObjectsAsync("a", "b", "c", "d", "e");

        Assert.Equal(["c", "d"], await NamesAsync(database, new ListingQuery(Marker: "b", EndMarker: "e")));
        Assert.Equal(["c", "d"], await NamesAsync(database, new ListingQuery(Marker: "bb", EndMarker: "dd")));
        Assert.Empty(await NamesAsync(database, new ListingQuery(Marker: "d", EndMarker: "b")));
    }

    [Fact]
    public async Task Prefix_lists_names_that_start_with_it()
    {
        var database = await WithObjectsAsync("ab", "abc", "abd", "ac", "b", "ab\U0010FFFF", "ab\U0010FFFFz");

        Assert.Equal(["ab", "abc", "abd", "ab\U0010FFFF", "ab\U0010FFFFz"], await NamesAsync(database, new ListingQuery(Prefix: "ab")));
        Assert.Equal(["ab\U0010FFFF", "ab\U0010FFFFz"], await NamesAsync(database, new ListingQuery(Prefix: "ab\U0010FFFF")));
        Assert.Equal(["abd", "ab\U0010FFFF"], await NamesAsync(database, new ListingQuery(Prefix: "ab", Marker: "abc", EndMarker: "ab\U0010FFFFz")));
        Assert.Equal(["ab", "abc"], await NamesAsync(database, new ListingQuery(Prefix: "ab", Marker: "a", Limit: 2)));
    }

    [Fact]
    public async Task Limit_caps_the_page_and_must_be_1_to_10000()
    {
        var database = await WithObjectsAsync("a", "b", "c");

        Assert.Equal(["a", "b"], await NamesAsync(database, new ListingQuery(Limit: 2)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => database.ListAsync(new ListingQuery(Limit: 0), None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => database.ListAsync(new ListingQuery(Limit: 10_001), None));
    }

    [Fact]
    public async Task Delimiter_rolls_names_up_into_one_subdir()
    {
        var database = await WithObjectsAsync("a/1", "a/2", "a/b/3", "a0", "b", "c/", "c/d");

        Assert.Equal(["a/ (dir)", "a0", "b", "c/ (dir)"], await NamesAsync(database, new ListingQuery(Delimiter: '/')));
        Assert.Equal(["a/1", "a/2", "a/b/ (dir)"], await NamesAsync(database, new ListingQuery(Prefix: "a/", Delimiter: '/')));
    }

    [Fact]
    public async Task Subdirs_count_against_the_limit()
    {
        var database = await WithObjectsAsync("a/1", "b/1", "c", "d/1");

        Assert.Equal(["a/ (dir)", "b/ (dir)"], await NamesAsync(database, new ListingQuery(Limit: 2, Delimiter: '/')));
        Assert.Equal(["c", "d/ (dir)"], await NamesAsync(database, new ListingQuery(Limit: 2, Delimiter: '/', Marker: "b/")));
    }

    [Fact]
    public async Task A_non_ascii_delimiter_rolls_up_too()
    {
        var database = await WithObjectsAsync("xéy", "xéz", "x\u00EA", "\uFFFFa\uFFFFb", "\uFFFFa\U00010000");

        Assert.Equal(["xé (dir)", "x\u00EA", "\uFFFFa\uFFFFb", "\uFFFFa\U00010000"], await NamesAsync(database, new ListingQuery(Delimiter: 'é')));
        Assert.Equal(["\uFFFFa\uFFFF (dir)", "\uFFFFa\U00010000"], await NamesAsync(database, new ListingQuery(Prefix: "\uFFFFa", Delimiter: '\uFFFF')));
    }

    [Fact]
    public async Task Paging_with_markers_across_subdirs_lists_every_entry_once()
    {
        var names = new List<string>();
        foreach (var top in new[] { "a", "b", "é", "\U0001F600" })
        {
            names.Add(top);
            names.Add(top + "0");
            for (var i = 0; i < 4; i++)
            {
                names.Add($"{top}/{i}");
                names.Add($"{top}/{i}/leaf");
            }
        }

        var database = await WithObjectsAsync([.. names]);
        foreach (var reverse in new[] { false, true })
        {
            foreach (var (prefix, delimiter) in new (string?, char?)[] { (null, '/'), ("a/", '/'), (null, null), ("é", '/') })
            {
                var whole = await NamesAsync(database, new ListingQuery(Prefix: prefix, Delimiter: delimiter, Reverse: reverse));
                for (var limit = 1; limit <= 3; limit++)
                {
                    var paged = new List<string>();
                    string? marker = null;
                    while (true)
                    {
                        var page = await database.ListAsync(new ListingQuery(limit, marker, Prefix: prefix, Delimiter: delimiter, Reverse: reverse), None);
                        paged.AddRange(page.Select(entry => entry is SubdirEntry ? $"{entry.Name} (dir)" : entry.Name));
                        if (page.Count < limit)
                        {
                            break;
                        }

                        marker = page[^1].Name;
                    }

                    Assert.Equal(whole, paged);
                }
            }
        }
    }

    [Fact]
    public async Task Reverse_listing_swaps_marker_roles()
    {
        var database = await WithObjectsAsync("a", "b", "c", "d", "e");

        Assert.Equal(["e", "d", "c", "b", "a"], await NamesAsync(database, new ListingQuery(Reverse: true)));
        Assert.Equal(["c", "b", "a"], await NamesAsync(database, new ListingQuery(Reverse: true, Marker: "d")));
        Assert.Equal(["e", "d"], await NamesAsync(database, new ListingQuery(Reverse: true, EndMarker: "c")));
        Assert.Equal(["c"], await NamesAsync(database, new ListingQuery(Reverse: true, Marker: "d", EndMarker: "b")));
    }

    [Fact]
    public async Task Reverse_listing_rolls_up_subdirs_and_respects_prefix()
    {
        var database = await WithObjectsAsync("a/1", "a/2", "a0", "b/1", "b/2", "c");

        Assert.Equal(["c", "b/ (dir)", "a0", "a/ (dir)"], await NamesAsync(database, new ListingQuery(Delimiter: '/', Reverse: true)));
        Assert.Equal(["a0", "a/ (dir)"], await NamesAsync(database, new ListingQuery(Delimiter: '/', Reverse: true, Marker: "b/")));
        Assert.Equal(["a/2", "a/1"], await NamesAsync(database, new ListingQuery(Prefix: "a/", Reverse: true)));
    }

    [Fact]
    public async Task A_marker_naming_a_subdir_does_not_list_it_again()
    {
        var database = await WithObjectsAsync("a/1", "a/2", "b");

        Assert.Equal(["b"], await NamesAsync(database, new ListingQuery(Delimiter: '/', Marker: "a/")));
        // As in Swift, a marker inside a pseudo-directory lists the pseudo-directory once more.
        Assert.Equal(["a/ (dir)", "b"], await NamesAsync(database, new ListingQuery(Delimiter: '/', Marker: "a/1")));
    }

    [Fact]
    public async Task Path_lists_only_what_is_directly_under_a_pseudo_directory()
    {
        var database = await WithObjectsAsync("a/", "a/b", "a/c/", "a/c/d", "a/c0", "a/e/f/g", "a0", "b");

        // "a/c0" sorts right after everything under "a/c/", and the marker object "a/c/" right before:
        // a walk that skips past the pseudo-directory must skip neither.
        Assert.Equal(["a/b", "a/c/", "a/c0"], await NamesAsync(database, new ListingQuery(Path: "a")));
        Assert.Equal(["a/b", "a/c/", "a/c0"], await NamesAsync(database, new ListingQuery(Path: "a/", Prefix: "ignored", Delimiter: '-')));
        Assert.Equal(["a/c0", "a/c/", "a/b"], await NamesAsync(database, new ListingQuery(Path: "a", Reverse: true)));
        Assert.Equal(["a/", "a0", "b"], await NamesAsync(database, new ListingQuery(Path: string.Empty)));
        Assert.Equal(["a/b"], await NamesAsync(database, new ListingQuery(Path: "a", Limit: 1)));
    }

    [Fact]
    public async Task Invalid_markers_are_refused()
    {
        var database = await WithObjectsAsync("a");

        await Assert.ThrowsAsync<ArgumentException>(() => database.ListAsync(new ListingQuery(Marker: "\uDC00"), None));
        await Assert.ThrowsAsync<ArgumentException>(() => database.ListAsync(new ListingQuery(Delimiter: '\uD800'), None));
    }

    [Fact]
    public async Task A_delimiter_listing_reads_about_a_page_of_rows_not_the_whole_container()
    {
        var database = await ContainerDatabase.CreateAsync(_temp.Combine("big.db"), "AUTH_test", "big", At(0), None);
        for (var directory = 0; directory < 100; directory++)
        {
            await database.MergeObjectsAsync(Enumerable.Range(0, 1000).Select(i => Put($"d{directory:D3}/{i:D4}", 1)).ToList(), None);
        }

        Assert.Equal(100_000, (await database.GetInfoAsync(None)).ObjectCount);
        var listing = await database.ListWithRowsReadAsync(new ListingQuery(Delimiter: '/'), None);
        Assert.Equal(100, listing.Entries.Count);
        Assert.All(listing.Entries, entry => Assert.IsType<SubdirEntry>(entry));
        Assert.True(listing.RowsRead <= 101, $"read {listing.RowsRead} rows for 100 subdirs");

        var page = await database.ListWithRowsReadAsync(new ListingQuery(Limit: 10, Prefix: "d050/", Marker: "d050/0500"), None);
        Assert.Equal("d050/0501", page.Entries[0].Name);
        Assert.Equal(10, page.RowsRead);
    }
}

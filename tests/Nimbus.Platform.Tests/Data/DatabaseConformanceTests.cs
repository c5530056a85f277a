using Nimbus.Platform.Data;
using Nimbus.TestSupport;

namespace Nimbus.Platform.Tests.Data;

/// <summary>
/// What every engine behind <see cref="Database"/> must do, so that a service's SQL and its
/// expectations hold the same on SQLite and on PostgreSQL. Each engine's class runs all of it.
/// </summary>
public abstract class DatabaseConformanceTests : IAsyncLifetime
{
    protected const string ServiceName = "conformance";

    protected static readonly Migration Items = new(
        1,
        "items",
        "CREATE TABLE items (id TEXT PRIMARY KEY, name TEXT NOT NULL, size BIGINT NOT NULL, enabled BOOLEAN NOT NULL, ratio DOUBLE PRECISION NOT NULL, note TEXT);" +
        "CREATE UNIQUE INDEX items_name ON items (name)");

    protected static readonly Migration Counters = new(2, "counters", "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)");

    protected static readonly Migration ItemsByRatio = new(3, "items by ratio", "CREATE INDEX items_ratio ON items (ratio)");

    private TestDatabase? _store;

    protected abstract DataProvider Provider { get; }

    protected TestDatabase Store => _store ?? throw new InvalidOperationException("The test store is not created yet.");

    protected Database Db => Store.Factory.Open(ServiceName);

    protected static CancellationToken None => CancellationToken.None;

    public async Task InitializeAsync() => _store = await TestDatabase.CreateAsync(Provider);

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

    // ---- migrations -------------------------------------------------------------------------

    [Fact]
    public async Task Migrations_apply_in_order_and_are_recorded()
    {
        await Db.MigrateAsync([Items, Counters, ItemsByRatio], None);

        Assert.Equal([1, 2, 3], await Db.AppliedMigrationsAsync(None));
        await InsertItemAsync("a", "alpha");
        Assert.Equal(1, await CountAsync("items"));
        Assert.Equal(0, await CountAsync("counters"));
    }

    [Fact]
    public async Task A_fresh_database_has_no_applied_migrations()
    {
        Assert.Empty(await Db.AppliedMigrationsAsync(None));
    }

    [Fact]
    public async Task Migrating_again_is_a_no_op_and_later_migrations_apply_alone()
    {
        await Db.MigrateAsync([Items], None);
        await InsertItemAsync("a", "alpha");

        await Db.MigrateAsync([Items], None);
        await Db.MigrateAsync([Items, Counters], None);

        Assert.Equal([1, 2], await Db.AppliedMigrationsAsync(None));
        Assert.Equal(1, await CountAsync("items"));
    }

    [Fact]
    public async Task An_edited_migration_is_refused_and_nothing_changes()
    {
        await Db.MigrateAsync([Items], None);
        await InsertItemAsync("a", "alpha");
        var edited = Items with { Sql = Items.Sql + ";CREATE INDEX items_size ON items (size)" };

        var error = await Assert.ThrowsAsync<DataUnavailableException>(() => Db.MigrateAsync([edited, Counters], None));

        Assert.Equal("data.migration_changed", error.Code);
        Assert.Contains("'items'", error.Message, StringComparison.Ordinal);
        Assert.Equal([1], await Db.AppliedMigrationsAsync(None));
        Assert.Equal(1, await CountAsync("items"));
        await AssertNoTableAsync("counters");
    }

    [Fact]
    public async Task A_database_newer_than_this_release_is_refused_and_nothing_changes()
    {
        await Db.MigrateAsync([Items, Counters], None);
        await InsertItemAsync("a", "alpha");

        var error = await Assert.ThrowsAsync<DataUnavailableException>(() => Db.MigrateAsync([Items], None));
        var empty = await Assert.ThrowsAsync<DataUnavailableException>(() => Db.MigrateAsync([], None));

        Assert.Equal("data.schema_too_new", error.Code);
        Assert.Equal("data.schema_too_new", empty.Code);
        Assert.Contains("version 2", error.Message, StringComparison.Ordinal);
        Assert.Equal([1, 2], await Db.AppliedMigrationsAsync(None));
        Assert.Equal(1, await CountAsync("items"));
    }

    [Fact]
    public async Task Migration_versions_that_do_not_run_one_two_three_are_rejected_before_anything_runs()
    {
        var gap = await Assert.ThrowsAsync<ArgumentException>(() => Db.MigrateAsync([Items, ItemsByRatio], None));
        var late = await Assert.ThrowsAsync<ArgumentException>(() => Db.MigrateAsync([Counters], None));
        var twice = await Assert.ThrowsAsync<ArgumentException>(() => Db.MigrateAsync([Items, Items], None));

        Assert.Contains("'items by ratio'", gap.Message, StringComparison.Ordinal);
        Assert.Contains("'counters'", late.Message, StringComparison.Ordinal);
        Assert.Contains("'items'", twice.Message, StringComparison.Ordinal);
        Assert.Empty(await Db.AppliedMigrationsAsync(None));
    }

    [Fact]
    public async Task A_migration_that_fails_keeps_the_earlier_ones_and_none_of_its_own_changes()
    {
        var broken = new Migration(2, "broken", "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);CREATE TABLE oops (");

        await Assert.ThrowsAnyAsync<Exception>(() => Db.MigrateAsync([Items, broken], None));

        Assert.Equal([1], await Db.AppliedMigrationsAsync(None));
        await AssertNoTableAsync("counters");
    }

    // ---- transactions -----------------------------------------------------------------------

    [Fact]
    public async Task A_write_that_throws_rolls_back_every_row_it_wrote()
    {
        await Db.MigrateAsync([Items, Counters], None);
        await InsertItemAsync("kept", "kept");

        await Assert.ThrowsAsync<InvalidOperationException>(() => Db.WriteAsync(
            async session =>
            {
                await session.ExecuteAsync(InsertItem, Item("a", "alpha"));
                await session.ExecuteAsync(InsertItem, Item("b", "beta"));
                await session.ExecuteAsync("INSERT INTO counters (name, value) VALUES ('c', 1)");
                await session.ExecuteAsync("DELETE FROM items WHERE id = 'kept'");
                throw new InvalidOperationException("the service changed its mind");
            },
            None));

        Assert.Equal(["kept"], await IdsAsync());
        Assert.Equal(0, await CountAsync("counters"));
    }

    [Fact]
    public async Task A_unique_index_violation_is_a_duplicate_key_and_keeps_none_of_the_write()
    {
        await Db.MigrateAsync([Items], None);
        await InsertItemAsync("a", "alpha");

        var error = await Assert.ThrowsAsync<DuplicateKeyException>(() => Db.WriteAsync(
            async session =>
            {
                await session.ExecuteAsync(InsertItem, Item("b", "beta"));
                await session.ExecuteAsync(InsertItem, Item("c", "alpha"));
            },
            None));

        Assert.Equal("data.duplicate", error.Code);
        Assert.Contains("name", error.Constraint, StringComparison.Ordinal);
        Assert.Equal(["a"], await IdsAsync());
    }

    [Fact]
    public async Task A_primary_key_violation_is_a_duplicate_key_and_keeps_none_of_the_write()
    {
        await Db.MigrateAsync([Items], None);
        await InsertItemAsync("a", "alpha");

        await Assert.ThrowsAsync<DuplicateKeyException>(() => Db.WriteAsync(
            async session =>
            {
                await session.ExecuteAsync(InsertItem, Item("b", "beta"));
                await session.ExecuteAsync(InsertItem, Item("a", "gamma"));
            },
            None));

        Assert.Equal(["a"], await IdsAsync());
    }

    [Fact]
    public async Task Changing_rows_outside_a_write_throws()
    {
        await Db.MigrateAsync([Items], None);

        await Assert.ThrowsAsync<InvalidOperationException>(() => Db.ReadAsync(session => session.ExecuteAsync(InsertItem, Item("a", "alpha")), None));

        Assert.Equal(0, await CountAsync("items"));
    }

    [Fact]
    public async Task A_read_cannot_change_rows_even_through_a_query()
    {
        await Db.MigrateAsync([Items, Counters], None);
        await Db.WriteAsync(session => session.ExecuteAsync("INSERT INTO counters (name, value) VALUES ('hits', 1)"), None);

        var insert = await Assert.ThrowsAsync<InvalidOperationException>(() => Db.ReadAsync(session => session.QueryAsync<string>(InsertItem + " RETURNING id", Item("a", "alpha")), None));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Db.ReadAsync(session => session.ScalarAsync<long>("UPDATE counters SET value = value + 1 RETURNING value"), None));
        await Db.WriteAsync(session => session.ExecuteAsync("UPDATE counters SET value = value + 1"), None);

        Assert.Contains("WriteAsync", insert.Message, StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync("items"));
        Assert.Equal(2, await Db.ReadAsync(session => session.ScalarAsync<long>("SELECT value FROM counters"), None));
    }

    [Fact]
    public async Task A_write_inside_a_write_of_the_same_database_is_refused_and_the_outer_write_keeps_nothing()
    {
        await Db.MigrateAsync([Items], None);
        var other = Store.Factory.Open("conformance_other");
        await other.MigrateAsync([Items], None);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Db.WriteAsync(
            async session =>
            {
                await session.ExecuteAsync(InsertItem, Item("a", "alpha"));
                await other.WriteAsync(inner => inner.ExecuteAsync(InsertItem, Item("x", "other service")), None);
                await Db.WriteAsync(inner => inner.ExecuteAsync(InsertItem, Item("b", "beta")), None);
            },
            None));
        await InsertItemAsync("c", "gamma");

        Assert.Contains("inside another WriteAsync", error.Message, StringComparison.Ordinal);
        Assert.Equal(["c"], await IdsAsync());
        Assert.Equal(["x"], await other.ReadAsync(session => session.QueryAsync<string>("SELECT id FROM items"), None));
    }

    [Fact]
    public async Task Applied_migrations_are_stamped_by_the_injected_clock()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        await using var factory = new DatabaseFactory(Store.Options, Store.Home ?? Path.GetTempPath(), clock);
        var database = factory.Open(ServiceName);

        await database.MigrateAsync([Items], None);
        clock.Advance(TimeSpan.FromMinutes(1));
        await database.MigrateAsync([Items, Counters], None);

        Assert.Equal(
            [clock.Start.ToUnixTimeMilliseconds(), clock.Start.AddMinutes(1).ToUnixTimeMilliseconds()],
            await database.ReadAsync(session => session.QueryAsync<long>("SELECT applied_at FROM schema_migrations ORDER BY version"), None));
    }

    [Fact]
    public async Task Cancellation_before_commit_leaves_nothing()
    {
        await Db.MigrateAsync([Items], None);
        using var cancel = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Db.WriteAsync(
            async session =>
            {
                await session.ExecuteAsync(InsertItem, Item("a", "alpha"));
                await cancel.CancelAsync();
            },
            cancel.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Db.WriteAsync(
            async session =>
            {
                await session.ExecuteAsync(InsertItem, Item("b", "beta"));
                await cancel.CancelAsync();
                await session.ExecuteAsync(InsertItem, Item("c", "gamma"));
            },
            cancel.Token));

        Assert.Equal(0, await CountAsync("items"));
    }

    [Fact]
    public async Task A_write_cancelled_before_it_starts_runs_nothing()
    {
        await Db.MigrateAsync([Items], None);
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        var ran = false;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Db.WriteAsync(
            async session =>
            {
                ran = true;
                await session.ExecuteAsync(InsertItem, Item("a", "alpha"));
            },
            cancel.Token));

        Assert.False(ran);
        Assert.Equal(0, await CountAsync("items"));
    }

    [Fact]
    public async Task Twenty_concurrent_writers_each_incrementing_a_counter_all_land()
    {
        await Db.MigrateAsync([Items, Counters], None);
        await Db.WriteAsync(session => session.ExecuteAsync("INSERT INTO counters (name, value) VALUES ('hits', 0)"), None);

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => Db.WriteAsync(
            async session =>
            {
                await session.ExecuteAsync("UPDATE counters SET value = value + 1 WHERE name = 'hits'");
                await session.ExecuteAsync(InsertItem, Item($"id{i}", $"name{i}"));
            },
            None))));

        Assert.Equal(20, await Db.ReadAsync(session => session.ScalarAsync<long>("SELECT value FROM counters WHERE name = 'hits'"), None));
        Assert.Equal(20, await CountAsync("items"));
    }

    [Fact]
    public async Task Reads_run_and_see_the_last_commit_while_a_write_is_open()
    {
        await Db.MigrateAsync([Items], None);
        await InsertItemAsync("a", "alpha");
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var write = Db.WriteAsync(
            async session =>
            {
                await session.ExecuteAsync(InsertItem, Item("b", "beta"));
                written.SetResult();
                await release.Task;
            },
            None);
        await written.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var during = await Db.ReadAsync(session => session.QueryAsync<string>("SELECT id FROM items ORDER BY id"), None).WaitAsync(TimeSpan.FromSeconds(30));
        release.SetResult();
        await write;

        Assert.Equal(["a"], during);
        Assert.Equal(["a", "b"], await IdsAsync());
    }

    [Fact]
    public async Task Two_services_opened_from_one_factory_keep_separate_tables()
    {
        var other = Store.Factory.Open("conformance_other");
        await Db.MigrateAsync([Items], None);
        await other.MigrateAsync([Items, Counters], None);

        await InsertItemAsync("a", "alpha");
        await other.WriteAsync(session => session.ExecuteAsync(InsertItem, Item("a", "alpha")), None);
        await other.WriteAsync(session => session.ExecuteAsync(InsertItem, Item("b", "beta")), None);

        Assert.Same(Db, Store.Factory.Open(ServiceName));
        Assert.NotEqual(Db.Location, other.Location);
        Assert.Equal([1], await Db.AppliedMigrationsAsync(None));
        Assert.Equal([1, 2], await other.AppliedMigrationsAsync(None));
        Assert.Equal(["a"], await IdsAsync());
        Assert.Equal(["a", "b"], await other.ReadAsync(session => session.QueryAsync<string>("SELECT id FROM items ORDER BY id"), None));
    }

    [Fact]
    public void A_service_name_that_is_not_an_identifier_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => Store.Factory.Open("Bad-Name"));
        Assert.Throws<ArgumentException>(() => Store.Factory.Open("x; DROP TABLE items"));
    }

    // ---- values and SQL ---------------------------------------------------------------------

    [Fact]
    public async Task Values_round_trip_into_records_by_constructor()
    {
        await Db.MigrateAsync([Items], None);
        await Db.WriteAsync(
            async session =>
            {
                await session.ExecuteAsync(InsertItem, new ItemRow { Id = "a", Name = "alpha", Size = 5_000_000_000, Enabled = true, Ratio = 0.25, Note = "ünïcode ✓" });
                await session.ExecuteAsync(InsertItem, new ItemRow { Id = "b", Name = "beta", Size = -1, Enabled = false, Ratio = 2, Note = null });
            },
            None);

        var items = await Db.ReadAsync(session => session.QueryAsync<FullItem>(SelectItems), None);

        Assert.Equal(
            [new FullItem("a", "alpha", 5_000_000_000, true, 0.25, "ünïcode ✓"), new FullItem("b", "beta", -1, false, 2, null)],
            items);
    }

    [Fact]
    public async Task Null_in_the_first_row_maps_into_records_and_later_rows_keep_their_values()
    {
        await Db.MigrateAsync([Items], None);
        await Db.WriteAsync(
            async session =>
            {
                await session.ExecuteAsync(InsertItem, new ItemRow { Id = "a", Name = "alpha", Size = 1, Enabled = true, Ratio = 1.5, Note = null });
                await session.ExecuteAsync(InsertItem, new ItemRow { Id = "b", Name = "beta", Size = 2, Enabled = false, Ratio = 3, Note = "set" });
            },
            None);

        var notes = await Db.ReadAsync(session => session.QueryAsync<IdNote>("SELECT id, note FROM items ORDER BY id"), None);

        Assert.Equal([new IdNote("a", null), new IdNote("b", "set")], notes);
    }

    [Fact]
    public async Task Integers_and_booleans_map_into_int_and_bool_constructor_parameters()
    {
        await Db.MigrateAsync([Items], None);
        await InsertItemAsync("a", "alpha", size: 42, enabled: true);
        await InsertItemAsync("b", "beta", size: 7, enabled: false);

        var narrow = await Db.ReadAsync(session => session.QueryAsync<Narrow>("SELECT id, size, enabled, COUNT(*) OVER () AS total FROM items ORDER BY id"), None);

        Assert.Equal([new Narrow("a", 42, true, 2), new Narrow("b", 7, false, 2)], narrow);
    }

    [Fact]
    public async Task Snake_case_columns_map_into_pascal_case_members()
    {
        await Db.MigrateAsync([Items], None);
        await InsertItemAsync("a", "alpha", size: 3, enabled: true);

        var byConstructor = await Db.ReadAsync(session => session.QueryAsync<Renamed>("SELECT id AS item_id, size AS size_bytes FROM items"), None);
        var byProperty = await Db.ReadAsync(session => session.QuerySingleOrDefaultAsync<RenamedRow>("SELECT id AS item_id, size AS size_bytes FROM items"), None);

        Assert.Equal([new Renamed("a", 3)], byConstructor);
        Assert.NotNull(byProperty);
        Assert.Equal(("a", 3), (byProperty.ItemId, byProperty.SizeBytes));
    }

    [Fact]
    public async Task Values_round_trip_into_settable_properties()
    {
        await Db.MigrateAsync([Items], None);
        await InsertItemAsync("a", "alpha", size: 42, enabled: true, ratio: 0.5, note: "n");
        await InsertItemAsync("b", "beta", size: 7, enabled: false, ratio: -3.75, note: null);

        var rows = await Db.ReadAsync(session => session.QueryAsync<ItemRow>(SelectItems), None);

        Assert.Equal(2, rows.Count);
        Assert.Equal(("a", "alpha", 42L, true, 0.5, "n"), (rows[0].Id, rows[0].Name, rows[0].Size, rows[0].Enabled, rows[0].Ratio, rows[0].Note));
        Assert.Equal(("b", "beta", 7L, false, -3.75, (string?)null), (rows[1].Id, rows[1].Name, rows[1].Size, rows[1].Enabled, rows[1].Ratio, rows[1].Note));
    }

    [Fact]
    public async Task Values_round_trip_into_scalars()
    {
        await Db.MigrateAsync([Items], None);
        await InsertItemAsync("a", "alpha", size: 5_000_000_000, enabled: true, ratio: 0.125, note: null);

        await Db.ReadAsync(
            async session =>
            {
                Assert.Equal(5_000_000_000, await session.ScalarAsync<long>("SELECT size FROM items"));
                Assert.Equal(1, await session.ScalarAsync<int>("SELECT COUNT(*) FROM items"));
                Assert.True(await session.ScalarAsync<bool>("SELECT enabled FROM items"));
                Assert.False(await session.ScalarAsync<bool>("SELECT enabled FROM items WHERE NOT enabled"));
                Assert.Equal(0.125, await session.ScalarAsync<double>("SELECT ratio FROM items"));
                Assert.Equal("alpha", await session.ScalarAsync<string>("SELECT name FROM items"));
                Assert.Null(await session.ScalarAsync<string>("SELECT note FROM items"));
                Assert.Null(await session.ScalarAsync<long?>("SELECT size FROM items WHERE id = 'missing'"));
                Assert.Equal([true], await session.QueryAsync<bool>("SELECT enabled FROM items"));
                Assert.Equal(5_000_000_000, await session.QuerySingleOrDefaultAsync<long>("SELECT size FROM items WHERE id = @Id", new { Id = "a" }));
                Assert.Equal(0, await session.QuerySingleOrDefaultAsync<int>("SELECT COUNT(*) FROM items WHERE enabled = @Enabled", new { Enabled = false }));
                return true;
            },
            None);
    }

    [Fact]
    public async Task Booleans_bind_as_parameters_and_compare_with_true_and_false()
    {
        await Db.MigrateAsync([Items], None);
        await InsertItemAsync("a", "alpha", enabled: true);
        await InsertItemAsync("b", "beta", enabled: false);

        var enabled = await Db.ReadAsync(session => session.QueryAsync<string>("SELECT id FROM items WHERE enabled = @Enabled", new { Enabled = true }), None);
        var literal = await Db.ReadAsync(session => session.QueryAsync<string>("SELECT id FROM items WHERE enabled = FALSE"), None);

        Assert.Equal(["a"], enabled);
        Assert.Equal(["b"], literal);
    }

    [Fact]
    public async Task In_list_parameters_expand()
    {
        await Db.MigrateAsync([Items], None);
        foreach (var id in new[] { "a", "b", "c", "d" })
        {
            await InsertItemAsync(id, "name-" + id, size: id[0]);
        }

        string[] wanted = ["d", "b", "x"], excluded = ["a", "b"], doomed = ["a", "c"];
        var some = await Db.ReadAsync(session => session.QueryAsync<string>("SELECT id FROM items WHERE id IN @Ids ORDER BY id", new { Ids = wanted }), None);
        var none = await Db.ReadAsync(session => session.QueryAsync<string>("SELECT id FROM items WHERE id IN @Ids", new { Ids = Array.Empty<string>() }), None);
        var bySize = await Db.ReadAsync(session => session.QueryAsync<string>("SELECT id FROM items WHERE size IN @Sizes ORDER BY id", new { Sizes = new List<long> { 'a', 'c' } }), None);
        var notIn = await Db.ReadAsync(session => session.QueryAsync<string>("SELECT id FROM items WHERE id NOT IN @Ids ORDER BY id", new { Ids = excluded }), None);
        var deleted = await Db.WriteAsync(session => session.ExecuteAsync("DELETE FROM items WHERE id in @Ids", new { Ids = doomed }), None);

        Assert.Equal(["b", "d"], some);
        Assert.Empty(none);
        Assert.Equal(["a", "c"], bySize);
        Assert.Equal(["c", "d"], notIn);
        Assert.Equal(2, deleted);
        Assert.Equal(["b", "d"], await IdsAsync());
    }

    [Fact]
    public async Task Binary_collation_orders_text_by_byte_on_every_engine()
    {
        await Db.MigrateAsync([Items], None);
        foreach (var id in new[] { "b", "B", "a", "_", "é", "A" })
        {
            await InsertItemAsync(id, "name-" + id, size: 1);
        }

        var ordered = await Db.ReadAsync(session => session.QueryAsync<string>("SELECT id FROM items ORDER BY id COLLATE BINARY"), None);
        var after = await Db.ReadAsync(session => session.QueryAsync<string>("SELECT id FROM items WHERE id COLLATE BINARY > @Id ORDER BY id COLLATE BINARY", new { Id = "Z" }), None);

        Assert.Equal(["A", "B", "_", "a", "b", "é"], ordered);
        Assert.Equal(["_", "a", "b", "é"], after);
    }

    [Fact]
    public async Task Limit_and_offset_page_through_rows()
    {
        await Db.MigrateAsync([Items], None);
        for (var i = 0; i < 7; i++)
        {
            await InsertItemAsync($"id{i}", $"name{i}");
        }

        var pages = new List<IReadOnlyList<string>>();
        for (var offset = 0; offset < 9; offset += 3)
        {
            pages.Add(await Db.ReadAsync(session => session.QueryAsync<string>("SELECT id FROM items ORDER BY id LIMIT @Limit OFFSET @Offset", new { Limit = 3, Offset = offset }), None));
        }

        Assert.Equal(["id0", "id1", "id2"], pages[0]);
        Assert.Equal(["id3", "id4", "id5"], pages[1]);
        Assert.Equal(["id6"], pages[2]);
    }

    [Fact]
    public async Task Insert_on_conflict_do_nothing_keeps_the_first_row()
    {
        await Db.MigrateAsync([Items], None);
        await InsertItemAsync("a", "alpha", size: 1);

        var changed = await Db.WriteAsync(
            session => session.ExecuteAsync(InsertItem + " ON CONFLICT DO NOTHING", Item("a", "other", size: 2)),
            None);
        var changedByKey = await Db.WriteAsync(
            session => session.ExecuteAsync(InsertItem + " ON CONFLICT (id) DO NOTHING", Item("b", "beta", size: 3)),
            None);

        Assert.Equal(0, changed);
        Assert.Equal(1, changedByKey);
        Assert.Equal([new Narrow("a", 1, true, 2), new Narrow("b", 3, true, 2)], await Db.ReadAsync(session => session.QueryAsync<Narrow>("SELECT id, size, enabled, COUNT(*) OVER () AS total FROM items ORDER BY id"), None));
    }

    [Fact]
    public async Task Insert_on_conflict_do_update_changes_the_existing_row()
    {
        await Db.MigrateAsync([Items], None);
        await InsertItemAsync("a", "alpha", size: 1);

        const string Upsert = InsertItem + " ON CONFLICT (id) DO UPDATE SET size = excluded.size, note = excluded.note";
        await Db.WriteAsync(session => session.ExecuteAsync(Upsert, Item("a", "alpha", size: 5, note: "updated")), None);
        await Db.WriteAsync(session => session.ExecuteAsync(Upsert, Item("b", "beta", size: 6)), None);

        Assert.Equal(
            [new IdNote("a", "updated"), new IdNote("b", null)],
            await Db.ReadAsync(session => session.QueryAsync<IdNote>("SELECT id, note FROM items ORDER BY id"), None));
        Assert.Equal(11, await Db.ReadAsync(session => session.ScalarAsync<long>("SELECT SUM(size) FROM items"), None));
    }

    [Fact]
    public async Task Returning_gives_back_what_was_written()
    {
        await Db.MigrateAsync([Items, Counters], None);
        await Db.WriteAsync(session => session.ExecuteAsync("INSERT INTO counters (name, value) VALUES ('hits', 41)"), None);

        var value = await Db.WriteAsync(session => session.ScalarAsync<long>("UPDATE counters SET value = value + 1 WHERE name = 'hits' RETURNING value"), None);
        var inserted = await Db.WriteAsync(session => session.QueryAsync<IdNote>("INSERT INTO items (id, name, size, enabled, ratio, note) VALUES ('a', 'alpha', 1, TRUE, 1, 'x') RETURNING id, note"), None);

        Assert.Equal(42, value);
        Assert.Equal([new IdNote("a", "x")], inserted);
    }

    // ---- helpers ----------------------------------------------------------------------------

    protected const string InsertItem = "INSERT INTO items (id, name, size, enabled, ratio, note) VALUES (@Id, @Name, @Size, @Enabled, @Ratio, @Note)";

    private const string SelectItems = "SELECT id, name, size, enabled, ratio, note FROM items ORDER BY id";

    protected static ItemRow Item(string id, string name, long size = 1, bool enabled = true, double ratio = 1, string? note = null) =>
        new() { Id = id, Name = name, Size = size, Enabled = enabled, Ratio = ratio, Note = note };

    protected Task InsertItemAsync(string id, string name, long size = 1, bool enabled = true, double ratio = 1, string? note = null) =>
        Db.WriteAsync(session => session.ExecuteAsync(InsertItem, Item(id, name, size, enabled, ratio, note)), None);

    protected Task<long> CountAsync(string table) =>
        Db.ReadAsync(session => session.ScalarAsync<long>($"SELECT COUNT(*) FROM {table}"), None);

    protected Task<IReadOnlyList<string>> IdsAsync() =>
        Db.ReadAsync(session => session.QueryAsync<string>("SELECT id FROM items ORDER BY id"), None);

    protected async Task AssertNoTableAsync(string table)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => CountAsync(table));
        Assert.Contains(table, error.Message, StringComparison.Ordinal);
    }

    public sealed record FullItem(string Id, string Name, long Size, bool Enabled, double Ratio, string? Note);

    public sealed record Narrow(string Id, int Size, bool Enabled, int Total);

    public sealed record IdNote(string Id, string? Note);

    public sealed record Renamed(string ItemId, int SizeBytes);

    public sealed class ItemRow
    {
        public string Id { get; set; } = string.Empty;

        public string Name { get; set; } = string.Empty;

        public long Size { get; set; }

        public bool Enabled { get; set; }

        public double Ratio { get; set; }

        public string? Note { get; set; }
    }

    public sealed class RenamedRow
    {
        public string ItemId { get; set; } = string.Empty;

        public int SizeBytes { get; set; }
    }
}

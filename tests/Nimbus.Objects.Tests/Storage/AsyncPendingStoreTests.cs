using Nimbus.Objects.Common;
using Nimbus.Objects.Storage;
using Nimbus.TestSupport;

namespace Nimbus.Objects.Tests.Storage;

public sealed class AsyncPendingStoreTests : IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly AsyncPendingStore _store;

    public AsyncPendingStoreTests()
    {
        Directory.CreateDirectory(_root.Combine("d1"));
        _store = new AsyncPendingStore(_root.Path);
    }

    public void Dispose() => _root.Dispose();

    private static ContainerUpdateRecord Update(string name, long seconds, string operation = "PUT") =>
        new(operation, "AUTH_a", "c", name, SwiftTimestamp.FromSeconds(seconds), 5, "text/plain", "5d41402abc4b2a76b9719d911017c592", 42);

    private async Task<List<PendingUpdate>> PendingAsync()
    {
        var pending = new List<PendingUpdate>();
        await foreach (var update in _store.EnumerateAsync("d1", CancellationToken.None))
        {
            pending.Add(update);
        }

        return pending;
    }

    [Fact]
    public async Task Stored_update_is_enumerated_with_every_field()
    {
        var update = Update("o", 1_700_000_000);
        Assert.True(await _store.WriteAsync("d1", update, CancellationToken.None));

        var pending = Assert.Single(await PendingAsync());
        Assert.Equal(update, pending.Update);
        var hash = AsyncPendingStore.HashName(update);
        Assert.Equal($"{hash[^3..]}/{hash}-1700000000.00000", pending.Id);
        Assert.True(File.Exists(_root.Combine("d1", "async_pending", hash[^3..], $"{hash}-1700000000.00000")));
    }

    [Fact]
    public async Task Newer_update_supersedes_the_older_one_of_the_same_object()
    {
        Assert.True(await _store.WriteAsync("d1", Update("o", 100), CancellationToken.None));
        Assert.True(await _store.WriteAsync("d1", Update("o", 200, "DELETE"), CancellationToken.None));
        Assert.False(await _store.WriteAsync("d1", Update("o", 150), CancellationToken.None));
        Assert.True(await _store.WriteAsync("d1", Update("other", 100), CancellationToken.None));

        var pending = await PendingAsync();
        Assert.Equal(2, pending.Count);
        var newest = Assert.Single(pending, p => p.Update.Object == "o");
        Assert.Equal("DELETE", newest.Update.Operation);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(_root.Combine("d1", "async_pending", newest.Id))!), f => f.Contains(AsyncPendingStore.HashName(newest.Update), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Older_file_left_beside_a_newer_one_is_skipped_and_removed()
    {
        var old = Update("o", 100);
        await _store.WriteAsync("d1", old, CancellationToken.None);
        var hash = AsyncPendingStore.HashName(old);
        var directory = _root.Combine("d1", "async_pending", hash[^3..]);
        var newerPath = Path.Combine(directory, $"{hash}-0000000200.00000");
        File.Copy(Path.Combine(directory, $"{hash}-0000000100.00000"), newerPath);

        var pending = Assert.Single(await PendingAsync());
        Assert.Equal($"{hash[^3..]}/{hash}-0000000200.00000", pending.Id);
        Assert.Equal([newerPath], Directory.GetFiles(directory));
    }

    [Fact]
    public async Task Completed_update_is_gone()
    {
        await _store.WriteAsync("d1", Update("o", 100), CancellationToken.None);
        var pending = Assert.Single(await PendingAsync());
        await _store.CompleteAsync("d1", pending.Id, CancellationToken.None);
        Assert.Empty(await PendingAsync());
        await _store.CompleteAsync("d1", pending.Id, CancellationToken.None);
    }

    [Fact]
    public async Task Id_that_is_not_a_pending_update_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(async () => await _store.CompleteAsync("d1", "../../etc/passwd", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(async () => await _store.WriteAsync("d1", Update("o", 1, "POST"), CancellationToken.None));
    }

    [Fact]
    public async Task Nothing_pending_on_an_empty_device()
    {
        Assert.Empty(await PendingAsync());
    }
}

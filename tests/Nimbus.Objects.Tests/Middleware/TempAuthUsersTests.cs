using System.Net;
using System.Text.Json.Nodes;
using Nimbus.Objects.Middleware;
using Nimbus.Objects.Tests.Proxy;
using Nimbus.Platform.Errors;
using Nimbus.TestSupport;

namespace Nimbus.Objects.Tests.Middleware;

/// <summary>tempauth's users changed while the proxy runs: through the store, written 0600, used at once.</summary>
public sealed class TempAuthUsersTests
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public async Task New_file_holds_the_admin_and_is_owner_only()
    {
        using var directory = new TempDirectory();
        var path = directory.Combine("objects", "tempauth.json");

        using var store = await TempAuthStore.OpenAsync(path, CancellationToken.None);

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        var admin = Assert.Single(store.Current.Users);
        Assert.Equal(("admin", "admin"), (admin.Account, admin.User));
        Assert.Equal([".admin", ".reseller_admin"], admin.Groups);
    }

    [Fact]
    public async Task Added_user_logs_in_and_owns_its_account_without_a_restart()
    {
        await using var cluster = await TestCluster.StartAsync();

        var alice = await cluster.Cluster.Users.AddUserAsync("demo", "alice", null, [TempAuthStore.AdminGroup], CancellationToken.None);

        Assert.Equal(24, alice.Key.Length);
        var token = await cluster.TokenForAsync(alice);
        using var create = new HttpRequestMessage(HttpMethod.Put, "/v1/AUTH_demo/photos");
        create.Headers.Add("X-Auth-Token", token);
        using var created = await cluster.Anonymous.SendAsync(create);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(cluster.Cluster.Users.Path));
        Assert.Contains(TempAuthStore.AdminGroup, (await TempAuthStore.LoadOrCreateAsync(cluster.Cluster.Users.Path, CancellationToken.None)).Users.Single(u => u.User == "alice").Groups);
    }

    [Fact]
    public async Task Removed_user_is_refused_and_its_tokens_stop_working_at_once()
    {
        await using var cluster = await TestCluster.StartAsync();
        var bob = await cluster.Cluster.Users.AddUserAsync("demo", "bob", "bob-key", [TempAuthStore.AdminGroup], CancellationToken.None);
        var token = await cluster.TokenForAsync(bob);

        await cluster.Cluster.Users.RemoveUserAsync("demo", "bob", CancellationToken.None);

        using var head = new HttpRequestMessage(HttpMethod.Head, "/v1/AUTH_demo");
        head.Headers.Add("X-Auth-Token", token);
        using var refused = await cluster.Anonymous.SendAsync(head);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(cluster, "demo:bob", "bob-key"));
    }

    [Fact]
    public async Task New_key_works_and_the_old_one_no_longer_logs_in()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.Cluster.Users.AddUserAsync("demo", "carol", "old-key", [], CancellationToken.None);

        var changed = await cluster.Cluster.Users.SetKeyAsync("demo", "carol", "new-key", CancellationToken.None);

        Assert.Equal("new-key", changed.Key);
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(cluster, "demo:carol", "old-key"));
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(cluster, "demo:carol", "new-key"));
    }

    [Theory]
    [InlineData("", "alice")]
    [InlineData("demo", "")]
    [InlineData("de/mo", "alice")]
    [InlineData("demo", "al:ice")]
    [InlineData("..", "alice")]
    [InlineData("demo\n", "alice")]
    [InlineData("démo", "alice")]
    public async Task Bad_names_are_refused_and_nothing_is_written(string account, string user)
    {
        using var directory = new TempDirectory();
        var path = directory.Combine("tempauth.json");
        using var store = await TempAuthStore.OpenAsync(path, CancellationToken.None);
        var before = await File.ReadAllTextAsync(path);

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => store.AddUserAsync(account, user, null, [], CancellationToken.None));

        Assert.Equal("objects.bad_tempauth_user", error.Code);
        Assert.Equal(before, await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task Duplicate_unknown_and_the_admin_itself_are_refused_with_their_codes()
    {
        using var directory = new TempDirectory();
        using var store = await TempAuthStore.OpenAsync(directory.Combine("tempauth.json"), CancellationToken.None);
        await store.AddUserAsync("demo", "alice", null, [], CancellationToken.None);

        var duplicate = await Assert.ThrowsAsync<ConflictException>(() => store.AddUserAsync("demo", "alice", null, [], CancellationToken.None));
        var unknown = await Assert.ThrowsAsync<NotFoundException>(() => store.SetKeyAsync("demo", "nobody", null, CancellationToken.None));
        var admin = await Assert.ThrowsAsync<ConflictException>(() => store.RemoveUserAsync("admin", "admin", CancellationToken.None));
        var badKey = await Assert.ThrowsAsync<InvalidInputException>(() => store.SetKeyAsync("demo", "alice", "new\nline", CancellationToken.None));

        Assert.Equal("objects.tempauth_user_exists", duplicate.Code);
        Assert.Equal("objects.no_such_tempauth_user", unknown.Code);
        Assert.Equal("objects.tempauth_admin_required", admin.Code);
        Assert.Equal("objects.bad_tempauth_key", badKey.Code);
        Assert.Equal(2, store.Current.Users.Count);
    }

    [Fact]
    public async Task A_change_keeps_what_was_edited_in_the_file_by_hand()
    {
        using var directory = new TempDirectory();
        var path = directory.Combine("tempauth.json");
        using var store = await TempAuthStore.OpenAsync(path, CancellationToken.None);
        var file = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        file["users"]!.AsArray().Add(new JsonObject { ["account"] = "hand", ["user"] = "made", ["key"] = "k", ["groups"] = new JsonArray() });
        await File.WriteAllTextAsync(path, file.ToJsonString());

        await store.AddUserAsync("demo", "alice", null, [], CancellationToken.None);

        Assert.Equal(["admin:admin", "hand:made", "demo:alice"], store.Current.Users.Select(u => $"{u.Account}:{u.User}"));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
    }

    private static async Task<HttpStatusCode> LoginAsync(TestCluster cluster, string user, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/v1.0");
        request.Headers.Add("X-Auth-User", user);
        request.Headers.Add("X-Auth-Key", key);
        using var response = await cluster.Anonymous.SendAsync(request);
        return response.StatusCode;
    }
}

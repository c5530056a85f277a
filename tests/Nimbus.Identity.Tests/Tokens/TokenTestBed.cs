using Microsoft.Extensions.Time.Testing;
using Nimbus.Identity.Tokens;
using Nimbus.Platform.Data;
using Nimbus.TestSupport;

namespace Nimbus.Identity.Tests.Tokens;

/// <summary>A key ring in a temporary directory, a revocation list on a fresh database and a token service over both, on one fake clock.</summary>
internal sealed class TokenTestBed : IAsyncDisposable
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    // Sub-millisecond ticks, so round trips prove timestamps are kept exactly.
    public static readonly DateTimeOffset Start = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).AddTicks(1234567);

    public static readonly IReadOnlyList<Migration> Migrations = [new(1, "revocation_events", RevocationList.TableSql)];

    private TokenTestBed(TempDirectory directory, TestDatabase store, Database database, FakeTimeProvider time, TokenKeyRing keys, RevocationList revocations)
    {
        Directory = directory;
        Store = store;
        Database = database;
        Time = time;
        Keys = keys;
        Revocations = revocations;
        Tokens = new TokenService(keys, revocations, time);
    }

    public TempDirectory Directory { get; }

    public TestDatabase Store { get; }

    public Database Database { get; }

    public FakeTimeProvider Time { get; }

    public TokenKeyRing Keys { get; }

    public RevocationList Revocations { get; }

    public TokenService Tokens { get; }

    public string KeyDirectory => Directory.Combine("token-keys");

    public static async Task<TokenTestBed> CreateAsync(DataProvider provider = DataProvider.Sqlite)
    {
        var directory = new TempDirectory();
        var store = await TestDatabase.CreateAsync(provider);
        var database = store.Factory.Open("identity");
        await database.MigrateAsync(Migrations, CancellationToken.None);
        var time = new FakeTimeProvider(Start);
        var keys = await TokenKeyRing.LoadOrCreateAsync(System.IO.Path.Combine(directory.Path, "token-keys"), TokenKeyRing.MinActiveKeys, time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);
        return new TokenTestBed(directory, store, database, time, keys, new RevocationList(database, time, Lifetime));
    }

    /// <summary>Another node: its own key ring on the same directory and its own revocation list on the same database.</summary>
    public async Task<(TokenKeyRing Keys, RevocationList Revocations, TokenService Tokens)> SecondNodeAsync()
    {
        var keys = await TokenKeyRing.LoadOrCreateAsync(KeyDirectory, TokenKeyRing.MinActiveKeys, Time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);
        var revocations = new RevocationList(Database, Time, Lifetime);
        return (keys, revocations, new TokenService(keys, revocations, Time));
    }

    /// <summary>A project-scoped token issued now, with Keystone-shaped ids.</summary>
    public TokenPayload ProjectToken() => new()
    {
        UserId = "3ec3164f750146be97f21559ee4d9c51",
        UserName = "alice",
        UserDomainId = "default",
        UserDomainName = "Default",
        Methods = TokenMethods.Password,
        ProjectId = "8538a3f13f9541b28c2620eb19065e45",
        ProjectName = "demo",
        ProjectDomainId = "default",
        ProjectDomainName = "Default",
        Roles = [new TokenRole("9fe2ff9ee4384b1894a90878d3e92bab", "member"), new TokenRole("b2e7f6c0a4d14a3c8e3a1d2f4b5c6d7e", "reader")],
        IssuedAt = Time.GetUtcNow(),
        ExpiresAt = Time.GetUtcNow() + Lifetime,
        AuditId = "KD5DsT2sQ8y2qKpE0a1b2w",
    };

    public async ValueTask DisposeAsync()
    {
        Keys.Dispose();
        Revocations.Dispose();
        await Store.DisposeAsync();
        Directory.Dispose();
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Nimbus.Identity.Tokens;
using Nimbus.Platform.Data;
using Nimbus.TestSupport;

namespace Nimbus.Bench;

/// <summary>
/// Identity's tokens in process on one thread: issue/s, validate/s, and validate/s with a revocation
/// list of many events for other users, projects and tokens (the events every node holds), with the
/// slowdown they cause. Targets: validate ≥ 50,000/s on one core; ≤ 10 % slower with 10,000 events.
/// </summary>
internal static class IdentityBenchmark
{
    private const int Tokens = 1000;
    private const int Rounds = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = Options.Parse(args);
        using var home = new TempDirectory();
        await using var store = await TestDatabase.CreateAsync(DataProvider.Sqlite);
        var database = store.Factory.Open("identity");
        await database.MigrateAsync([new Migration(1, "revocation_events", RevocationList.TableSql)], CancellationToken.None);
        var time = TimeProvider.System;
        var lifetime = TimeSpan.FromHours(1);
        using var keys = await TokenKeyRing.LoadOrCreateAsync(home.Combine("token-keys"), TokenKeyRing.MinActiveKeys, time, NullLogger.Instance, CancellationToken.None);
        using var empty = new RevocationList(database, time, lifetime);
        using var crowded = new RevocationList(database, time, lifetime);
        var plain = new TokenService(keys, empty, time);
        var revoking = new TokenService(keys, crowded, time);

        // Tokens issued 50 minutes ago: older than most events, so every lookup is done in full.
        var now = time.GetUtcNow();
        var random = new Random(42);
        var payloads = Enumerable.Range(0, Tokens).Select(i => Payload(random, now - TimeSpan.FromMinutes(50), lifetime)).ToArray();
        var tokens = payloads.Select(plain.Issue).ToArray();

        Console.Error.WriteLine($"identity: writing {options.Events:N0} revocation events");
        var rows = Events(random, payloads, options.Events, now);
        await database.WriteAsync(
            async session =>
            {
                foreach (var row in rows)
                {
                    await session.ExecuteAsync(
                        "INSERT INTO revocation_events (id, user_id, project_id, domain_id, role_id, audit_id, app_cred_id, issued_before, revoked_at) VALUES (@Id, @UserId, @ProjectId, @DomainId, @RoleId, @AuditId, @ApplicationCredentialId, @IssuedBefore, @RevokedAt)",
                        new
                        {
                            row.Id,
                            row.UserId,
                            row.ProjectId,
                            row.DomainId,
                            row.RoleId,
                            row.AuditId,
                            row.ApplicationCredentialId,
                            IssuedBefore = row.IssuedBefore.ToUnixTimeMilliseconds(),
                            RevokedAt = row.RevokedAt.ToUnixTimeMilliseconds(),
                        });
                }
            },
            CancellationToken.None);
        var loading = Stopwatch.StartNew();
        var loaded = await crowded.SyncAsync(CancellationToken.None);
        var loadMs = loading.Elapsed.TotalMilliseconds;
        if (tokens.Any(t => revoking.Validate(t) is null) || tokens.Any(t => plain.Validate(t) is null))
        {
            Console.Error.WriteLine("identity: a token the events should not touch was refused");
            return 1;
        }

        Console.Error.WriteLine("identity: measuring");
        Measure(() => plain.Issue(payloads[0]), TimeSpan.FromSeconds(1));
        var issue = Best(() => Measure(Issuer(plain, payloads), options.Seconds));
        double validate = 0, validateRevoking = 0;
        // Alternate the two so that a neighbour's build slows both alike; keep each one's best round.
        for (var round = 0; round < Rounds; round++)
        {
            validate = Math.Max(validate, Measure(Validator(plain, tokens), options.Seconds));
            validateRevoking = Math.Max(validateRevoking, Measure(Validator(revoking, tokens), options.Seconds));
        }

        var checks = Best(() => Measure(Checker(crowded, payloads), options.Seconds));
        var emptyChecks = Best(() => Measure(Checker(empty, payloads), options.Seconds));
        var results = new JsonObject
        {
            ["benchmark"] = "identity",
            ["machine"] = new JsonObject { ["cores"] = Environment.ProcessorCount, ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription },
            ["in_process"] = new JsonObject
            {
                ["threads"] = 1,
                ["seconds_per_round"] = options.Seconds.TotalSeconds,
                ["rounds"] = Rounds,
                ["token_chars"] = tokens[0].Length,
                ["issue_per_s"] = Math.Round(issue),
                ["validate_per_s"] = Math.Round(validate),
                ["revocation_events"] = loaded,
                ["revocation_load_ms"] = Math.Round(loadMs, 1),
                ["validate_with_revocations_per_s"] = Math.Round(validateRevoking),
                ["slowdown_with_revocations"] = Math.Round(1 - (validateRevoking / validate), 4),
                ["revocation_check_ns"] = Math.Round(1e9 / checks, 1),
                ["revocation_check_ns_without_events"] = Math.Round(1e9 / emptyChecks, 1),
                ["targets"] = new JsonObject { ["validate_per_s"] = 50_000, ["slowdown_with_10000_events"] = 0.10 },
            },
        };
        if (!options.InProcessOnly)
        {
            results["http"] = await IdentityHttpBenchmark.RunAsync(options.Events, TimeSpan.FromSeconds(Math.Max(5, options.Seconds.TotalSeconds)));
        }

        Console.WriteLine(results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    private static Action Issuer(TokenService service, TokenPayload[] payloads)
    {
        var i = 0;
        return () => service.Issue(payloads[i++ % payloads.Length]);
    }

    private static Action Validator(TokenService service, string[] tokens)
    {
        var i = 0;
        return () =>
        {
            if (service.Validate(tokens[i++ % tokens.Length]) is null)
            {
                throw new InvalidOperationException("a valid token was refused");
            }
        };
    }

    private static Action Checker(RevocationList revocations, TokenPayload[] payloads)
    {
        var i = 0;
        return () => revocations.IsRevoked(payloads[i++ % payloads.Length]);
    }

    private static double Best(Func<double> measure) => Enumerable.Range(0, Rounds).Max(_ => measure());

    // Operations per second over one round, checking the clock every 256 operations.
    private static double Measure(Action operation, TimeSpan duration)
    {
        var watch = Stopwatch.StartNew();
        long count = 0;
        while (watch.Elapsed < duration)
        {
            for (var i = 0; i < 256; i++)
            {
                operation();
            }

            count += 256;
        }

        return count / watch.Elapsed.TotalSeconds;
    }

    private static string Id(Random random) => Convert.ToHexStringLower(RandomBytes(random, 16));

    private static string AuditId(Random random) => System.Buffers.Text.Base64Url.EncodeToString(RandomBytes(random, 16));

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static readonly TokenRole[] Roles =
    [
        new("9fe2ff9ee4384b1894a90878d3e92bab", "member"),
        new("b2e7f6c0a4d14a3c8e3a1d2f4b5c6d7e", "reader"),
        new("0c2d1f8e6a4b4f3e9d7c5b3a1f0e2d4c", "admin"),
    ];

    private static TokenPayload Payload(Random random, DateTimeOffset issuedAt, TimeSpan lifetime) => new()
    {
        UserId = Id(random),
        UserName = "user-" + random.Next(100_000).ToString(CultureInfo.InvariantCulture),
        UserDomainId = "default",
        UserDomainName = "Default",
        Methods = TokenMethods.Password,
        ProjectId = Id(random),
        ProjectName = "project-" + random.Next(100_000).ToString(CultureInfo.InvariantCulture),
        ProjectDomainId = "default",
        ProjectDomainName = "Default",
        Roles = random.Next(3) == 0 ? [Roles[2], Roles[0], Roles[1]] : [Roles[0], Roles[1]],
        IssuedAt = issuedAt,
        ExpiresAt = issuedAt + lifetime,
        AuditId = AuditId(random),
    };

    // A realistic mix, none of which revokes the measured tokens: mostly single tokens revoked by
    // audit id (log-outs), users (password changes), projects, role removals of a user on a project
    // (some on the measured users, for other projects), and a few roles, credentials and domains.
    private static List<RevocationEvent> Events(Random random, TokenPayload[] tokens, int count, DateTimeOffset now)
    {
        var events = new List<RevocationEvent>(count);
        for (var i = 0; i < count; i++)
        {
            var at = now - TimeSpan.FromMilliseconds(random.NextInt64((long)TimeSpan.FromMinutes(45).TotalMilliseconds));
            var e = new RevocationEvent { IssuedBefore = at, RevokedAt = at };
            var kind = random.Next(100);
            events.Add(kind switch
            {
                < 50 => e with { AuditId = AuditId(random) },
                < 70 => e with { UserId = Id(random) },
                < 78 => e with { ProjectId = Id(random) },
                < 88 => e with { UserId = Id(random), ProjectId = Id(random) },
                < 95 => e with { UserId = tokens[random.Next(tokens.Length)].UserId, ProjectId = Id(random) },
                < 97 => e with { RoleId = Id(random) },
                < 98 => e with { RoleId = Roles[0].Id, ProjectId = Id(random) },
                < 99 => e with { ApplicationCredentialId = Id(random), UserId = Id(random) },
                _ => e with { DomainId = Id(random) },
            });
        }

        return events;
    }

    private sealed record Options(int Events, TimeSpan Seconds, bool InProcessOnly)
    {
        public static Options Parse(string[] args)
        {
            string? Value(string name)
            {
                var index = Array.IndexOf(args, name);
                return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
            }

            return new Options(
                Value("--events") is { } events ? int.Parse(events, CultureInfo.InvariantCulture) : 10_000,
                TimeSpan.FromSeconds(Value("--seconds") is { } seconds ? double.Parse(seconds, CultureInfo.InvariantCulture) : 1),
                args.Contains("--in-process-only"));
        }
    }
}

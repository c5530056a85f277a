using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Nimbus.TestSupport;

namespace Nimbus.Bench;

/// <summary>
/// Identity over HTTP against a published nimbusd: password and token-method issue rates, and
/// GET /identity/v3/auth/tokens (validate) at concurrency 16, before and after 10,000 tokens are
/// revoked (10,000 revocation events). Target: validate ≥ 10,000/s.
/// </summary>
internal static class IdentityHttpBenchmark
{
    private const int Concurrency = 16;

    public static async Task<JsonObject> RunAsync(int events, TimeSpan duration)
    {
        var home = Directory.CreateTempSubdirectory("nimbus-bench-identity-").FullName;
        try
        {
            Console.Error.WriteLine("identity: starting nimbusd");
            await using var nimbusd = await NimbusdProcess.StartAsync(LocalMachine.RepositoryRoot, home);
            var rc = OpenRc.Read(home);
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency * 2 }) { BaseAddress = rc.AuthUrl };
            var admin = await rc.IssueTokenAsync(http);

            Console.Error.WriteLine("identity: password issue over HTTP");
            var passwordIssue = await ConcurrentAsync(TimeSpan.FromSeconds(Math.Max(2, duration.TotalSeconds / 2)), 4, async () =>
            {
                await rc.IssueTokenAsync(http);
                return true;
            });

            Console.Error.WriteLine("identity: token-method issue over HTTP");
            var tokenIssue = await ConcurrentAsync(duration, Concurrency, async () => await RescopeAsync(http, admin) is not null);

            Console.Error.WriteLine("identity: validate over HTTP");
            var subject = await RescopeAsync(http, admin) ?? throw new InvalidOperationException("rescoping the admin token failed");
            // Unmeasured first: the daemon's tiered JIT and connection pools settle before the rate counts.
            await ConcurrentAsync(TimeSpan.FromSeconds(3), Concurrency, () => ValidateAsync(http, admin, subject));
            var validate = await ConcurrentAsync(duration, Concurrency, () => ValidateAsync(http, admin, subject));

            Console.Error.WriteLine($"identity: revoking {events:N0} tokens");
            var revoked = 0;
            await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
            {
                while (Interlocked.Increment(ref revoked) <= events)
                {
                    var token = await RescopeAsync(http, admin) ?? throw new InvalidOperationException("rescoping the admin token failed");
                    using var request = new HttpRequestMessage(HttpMethod.Delete, "v3/auth/tokens");
                    request.Headers.Add("X-Auth-Token", admin);
                    request.Headers.Add("X-Subject-Token", token);
                    using var response = await http.SendAsync(request);
                    if (response.StatusCode != HttpStatusCode.NoContent)
                    {
                        throw new InvalidOperationException($"revoking a token answered {(int)response.StatusCode}");
                    }
                }
            }));

            Console.Error.WriteLine("identity: validate over HTTP with the revocation events");
            var validateRevoked = await ConcurrentAsync(duration, Concurrency, () => ValidateAsync(http, admin, subject));
            return new JsonObject
            {
                ["concurrency"] = Concurrency,
                ["seconds"] = duration.TotalSeconds,
                ["issue_password_per_s"] = passwordIssue["per_s"]!.DeepClone(),
                ["issue_password_note"] = "PBKDF2-SHA512 with 100,000 iterations per password check, at concurrency 4",
                ["issue_token_method_per_s"] = tokenIssue["per_s"]!.DeepClone(),
                ["validate"] = validate,
                ["revocation_events"] = events,
                ["validate_with_revocations"] = validateRevoked,
                ["slowdown_with_revocations"] = Math.Round(1 - (validateRevoked["per_s"]!.GetValue<double>() / validate["per_s"]!.GetValue<double>()), 4),
                ["targets"] = new JsonObject { ["validate_per_s"] = 10_000 },
            };
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>POST /v3/auth/tokens with the token method: a new token for the same scope, no password check.</summary>
    private static async Task<string?> RescopeAsync(HttpClient http, string token)
    {
        var body = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject { ["methods"] = new JsonArray("token"), ["token"] = new JsonObject { ["id"] = token } },
            },
        };
        using var response = await http.PostAsJsonAsync("v3/auth/tokens?nocatalog", body);
        return response.StatusCode == HttpStatusCode.Created ? response.Headers.GetValues("X-Subject-Token").Single() : null;
    }

    private static async Task<bool> ValidateAsync(HttpClient http, string admin, string subject)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens?nocatalog");
        request.Headers.Add("X-Auth-Token", admin);
        request.Headers.Add("X-Subject-Token", subject);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        return response.StatusCode == HttpStatusCode.OK;
    }

    /// <summary>Runs <paramref name="request"/> from <paramref name="workers"/> loops for <paramref name="duration"/>; rate and latency.</summary>
    private static async Task<JsonObject> ConcurrentAsync(TimeSpan duration, int workers, Func<Task<bool>> request)
    {
        var failures = 0;
        var latencies = new Latency[workers];
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async worker =>
        {
            var latency = latencies[worker] = new Latency();
            while (watch.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                if (!await request())
                {
                    Interlocked.Increment(ref failures);
                }

                latency.AddSince(start);
            }
        }));
        var elapsed = watch.Elapsed.TotalSeconds;
        var all = new Latency();
        foreach (var sample in latencies.SelectMany(l => l.Samples))
        {
            all.Add(sample);
        }

        if (failures > 0)
        {
            throw new InvalidOperationException($"{failures} of {all.Count} requests failed");
        }

        var result = all.ToJson(2, 0.5, 0.99);
        result["per_s"] = Math.Round(all.Count / elapsed, 1);
        return result;
    }
}

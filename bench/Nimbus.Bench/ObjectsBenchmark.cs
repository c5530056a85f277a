using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nimbus.TestSupport;

namespace Nimbus.Bench;

/// <summary>
/// The same Swift v1 load against Nimbus's all-in-one and, in the same run, OpenStack Swift from
/// Debian's packages laid out the same way (bench/swift/cluster.sh: a proxy and four storage nodes,
/// three replicas): many 4 KiB objects at concurrency 16 (PUT, GET, HEAD, DELETE), 64 MiB objects
/// with an MD5 check both ways, a 10,000-object container listing, and the proxy's memory while
/// streaming one large object.
/// </summary>
internal static class ObjectsBenchmark
{
    private const int Concurrency = 16;

#pragma warning disable CA5351 // MD5 is Swift's ETag; the benchmark checks what comes back.
    public static async Task<int> RunAsync(string[] args)
    {
        var options = Options.Parse(args);
        var root = LocalMachine.RepositoryRoot;
        var home = Directory.CreateTempSubdirectory("nimbus-bench-objects-").FullName;
        var swiftDir = Path.Combine(Path.GetTempPath(), "nimbus-bench-swift");
        var results = new JsonObject
        {
            ["benchmark"] = "objects",
            ["machine"] = new JsonObject { ["cores"] = Environment.ProcessorCount, ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription },
            ["layout"] = "proxy + 4 storage nodes on loopback, 3 replicas, part power 10, tempauth",
            ["small_objects"] = options.SmallObjects,
            ["small_object_bytes"] = 4096,
            ["concurrency"] = Concurrency,
            ["large_object_mib"] = options.LargeMib,
            ["large_objects"] = options.LargeCount,
            ["listing_objects"] = options.ListingObjects,
        };
        try
        {
            Console.Error.WriteLine("objects: starting nimbusd");
            await using var nimbusd = await NimbusdProcess.StartAsync(root, home);
            var rc = await File.ReadAllLinesAsync(Path.Combine(home, "swiftrc"));
            string Rc(string name) => rc.First(l => l.StartsWith($"export {name}=", StringComparison.Ordinal)).Split('=', 2)[1];
            var nimbus = new Target("nimbus", new Uri(Rc("ST_AUTH")), Rc("ST_USER"), Rc("ST_KEY"), nimbusd.Pid);

            Target? swift = null;
            if (!options.NimbusOnly)
            {
                Console.Error.WriteLine("objects: starting OpenStack Swift (bench/swift/cluster.sh)");
                var started = await BenchProcess.RunCheckedAsync(Path.Combine(root, "bench", "swift", "cluster.sh"), ["start", swiftDir]);
                var line = started.Output.Trim().Split(' ');
                swift = new Target("swift", new Uri(line[0]), line[1], line[2], null);
            }

            foreach (var target in swift is null ? [nimbus] : new[] { nimbus, swift })
            {
                Console.Error.WriteLine($"objects: measuring {target.Name}");
                results[target.Name] = await MeasureAsync(target, options);
            }

            if (swift is not null)
            {
                results["nimbus_vs_swift"] = Ratios(results["nimbus"]!.AsObject(), results["swift"]!.AsObject());
            }

            Console.WriteLine(results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        finally
        {
            if (!options.NimbusOnly)
            {
                await BenchProcess.RunAsync(Path.Combine(root, "bench", "swift", "cluster.sh"), ["stop", swiftDir]);
            }

            Directory.Delete(home, recursive: true);
        }
    }

    private sealed record Options(int SmallObjects, int LargeMib, int LargeCount, int ListingObjects, int StreamGib, bool NimbusOnly)
    {
        public static Options Parse(string[] args)
        {
            int Value(string name, int fallback)
            {
                var index = Array.IndexOf(args, name);
                return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
            }

            return new Options(
                Value("--small", 2000),
                Value("--large-mib", 64),
                Value("--large", 4),
                Value("--listing", 10_000),
                Value("--stream-gib", 1),
                args.Contains("--nimbus-only"));
        }
    }

    private sealed record Target(string Name, Uri AuthUrl, string User, string Key, int? ProxyPid);

    private static async Task<JsonObject> MeasureAsync(Target target, Options options)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency * 2, UseProxy = false, AutomaticDecompression = DecompressionMethods.None })
        {
            Timeout = TimeSpan.FromMinutes(30),
        };
        using var auth = new HttpRequestMessage(HttpMethod.Get, target.AuthUrl);
        auth.Headers.Add("X-Auth-User", target.User);
        auth.Headers.Add("X-Auth-Key", target.Key);
        using var authResponse = await http.SendAsync(auth);
        authResponse.EnsureSuccessStatusCode();
        var storage = authResponse.Headers.GetValues("X-Storage-Url").Single();
        http.DefaultRequestHeaders.Add("X-Auth-Token", authResponse.Headers.GetValues("X-Auth-Token").Single());

        var result = new JsonObject();
        var run = Guid.NewGuid().ToString("N")[..8];
        var small = $"{storage}/small-{run}";
        await CheckedAsync(http, HttpMethod.Put, small);
        var payload = RandomNumberGenerator.GetBytes(4096);
        var names = Enumerable.Range(0, options.SmallObjects).Select(i => $"o{i:D6}").ToArray();

        result["small_put"] = await ConcurrentAsync(names, async name =>
        {
            using var content = new ByteArrayContent(payload);
            using var response = await http.PutAsync($"{small}/{name}", content);
            return response.StatusCode == HttpStatusCode.Created;
        });
        result["small_get"] = await ConcurrentAsync(names, async name =>
        {
            var body = await http.GetByteArrayAsync($"{small}/{name}");
            return body.Length == payload.Length;
        });
        result["small_head"] = await ConcurrentAsync(names, async name =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, $"{small}/{name}");
            using var response = await http.SendAsync(request);
            return response.IsSuccessStatusCode;
        });
        result["small_delete"] = await ConcurrentAsync(names, async name =>
        {
            using var response = await http.DeleteAsync($"{small}/{name}");
            return response.StatusCode == HttpStatusCode.NoContent;
        });

        var large = $"{storage}/large-{run}";
        await CheckedAsync(http, HttpMethod.Put, large);
        var largeBody = RandomNumberGenerator.GetBytes(options.LargeMib * 1024 * 1024);
        var largeEtag = Convert.ToHexStringLower(MD5.HashData(largeBody));
        var putWatch = Stopwatch.StartNew();
        for (var i = 0; i < options.LargeCount; i++)
        {
            using var content = new ByteArrayContent(largeBody);
            using var request = new HttpRequestMessage(HttpMethod.Put, $"{large}/big{i}") { Content = content };
            request.Headers.TryAddWithoutValidation("ETag", largeEtag);
            using var response = await http.SendAsync(request);
            Require(response.StatusCode == HttpStatusCode.Created, $"{target.Name}: 64 MiB PUT answered {(int)response.StatusCode}");
        }

        var putSeconds = putWatch.Elapsed.TotalSeconds;
        var getWatch = Stopwatch.StartNew();
        for (var i = 0; i < options.LargeCount; i++)
        {
            using var response = await http.GetAsync($"{large}/big{i}", HttpCompletionOption.ResponseHeadersRead);
            await using var stream = await response.Content.ReadAsStreamAsync();
            Require(Convert.ToHexStringLower(await MD5.HashDataAsync(stream)) == largeEtag, $"{target.Name}: a 64 MiB GET came back with other bytes");
        }

        var getSeconds = getWatch.Elapsed.TotalSeconds;
        var megabytes = (double)options.LargeMib * options.LargeCount * 1024 * 1024 / 1_000_000;
        result["large_put_mb_per_s"] = Math.Round(megabytes / putSeconds, 1);
        result["large_get_mb_per_s"] = Math.Round(megabytes / getSeconds, 1);

        var listing = $"{storage}/listing-{run}";
        await CheckedAsync(http, HttpMethod.Put, listing);
        var listingNames = Enumerable.Range(0, options.ListingObjects).Select(i => $"dir{i % 10}/object-{i:D6}").ToArray();
        await ConcurrentAsync(listingNames, async name =>
        {
            using var content = new ByteArrayContent([]);
            using var response = await http.PutAsync($"{listing}/{name}", content);
            return response.StatusCode == HttpStatusCode.Created;
        });
        var listingLatency = new Latency();
        for (var i = 0; i < 5; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var json = await http.GetStringAsync($"{listing}?format=json&limit=10000");
            listingLatency.AddSince(started);
            using var document = JsonDocument.Parse(json);
            Require(document.RootElement.GetArrayLength() == Math.Min(options.ListingObjects, 10_000), $"{target.Name}: the listing has {document.RootElement.GetArrayLength()} entries");
        }

        result["listing_10000_ms"] = listingLatency.ToJson(1, 0.5);

        if (target.ProxyPid is int pid && options.StreamGib > 0)
        {
            result["stream"] = await StreamAsync(http, large, options.StreamGib, pid);
        }

        return result;
    }

    /// <summary>PUTs and GETs one object of <paramref name="gib"/> GiB generated on the fly, sampling the proxy's resident memory.</summary>
    private static async Task<JsonObject> StreamAsync(HttpClient http, string container, int gib, int pid)
    {
        var length = (long)gib * 1024 * 1024 * 1024;
        var idle = MemorySampler.ResidentMiB(pid);
        using var sampler = new MemorySampler(pid);
        using (var content = new StreamContent(new GeneratedStream(length), 1024 * 1024))
        {
            content.Headers.ContentLength = length;
            using var response = await http.PutAsync($"{container}/stream", content);
            Require(response.StatusCode == HttpStatusCode.Created, $"the {gib} GiB PUT answered {(int)response.StatusCode}");
        }

        using (var response = await http.GetAsync($"{container}/stream", HttpCompletionOption.ResponseHeadersRead))
        {
            await using var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[1024 * 1024];
            long total = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                total += read;
            }

            Require(total == length, $"the {gib} GiB GET returned {total} bytes");
        }

        var peak = sampler.Stop();
        return new JsonObject
        {
            ["gib"] = gib,
            ["proxy_rss_idle_mib"] = Math.Round(idle, 1),
            ["proxy_rss_peak_mib"] = Math.Round(peak, 1),
        };
    }

    /// <summary>Runs one request per name at concurrency 16; ops/s and latency percentiles.</summary>
    private static async Task<JsonObject> ConcurrentAsync(string[] names, Func<string, Task<bool>> request)
    {
        var next = -1;
        var failures = 0;
        var latencies = new Latency[Concurrency];
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async worker =>
        {
            var latency = latencies[worker] = new Latency();
            int index;
            while ((index = Interlocked.Increment(ref next)) < names.Length)
            {
                var started = Stopwatch.GetTimestamp();
                if (!await request(names[index]))
                {
                    Interlocked.Increment(ref failures);
                }

                latency.AddSince(started);
            }
        }));
        var seconds = watch.Elapsed.TotalSeconds;
        var all = new Latency();
        foreach (var sample in latencies.SelectMany(l => l.Samples))
        {
            all.Add(sample);
        }

        Require(failures == 0, $"{failures} of {names.Length} requests failed");
        return new JsonObject
        {
            ["ops_per_s"] = Math.Round(names.Length / seconds, 1),
            ["p50_ms"] = Math.Round(all.Percentile(0.5), 2),
            ["p99_ms"] = Math.Round(all.Percentile(0.99), 2),
        };
    }

    private static JsonObject Ratios(JsonObject nimbus, JsonObject swift)
    {
        double Ops(JsonObject o, string key) => o[key]!["ops_per_s"]!.GetValue<double>();
        double Value(JsonObject o, string key) => o[key]!.GetValue<double>();
        var ratios = new JsonObject();
        foreach (var key in (string[])["small_put", "small_get", "small_head", "small_delete"])
        {
            ratios[key + "_ops"] = Math.Round(Ops(nimbus, key) / Ops(swift, key), 2);
        }

        ratios["large_put_mb_per_s"] = Math.Round(Value(nimbus, "large_put_mb_per_s") / Value(swift, "large_put_mb_per_s"), 2);
        ratios["large_get_mb_per_s"] = Math.Round(Value(nimbus, "large_get_mb_per_s") / Value(swift, "large_get_mb_per_s"), 2);
        ratios["listing_speedup"] = Math.Round(swift["listing_10000_ms"]!["median"]!.GetValue<double>() / nimbus["listing_10000_ms"]!["median"]!.GetValue<double>(), 2);
        return ratios;
    }

    private static async Task CheckedAsync(HttpClient http, HttpMethod method, string url)
    {
        using var request = new HttpRequestMessage(method, url);
        using var response = await http.SendAsync(request);
        Require(response.IsSuccessStatusCode, $"{method} {url} answered {(int)response.StatusCode}");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException("objects benchmark: " + message);
        }
    }
#pragma warning restore CA5351

    /// <summary>Samples a process's resident memory every 100 ms until stopped; the peak in MiB.</summary>
    private sealed class MemorySampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task<double> _peak;

        public MemorySampler(int? pid)
        {
            _peak = pid is int id ? Task.Run(async () =>
            {
                var peak = 0.0;
                while (!_stop.IsCancellationRequested)
                {
                    peak = Math.Max(peak, ResidentMiB(id));
                    try
                    {
                        await Task.Delay(100, _stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }

                return peak;
            }) : Task.FromResult(0.0);
        }

        public double Stop()
        {
            _stop.Cancel();
            return _peak.GetAwaiter().GetResult();
        }

        public void Dispose() => _stop.Dispose();

        public static double ResidentMiB(int pid)
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
                }
            }

            return 0;
        }
    }

    /// <summary>A read-only stream of <paramref name="length"/> pseudo-random bytes, made as it is read.</summary>
    private sealed class GeneratedStream(long length) : Stream
    {
        private readonly byte[] _block = RandomNumberGenerator.GetBytes(1024 * 1024 + 7);
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = (int)Math.Min(buffer.Length, length - _position);
            for (var copied = 0; copied < count;)
            {
                var start = (int)((_position + copied) % _block.Length);
                var chunk = Math.Min(count - copied, _block.Length - start);
                _block.AsSpan(start, chunk).CopyTo(buffer[copied..]);
                copied += chunk;
            }

            _position += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

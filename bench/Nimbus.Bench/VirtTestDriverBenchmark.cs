using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nimbus.Cli;
using Nimbus.TestSupport;
using Nimbus.Virt.Drivers;
using Nimbus.Virt.TestDriver;

namespace Nimbus.Bench;

/// <summary>
/// The in-memory test driver: define+undefine pairs per second and the latency of listing all
/// domains with 1,000 defined, in process (the driver alone) and through nimbusd's unix socket
/// (the HTTP API, JSON and the shared <c>test:///empty</c> connection on top).
/// </summary>
internal static class VirtTestDriverBenchmark
{
    private const string SocketConnect = "test:///empty";
    private const int ListedDomains = 1000;
    private const int MaxListCalls = 2000;
    private const double PairsTarget = 20_000;
    private const double ListTargetMs = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = double.Parse(args.FirstOrDefault() ?? "5", CultureInfo.InvariantCulture);
        if (seconds <= 0)
        {
            Console.Error.WriteLine("usage: bench/run.sh virt-test-driver [SECONDS]   (SECONDS > 0, default 5)");
            return 2;
        }

        var measure = TimeSpan.FromSeconds(seconds);
        var warmUp = TimeSpan.FromSeconds(Math.Min(2, seconds));

        Console.Error.WriteLine($"in process: TestHypervisorDriver, define+undefine for {seconds:0.#} s, then list --all with {ListedDomains} domains");
        await using var driver = new TestHypervisorDriver();
        var inProcess = await MeasureAsync(
            xml => driver.DefineDomainAsync(xml, CancellationToken.None),
            name => driver.UndefineDomainAsync(name, UndefineOptions.None, CancellationToken.None),
            () => driver.ListDomainsAsync(ListFilter.All, CancellationToken.None),
            warmUp,
            measure);

        var root = LocalMachine.RepositoryRoot;
        var home = Directory.CreateTempSubdirectory("nbt-").FullName;
        JsonObject overSocket;
        try
        {
            Console.Error.WriteLine($"through nimbusd's unix socket: {SocketConnect}, same measurements");
            await using var nimbusd = await NimbusdProcess.StartAsync(root, home);
            using var client = nimbusd.Client();
            overSocket = await MeasureAsync(
                xml => client.DefineDomainAsync(SocketConnect, xml, CancellationToken.None),
                name => client.UndefineDomainAsync(SocketConnect, name, managedSave: false, CancellationToken.None),
                () => client.ListDomainsAsync(SocketConnect, ListFilter.All, CancellationToken.None),
                warmUp,
                measure);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }

        var pairs = inProcess["define_undefine"]!["pairs_per_second"]!.GetValue<double>();
        var listLatency = inProcess["list_all"]!["latency_ms"]!;
        var result = new JsonObject
        {
            ["benchmark"] = "virt-test-driver",
            ["tool"] = "Stopwatch",
            ["machine"] = Machine(),
            ["domain_xml"] = MinimalDomain("NAME"),
            ["in_process_driver"] = nameof(TestHypervisorDriver),
            ["in_process"] = inProcess,
            ["nimbusd_socket_connect"] = SocketConnect,
            ["nimbusd_socket"] = overSocket,
            ["targets"] = new JsonObject
            {
                ["in_process_define_undefine_pairs_per_second_min"] = PairsTarget,
                ["in_process_define_undefine_met"] = pairs >= PairsTarget,
                ["in_process_list_all_1000_ms_max"] = ListTargetMs,
                ["in_process_list_all_1000_median_met"] = listLatency["median"]!.GetValue<double>() < ListTargetMs,
                ["in_process_list_all_1000_p99_met"] = listLatency["p99"]!.GetValue<double>() < ListTargetMs,
            },
        };
        Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        return 0;
    }

    internal static JsonObject Machine() => new()
    {
        ["cores"] = Environment.ProcessorCount,
        ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
    };

    /// <summary>The smallest domain the XML subset accepts: no devices, so nothing on disk is checked.</summary>
    private static string MinimalDomain(string name) =>
        $"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>";

    private static async Task<JsonObject> MeasureAsync(
        Func<string, Task<DomainSummary>> define,
        Func<string, Task> undefine,
        Func<Task<IReadOnlyList<DomainSummary>>> list,
        TimeSpan warmUp,
        TimeSpan measure)
    {
        var xml = MinimalDomain("bench-pair");
        await DefineUndefineAsync(define, undefine, xml, warmUp);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var gen0Before = GC.CollectionCount(0);
        var (pairs, elapsed) = await DefineUndefineAsync(define, undefine, xml, measure);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var gen0 = GC.CollectionCount(0) - gen0Before;

        var names = Enumerable.Range(0, ListedDomains).Select(i => $"bench-{i:D4}").ToList();
        foreach (var name in names)
        {
            await define(MinimalDomain(name));
        }

        var listed = (await list()).Count;
        if (listed != ListedDomains)
        {
            throw new InvalidOperationException($"list --all returned {listed} domains, not {ListedDomains}");
        }

        var latency = new Latency();
        var warmUpEnd = Stopwatch.GetTimestamp() + (long)(warmUp.TotalSeconds * Stopwatch.Frequency / 4);
        while (Stopwatch.GetTimestamp() < warmUpEnd)
        {
            await list();
        }

        var measureEnd = Stopwatch.GetTimestamp() + (long)(measure.TotalSeconds * Stopwatch.Frequency);
        while (latency.Count < MaxListCalls && Stopwatch.GetTimestamp() < measureEnd)
        {
            var started = Stopwatch.GetTimestamp();
            await list();
            latency.AddSince(started);
        }

        foreach (var name in names)
        {
            await undefine(name);
        }

        return new JsonObject
        {
            ["define_undefine"] = new JsonObject
            {
                ["pairs"] = pairs,
                ["seconds"] = Math.Round(elapsed.TotalSeconds, 3),
                ["pairs_per_second"] = Math.Round(pairs / elapsed.TotalSeconds, 0),
                ["us_per_pair"] = Math.Round(elapsed.TotalMicroseconds / pairs, 2),
                ["allocated_bytes_per_pair"] = allocated / pairs,
                ["gen0_collections"] = gen0,
            },
            ["list_all"] = new JsonObject
            {
                ["domains"] = ListedDomains,
                ["latency_ms"] = latency.ToJson(4, 0.9, 0.99),
            },
        };
    }

    private static async Task<(long Pairs, TimeSpan Elapsed)> DefineUndefineAsync(
        Func<string, Task<DomainSummary>> define,
        Func<string, Task> undefine,
        string xml,
        TimeSpan duration)
    {
        var started = Stopwatch.GetTimestamp();
        var end = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long pairs = 0;
        do
        {
            // The clock is read once per 64 pairs, so the loop measures the driver, not the clock.
            for (var i = 0; i < 64; i++)
            {
                var domain = await define(xml);
                await undefine(domain.Name);
            }

            pairs += 64;
        }
        while (Stopwatch.GetTimestamp() < end);

        return (pairs, Stopwatch.GetElapsedTime(started));
    }
}

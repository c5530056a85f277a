using Nimbus.Bench;

// bench/run.sh NAME runs one benchmark; each prints one JSON document on stdout, progress on stderr.
var benchmarks = new Dictionary<string, Func<string[], Task<int>>>(StringComparer.Ordinal)
{
    ["healthz"] = HealthzBenchmark.RunAsync,
    ["identity"] = IdentityBenchmark.RunAsync,
    ["images"] = ImagesBenchmark.RunAsync,
    ["image-list"] = ImageListBenchmark.RunAsync,
    ["middleware"] = MiddlewareBenchmark.RunAsync,
    ["objects"] = ObjectsBenchmark.RunAsync,
    ["virt-start"] = VirtStartBenchmark.RunAsync,
    ["virt-test-driver"] = VirtTestDriverBenchmark.RunAsync,
    [BaselineServer.Command] = BaselineServer.RunAsync,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine("usage: bench/run.sh NAME [ARGS]");
    Console.Error.WriteLine("  healthz [SECONDS]           GET /healthz over loopback at concurrency 16 (wrk), nimbusd beside a bare Kestrel endpoint; 10 s each");
    Console.Error.WriteLine("  identity [--events N] [--seconds S] [--in-process-only]");
    Console.Error.WriteLine("                              tokens in process on one thread: issue/s, validate/s, and validate/s with N revocation events (10,000);");
    Console.Error.WriteLine("                              then over HTTP against nimbusd: issue/s, GET /v3/auth/tokens at concurrency 16 before and after N revocations");
    Console.Error.WriteLine("  images [--gib G]            1 GiB image upload and download through the Image API beside a plain file copy (read, write, fsync) on the same disk");
    Console.Error.WriteLine("  image-list [--images N] [--runs R]");
    Console.Error.WriteLine("                              GET /image/v2/images?limit=100 with N images (100,000) in the catalogue: first and middle pages, admin and member; R runs each (200)");
    Console.Error.WriteLine("  middleware                  the per-request cost of the platform middleware, in process (BenchmarkDotNet)");
    Console.Error.WriteLine("  objects [--small N] [--large-mib M] [--large K] [--listing L] [--stream-gib G] [--nimbus-only]");
    Console.Error.WriteLine("                              the Swift API under the same load, nimbusd beside OpenStack Swift (bench/swift/cluster.sh): 4 KiB objects at");
    Console.Error.WriteLine("                              concurrency 16, 64 MiB objects with MD5 checks, a 10,000-object listing, proxy memory while streaming G GiB");
    Console.Error.WriteLine("  virt-start [RUNS]           define and start latency of one TCG guest: nimbusd (API and CLI) beside libvirtd (virsh) and a hand-launched QEMU; 10 runs each");
    Console.Error.WriteLine("  virt-test-driver [SECONDS]  define+undefine pairs/s and list --all latency with 1,000 domains on the in-memory test driver, in process and over nimbusd's socket");
    return 2;
}

return await run(args[1..]);

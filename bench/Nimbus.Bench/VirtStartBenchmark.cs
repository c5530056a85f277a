using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nimbus.Cli;
using Nimbus.Shared;
using Nimbus.TestSupport;

namespace Nimbus.Bench;

/// <summary>
/// How long one TCG guest (images/build.sh's tiny image, 128 MiB, one vCPU) takes from the start
/// request until QEMU runs it, in one run for: nimbusd's API over its unix socket and the
/// <c>nimbus virt start</c> process; libvirtd 9.0 through <c>virsh start</c>; and the same QEMU
/// command line as nimbusd's launched by hand (the floor). Also define latency (nimbusd's API and
/// CLI, <c>virsh define</c>) and nimbusd's resident memory when idle. Each system has its own disk.
/// </summary>
internal static class VirtStartBenchmark
{
    private const string Connect = "qemu:///system";
    private const string TestConnect = "test:///empty";
    private const string NimbusGuest = "bench-nimbus";
    private const string LibvirtGuest = "bench-libvirt";
    private const string DefinedDomain = "bench-define";
    private const string HandGuest = "bench-hand";
    private const double StartRatioTarget = 0.5;
    private const double DefineTargetMs = 1;
    private const double IdleRssTargetMiB = 90;

    /// <summary>Workstation GC without background collections, against the web SDK's server GC, to see what the GC mode costs.</summary>
    private static readonly Dictionary<string, string> WorkstationGc = new() { ["DOTNET_gcServer"] = "0", ["DOTNET_gcConcurrent"] = "0" };

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = int.Parse(args.FirstOrDefault() ?? "10", CultureInfo.InvariantCulture);
        if (runs < 1)
        {
            Console.Error.WriteLine("usage: bench/run.sh virt-start [RUNS]   (RUNS ≥ 1, default 10)");
            return 2;
        }

        var root = LocalMachine.RepositoryRoot;
        Console.Error.WriteLine("==> the guest image (images/build.sh)");
        var image = (await BenchProcess.RunCheckedAsync(Path.Combine(root, "images", "build.sh"), [])).Output.Trim().Split('\n')[^1];

        // Short: QEMU's monitor socket paths live under it and unix socket paths are limited to 108 bytes.
        var work = Directory.CreateTempSubdirectory("nbv-").FullName;
        var home = Path.Combine(work, "nimbus");
        var handDirectory = Path.Combine(work, "hand");
        var disks = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["nimbus"] = Path.Combine(work, "nimbus.qcow2"),
            ["libvirt"] = Path.Combine(work, "libvirt.qcow2"),
            ["hand"] = Path.Combine(work, "hand.qcow2"),
        };
        NimbusdProcess? nimbusd = null;
        PrivateLibvirt? libvirt = null;
        HandLaunchedQemu? hand = null;
        try
        {
            foreach (var disk in disks.Values)
            {
                await BenchProcess.RunCheckedAsync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", image, disk]);
            }

            Directory.CreateDirectory(Path.Combine(handDirectory, "run"));
            Directory.CreateDirectory(Path.Combine(handDirectory, "log"));
            var nimbusXml = WriteDomain(work, "nimbus", NimbusGuest, disks["nimbus"]);
            var libvirtXml = WriteDomain(work, "libvirt", LibvirtGuest, disks["libvirt"]);
            var nimbusDefineXml = WriteDomain(work, "nimbus-define", DefinedDomain, disks["nimbus"]);
            var libvirtDefineXml = WriteDomain(work, "libvirt-define", DefinedDomain, disks["libvirt"]);

            Console.Error.WriteLine("==> nimbusd");
            nimbusd = await NimbusdProcess.StartAsync(root, home);
            using var client = nimbusd.Client();
            var cli = new NimbusCli(Path.Combine(root, "bin", "nimbus"), home);
            await client.GetHealthAsync(CancellationToken.None);
            await Task.Delay(TimeSpan.FromSeconds(3));
            var idleRssKiB = BenchProcess.StatusKiB(nimbusd.Pid, "VmRSS") ?? throw new InvalidOperationException("nimbusd is gone");
            // Where the resident memory is: anonymous (GC heap, native heaps, stacks), file-backed (mapped
            // assemblies and libraries), shared memory (the runtime's double-mapped executable code).
            var idleBreakdown = new JsonObject
            {
                ["anonymous_mib"] = Mib(BenchProcess.StatusKiB(nimbusd.Pid, "RssAnon")),
                ["file_mib"] = Mib(BenchProcess.StatusKiB(nimbusd.Pid, "RssFile")),
                ["shmem_mib"] = Mib(BenchProcess.StatusKiB(nimbusd.Pid, "RssShmem")),
                ["threads"] = BenchProcess.StatusKiB(nimbusd.Pid, "Threads"),
            };
            Console.Error.WriteLine("==> nimbusd idle under workstation GC, for comparison");
            var workstationGcIdleRssKiB = await IdleRssKiBAsync(root, Path.Combine(work, "nimbus-workstation-gc"), WorkstationGc);

            Console.Error.WriteLine("==> libvirtd and virtlogd in a private mount namespace");
            JsonObject libvirtInfo;
            try
            {
                libvirt = await PrivateLibvirt.StartAsync(Path.Combine(work, "libvirt"));
                var version = (await libvirt.VirshCheckedAsync("version")).Output;
                libvirtInfo = new JsonObject
                {
                    ["uri"] = libvirt.Uri,
                    ["version"] = string.Join("; ", version.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
                    ["daemons"] = "libvirtd + virtlogd, started by hand (no systemd), configuration of the benchmark's own in a private mount namespace: user=root, group=root, otherwise packaged defaults",
                    ["ready_ms"] = Math.Round(libvirt.ReadyMilliseconds, 0),
                    ["libvirtd_idle_rss_mib"] = Mib(BenchProcess.StatusKiB(libvirt.LibvirtdPid!.Value, "VmRSS")),
                    ["virtlogd_idle_rss_mib"] = Mib(BenchProcess.StatusKiB(libvirt.VirtlogdPid!.Value, "VmRSS")),
                };
            }
            catch (InvalidOperationException ex)
            {
                Console.Error.WriteLine("libvirt is not measured: " + ex.Message);
                libvirtInfo = new JsonObject { ["error"] = ex.Message };
                if (libvirt is not null)
                {
                    await libvirt.DisposeAsync();
                    libvirt = null;
                }
            }

            // Define: N pairs each, the define timed, the undefine not.
            var nimbusDefine = new Latency();
            var nimbusCliDefine = new Latency();
            var virshDefine = new Latency();
            var durableWrite = new Latency();
            var nimbusTestDriverDefine = new Latency();
            var probeDirectory = Directory.CreateDirectory(Path.Combine(work, "durable-write")).FullName;
            var defineXml = await File.ReadAllTextAsync(nimbusDefineXml);
            Console.Error.WriteLine($"==> define, {runs} runs each (after one warm-up)");
            for (var i = -1; i < runs; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await client.DefineDomainAsync(Connect, defineXml, CancellationToken.None);
                var api = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                await client.UndefineDomainAsync(Connect, DefinedDomain, managedSave: false, CancellationToken.None);

                // The same request to the in-memory driver: the API's share of a define, without the disk write.
                started = Stopwatch.GetTimestamp();
                await client.DefineDomainAsync(TestConnect, defineXml, CancellationToken.None);
                var inMemory = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                await client.UndefineDomainAsync(TestConnect, DefinedDomain, managedSave: false, CancellationToken.None);

                var byCli = await cli.RunCheckedAsync("define", nimbusDefineXml);
                await client.UndefineDomainAsync(Connect, DefinedDomain, managedSave: false, CancellationToken.None);

                ProcessRun? byVirsh = null;
                if (libvirt is not null)
                {
                    byVirsh = await libvirt.VirshCheckedAsync("define", libvirtDefineXml);
                    await libvirt.VirshCheckedAsync("undefine", DefinedDomain);
                }

                // What nimbusd's define must do at least: write the definition durably (file and directory fsync).
                var writeStarted = Stopwatch.GetTimestamp();
                await AtomicFile.WriteAllTextAsync(Path.Combine(probeDirectory, DefinedDomain + ".xml"), defineXml, CancellationToken.None);
                var write = Stopwatch.GetElapsedTime(writeStarted).TotalMilliseconds;

                if (i >= 0)
                {
                    nimbusDefine.Add(api);
                    nimbusTestDriverDefine.Add(inMemory);
                    durableWrite.Add(write);
                    nimbusCliDefine.Add(byCli.Milliseconds);
                    if (byVirsh is not null)
                    {
                        virshDefine.Add(byVirsh.Milliseconds);
                    }
                }
            }

            // Start: the systems take turns within each run, so all see the same machine.
            await client.DefineDomainAsync(Connect, await File.ReadAllTextAsync(nimbusXml), CancellationToken.None);
            if (libvirt is not null)
            {
                await libvirt.VirshCheckedAsync("define", libvirtXml);
            }

            var nimbusStart = new Latency();
            var nimbusCliStart = new Latency();
            var virshStart = new Latency();
            var handStart = new Latency();
            Console.Error.WriteLine($"==> start, {runs} runs each (after one warm-up), destroyed after each");
            for (var i = -1; i < runs; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await client.DomainActionAsync(Connect, NimbusGuest, "start", null, CancellationToken.None);
                var api = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                hand ??= HandLaunch(disks, home, handDirectory);
                await client.DomainActionAsync(Connect, NimbusGuest, "destroy", null, CancellationToken.None);

                var byCli = await cli.RunCheckedAsync("start", NimbusGuest);
                await client.DomainActionAsync(Connect, NimbusGuest, "destroy", null, CancellationToken.None);

                ProcessRun? byVirsh = null;
                if (libvirt is not null)
                {
                    byVirsh = await libvirt.VirshCheckedAsync("start", LibvirtGuest);
                    await libvirt.VirshCheckedAsync("destroy", LibvirtGuest);
                }

                var byHand = await hand.StartAsync();
                await hand.StopAsync();

                if (i >= 0)
                {
                    nimbusStart.Add(api);
                    nimbusCliStart.Add(byCli.Milliseconds);
                    handStart.Add(byHand);
                    if (byVirsh is not null)
                    {
                        virshStart.Add(byVirsh.Milliseconds);
                    }
                }

                Console.Error.WriteLine(i < 0
                    ? "warm-up done"
                    : $"run {i + 1}/{runs}: nimbusd API {api:0.0} ms, nimbus CLI {byCli.Milliseconds:0.0} ms, virsh {byVirsh?.Milliseconds.ToString("0.0", CultureInfo.InvariantCulture) ?? "-"} ms, by hand {byHand:0.0} ms");
            }

            var idleRssMiB = Mib(idleRssKiB);
            var afterRssMiB = Mib(BenchProcess.StatusKiB(nimbusd.Pid, "VmRSS"));
            var hasLibvirt = virshStart.Count > 0;
            var result = new JsonObject
            {
                ["benchmark"] = "virt-start",
                ["tool"] = "Stopwatch",
                ["runs"] = runs,
                ["machine"] = VirtTestDriverBenchmark.Machine(),
                ["guest"] = "images/build.sh's image under a qcow2 overlay per system; <domain type='qemu'> (TCG), 128 MiB, 1 vCPU, virtio disk, user-mode NIC, pty serial",
                ["measured_until"] = "the guest runs: nimbusd answers start after QMP cont; virsh start exits once libvirtd has resumed the guest; by hand: query-status says running after cont",
                ["define_measured"] = "nimbusd_api: POST of the XML to qemu:///system over the unix socket (parse, validate, durable write); nimbusd_api_test_driver: the same to test:///empty (no disk write); durable_write_alone: nimbusd's AtomicFile (temp file, fsync, rename, fsync of the directory) in the same file system; CLI and virsh: whole process",
                ["define_ms"] = new JsonObject
                {
                    ["nimbusd_api"] = nimbusDefine.ToJson(3, 0.9),
                    ["nimbus_cli"] = nimbusCliDefine.ToJson(1, 0.9),
                    ["virsh"] = hasLibvirt ? virshDefine.ToJson(1, 0.9) : null,
                    ["nimbusd_api_test_driver"] = nimbusTestDriverDefine.ToJson(3, 0.9),
                    ["durable_write_alone"] = durableWrite.ToJson(3, 0.9),
                },
                ["start_ms"] = new JsonObject
                {
                    ["nimbusd_api"] = nimbusStart.ToJson(1, 0.9),
                    ["nimbus_cli"] = nimbusCliStart.ToJson(1, 0.9),
                    ["virsh"] = hasLibvirt ? virshStart.ToJson(1, 0.9) : null,
                    ["qemu_by_hand"] = handStart.ToJson(1, 0.9),
                },
                ["nimbus_start_vs_libvirt"] = hasLibvirt ? Ratio(nimbusStart, virshStart) : null,
                ["nimbus_cli_start_vs_virsh"] = hasLibvirt ? Ratio(nimbusCliStart, virshStart) : null,
                ["nimbus_start_vs_qemu_by_hand"] = Ratio(nimbusStart, handStart),
                ["nimbus_define_vs_libvirt"] = hasLibvirt ? Ratio(nimbusDefine, virshDefine) : null,
                ["nimbus_cli_define_vs_virsh"] = hasLibvirt ? Ratio(nimbusCliDefine, virshDefine) : null,
                ["nimbusd_idle_rss_mib"] = idleRssMiB,
                ["nimbusd_idle_breakdown"] = idleBreakdown,
                ["nimbusd_idle_rss_mib_workstation_gc"] = Mib(workstationGcIdleRssKiB),
                ["nimbusd_runtime_config"] = RuntimeConfig(root),
                ["nimbusd_rss_after_runs_mib"] = afterRssMiB,
                ["libvirt"] = libvirtInfo,
                ["qemu_by_hand_argv"] = new JsonArray([.. hand!.Argv.Select(a => JsonValue.Create(a))]),
                ["targets"] = new JsonObject
                {
                    ["nimbus_start_vs_libvirt_max"] = StartRatioTarget,
                    ["nimbus_start_vs_libvirt_met"] = hasLibvirt ? Ratio(nimbusStart, virshStart) <= StartRatioTarget : null,
                    ["nimbusd_api_define_median_ms_max"] = DefineTargetMs,
                    ["nimbusd_api_define_met"] = nimbusDefine.Median <= DefineTargetMs,
                    ["nimbusd_idle_rss_mib_max"] = IdleRssTargetMiB,
                    ["nimbusd_idle_rss_met"] = idleRssMiB < IdleRssTargetMiB,
                },
            };
            Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return 0;
        }
        finally
        {
            Console.Error.WriteLine("==> cleaning up");
            await CleanUpAsync(nimbusd, libvirt, hand, work);
        }
    }

    /// <summary>Resident memory of a fresh nimbusd 3 s after it is ready, with no guests, under <paramref name="environment"/>.</summary>
    private static async Task<long?> IdleRssKiBAsync(string root, string home, IReadOnlyDictionary<string, string> environment)
    {
        await using var nimbusd = await NimbusdProcess.StartAsync(root, home, environment);
        using var client = nimbusd.Client();
        await client.GetHealthAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(3));
        return BenchProcess.StatusKiB(nimbusd.Pid, "VmRSS");
    }

    /// <summary>The runtime settings nimbusd's project file put in bin/nimbusd.runtimeconfig.json (GC mode and the like).</summary>
    private static JsonNode? RuntimeConfig(string root) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(root, "bin", "nimbusd.runtimeconfig.json")))?["runtimeOptions"]?["configProperties"]?.DeepClone();

    /// <summary>nimbusd's guest is running: its QEMU argv, rewritten to a disk, directory and UUID of the hand launch's own.</summary>
    private static HandLaunchedQemu HandLaunch(Dictionary<string, string> disks, string home, string handDirectory)
    {
        var pids = BenchProcess.WithArgumentContaining(disks["nimbus"]);
        if (pids.Count != 1)
        {
            throw new InvalidOperationException($"expected one QEMU using {disks["nimbus"]}, found {pids.Count}");
        }

        var argv = BenchProcess.CommandLine(pids[0]);
        var uuidAt = argv.ToList().IndexOf("-uuid");
        var replacements = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [disks["nimbus"]] = disks["hand"],
            [Path.Combine(home, "virt", "qemu")] = handDirectory,
            [$"guest={NimbusGuest},"] = $"guest={HandGuest},",
        };
        if (uuidAt >= 0)
        {
            replacements[argv[uuidAt + 1]] = Guid.NewGuid().ToString("D");
        }

        return HandLaunchedQemu.FromNimbusArgv(argv, replacements, home);
    }

    private static async Task CleanUpAsync(NimbusdProcess? nimbusd, PrivateLibvirt? libvirt, HandLaunchedQemu? hand, string work)
    {
        if (nimbusd is not null)
        {
            using var client = nimbusd.Client();
            foreach (var name in new[] { NimbusGuest, DefinedDomain })
            {
                await IgnoreFailureAsync(() => client.DomainActionAsync(Connect, name, "destroy", null, CancellationToken.None));
                await IgnoreFailureAsync(() => client.UndefineDomainAsync(Connect, name, managedSave: false, CancellationToken.None));
            }
        }

        if (libvirt is not null)
        {
            foreach (var name in new[] { LibvirtGuest, DefinedDomain })
            {
                await libvirt.VirshAsync("destroy", name);
                await libvirt.VirshAsync("undefine", name);
            }

            await libvirt.DisposeAsync();
        }

        if (hand is not null)
        {
            await hand.StopAsync();
        }

        if (nimbusd is not null)
        {
            await nimbusd.DisposeAsync();
        }

        // Anything still running from our directory (a QEMU left by a failed step) was started by this run.
        foreach (var pid in BenchProcess.WithArgumentContaining(work))
        {
            Console.Error.WriteLine($"ending leftover process {pid}: {string.Join(' ', BenchProcess.CommandLine(pid))}");
            await BenchProcess.TerminateAsync(pid, TimeSpan.FromSeconds(10));
        }

        Directory.Delete(work, recursive: true);
    }

    private static async Task IgnoreFailureAsync(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Nimbus.Platform.Errors.NimbusException)
        {
            // Not defined, or not running: nothing to undo.
        }
    }

    private static string WriteDomain(string directory, string file, string name, string disk)
    {
        var path = Path.Combine(directory, file + ".xml");
        File.WriteAllText(path, TinyGuest.DomainXml(name, disk));
        return path;
    }

    private static double Ratio(Latency nimbus, Latency other) => Math.Round(nimbus.Median / other.Median, 3);

    private static double Mib(long? kib) => Math.Round((kib ?? 0) / 1024.0, 1);

    /// <summary><c>bin/nimbus virt -c qemu:///system VERB ARG</c> against the benchmark's nimbusd, timed as a whole process.</summary>
    private sealed class NimbusCli(string path, string home)
    {
        public async Task<ProcessRun> RunCheckedAsync(string verb, string argument)
        {
            var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["NIMBUS_HOME"] = home };
            return await BenchProcess.RunCheckedAsync(path, ["virt", "-c", Connect, verb, argument], environment);
        }
    }
}

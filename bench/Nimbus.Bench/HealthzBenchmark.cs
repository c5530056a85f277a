using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nimbus.TestSupport;

namespace Nimbus.Bench;

/// <summary>
/// Requests per second and p50/p99 latency of <c>GET /healthz</c> at concurrency 16 over loopback,
/// measured by wrk against the published bin/nimbusd and, in the same run, against a bare Kestrel
/// endpoint (the floor any ASP.NET Core API can reach on this machine).
/// </summary>
internal static class HealthzBenchmark
{
    private const int Connections = 16;

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = int.Parse(args.FirstOrDefault() ?? "10", System.Globalization.CultureInfo.InvariantCulture);
        var root = LocalMachine.RepositoryRoot;
        var home = Directory.CreateTempSubdirectory("nimbus-bench-").FullName;
        try
        {
            var nimbusPort = LocalMachine.FreePort();
            using var nimbusd = StartQuiet(Path.Combine(root, "bin", "nimbusd"), ["--home", home, "--port", Port(nimbusPort)]);
            var baselinePort = LocalMachine.FreePort();
            using var baseline = StartQuiet(Environment.ProcessPath!, [BaselineServer.Command, Port(baselinePort)]);

            var nimbusUrl = new Uri($"http://127.0.0.1:{nimbusPort}/healthz");
            var baselineUrl = new Uri($"http://127.0.0.1:{baselinePort}/healthz");
            await WaitUntilServingAsync(nimbusUrl);
            await WaitUntilServingAsync(baselineUrl);

            // Alternate short warm-ups, then measure each in turn so both see the same machine.
            await WrkAsync(nimbusUrl, 3);
            await WrkAsync(baselineUrl, 3);
            var nimbus = await WrkAsync(nimbusUrl, seconds);
            var floor = await WrkAsync(baselineUrl, seconds);

            var result = new JsonObject
            {
                ["benchmark"] = "healthz",
                ["tool"] = "wrk",
                ["concurrency"] = Connections,
                ["threads"] = 2,
                ["duration_seconds"] = seconds,
                ["machine"] = new JsonObject { ["cores"] = Environment.ProcessorCount, ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription },
                ["nimbusd"] = Summarize(nimbus),
                ["bare_kestrel"] = Summarize(floor),
                ["nimbusd_rps_vs_bare_kestrel"] = Math.Round(Rps(nimbus) / Rps(floor), 3),
            };
            Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

            nimbusd.Kill();
            baseline.Kill();
            await nimbusd.WaitForExitAsync();
            await baseline.WaitForExitAsync();
            return 0;
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private static double Rps(JsonNode run) => run["requests"]!.GetValue<double>() / (run["duration_us"]!.GetValue<double>() / 1e6);

    private static JsonObject Summarize(JsonNode run)
    {
        var latency = run["latency_us"]!;
        var errors = run["errors"]!.AsObject().Sum(e => e.Value!.GetValue<long>());
        return new JsonObject
        {
            ["requests"] = run["requests"]!.GetValue<long>(),
            ["requests_per_second"] = Math.Round(Rps(run), 1),
            ["latency_ms"] = new JsonObject
            {
                ["mean"] = Math.Round(latency["mean"]!.GetValue<double>() / 1000, 3),
                ["p50"] = Math.Round(latency["p50"]!.GetValue<double>() / 1000, 3),
                ["p90"] = Math.Round(latency["p90"]!.GetValue<double>() / 1000, 3),
                ["p99"] = Math.Round(latency["p99"]!.GetValue<double>() / 1000, 3),
                ["max"] = Math.Round(latency["max"]!.GetValue<double>() / 1000, 3),
            },
            ["errors"] = errors,
        };
    }

    private static async Task<JsonNode> WrkAsync(Uri url, int seconds)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "wrk-report.lua");
        var info = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-t2", $"-c{Connections}", $"-d{seconds}s", "--latency", "-s", script, url.ToString() })
        {
            info.ArgumentList.Add(arg);
        }

        Console.Error.WriteLine($"wrk {seconds}s against {url}");
        using var wrk = Process.Start(info) ?? throw new InvalidOperationException("cannot start wrk; bench/run.sh installs it");
        var output = await wrk.StandardOutput.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("WRK_JSON ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("wrk printed no result:\n" + output);
        return JsonNode.Parse(line["WRK_JSON ".Length..])!;
    }

    private static Process StartQuiet(string path, string[] args)
    {
        var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Request logging at Information would measure the console, not the server.
        info.Environment["NIMBUS__Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {path}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitUntilServingAsync(Uri url)
    {
        using var http = new HttpClient();
        for (var attempt = 0; attempt < 300; attempt++)
        {
            try
            {
                using var response = await http.GetAsync(url);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"{url} did not come up");
    }

    private static string Port(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

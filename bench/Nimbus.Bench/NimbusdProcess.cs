using System.Diagnostics;
using Nimbus.Client;
using Nimbus.Platform.Storage;

namespace Nimbus.Bench;

/// <summary>The published bin/nimbusd running on a state directory of its own, with request logging off.</summary>
internal sealed class NimbusdProcess : IAsyncDisposable
{
    private readonly Process _process;

    private NimbusdProcess(Process process, string home)
    {
        _process = process;
        Home = home;
    }

    public string Home { get; }

    public int Pid => _process.Id;

    public string SocketPath => LocalApiSocket.PathIn(Home);

    /// <summary>Starts nimbusd and returns once it has written nimbus.env and its unix socket exists.</summary>
    public static async Task<NimbusdProcess> StartAsync(string repositoryRoot, string home, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(Path.Combine(repositoryRoot, "bin", "nimbusd"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--home", home, "--port", "0" })
        {
            info.ArgumentList.Add(arg);
        }

        // Request logging at Information would measure the console, not the daemon.
        info.Environment["NIMBUS__Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start bin/nimbusd; bench/run.sh publishes it");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine("nimbusd: " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var daemon = new NimbusdProcess(process, home);
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"nimbusd exited with code {process.ExitCode} before it served");
            }

            if (File.Exists(RuntimeEnvFile.PathIn(home)) && File.Exists(daemon.SocketPath))
            {
                return daemon;
            }

            await Task.Delay(50);
        }

        await daemon.DisposeAsync();
        throw new InvalidOperationException($"nimbusd did not write {RuntimeEnvFile.PathIn(home)} within 30 s");
    }

    public NimbusClient Client() => NimbusClient.ForUnixSocket(SocketPath, TimeSpan.FromSeconds(120));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}

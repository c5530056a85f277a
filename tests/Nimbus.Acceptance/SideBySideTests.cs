using System.Diagnostics;
using System.Security.Cryptography;
using Nimbus.TestSupport;

namespace Nimbus.Acceptance;

/// <summary>Two all-in-ones from one checkout at once, as the README says: <c>--port 0</c> and a state directory each.</summary>
public sealed class SideBySideTests
{
    [Fact]
    public async Task Two_all_in_ones_on_port_0_with_their_own_homes_both_serve_the_swift_client()
    {
        using var firstHome = new TempDirectory();
        using var secondHome = new TempDirectory();
        using var first = Executables.Start(Executables.Daemon, ["--home", firstHome.Path, "--port", "0"]);
        using var second = Executables.Start(Executables.Daemon, ["--home", secondHome.Path, "--port", "0"]);
        try
        {
            var firstError = first.StandardError.ReadToEndAsync();
            var secondError = second.StandardError.ReadToEndAsync();
            _ = first.StandardOutput.ReadToEndAsync();
            _ = second.StandardOutput.ReadToEndAsync();
            await WaitUntilReadyAsync(first, firstHome.Path, firstError);
            await WaitUntilReadyAsync(second, secondHome.Path, secondError);

            foreach (var home in (string[])[firstHome.Path, secondHome.Path])
            {
                var swift = await SwiftCli.FromSwiftRcAsync(Path.Combine(home, "swiftrc"));
                var original = Path.Combine(home, "original.bin");
                await File.WriteAllBytesAsync(original, RandomNumberGenerator.GetBytes(200 * 1024));
                await swift.RunAsync("upload", "side", original, "--object-name", "by-" + Path.GetFileName(home));
                var downloaded = Path.Combine(home, "downloaded.bin");
                await swift.RunAsync("download", "side", "by-" + Path.GetFileName(home), "-o", downloaded);
                Assert.Equal(await File.ReadAllBytesAsync(original), await File.ReadAllBytesAsync(downloaded));
            }

            // Each serves its own cloud: neither sees the other's object.
            var firstListing = await (await SwiftCli.FromSwiftRcAsync(Path.Combine(firstHome.Path, "swiftrc"))).RunAsync("list", "side");
            var secondListing = await (await SwiftCli.FromSwiftRcAsync(Path.Combine(secondHome.Path, "swiftrc"))).RunAsync("list", "side");
            Assert.Equal("by-" + Path.GetFileName(firstHome.Path), firstListing.Trim());
            Assert.Equal("by-" + Path.GetFileName(secondHome.Path), secondListing.Trim());
        }
        finally
        {
            Stop(first);
            Stop(second);
        }
    }

    /// <summary>nimbusd writes nimbus.env last, once everything (swiftrc included) is ready.</summary>
    private static async Task WaitUntilReadyAsync(Process daemon, string home, Task<string> error)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!File.Exists(Path.Combine(home, "nimbus.env")))
        {
            if (daemon.HasExited)
            {
                Assert.Fail($"nimbusd --home {home} --port 0 exited with {daemon.ExitCode}: {await error}");
            }

            await Task.Delay(50, limit.Token);
        }
    }

    private static void Stop(Process daemon)
    {
        if (!daemon.HasExited)
        {
            Executables.Signal(daemon, Executables.SigTerm);
            if (!daemon.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                daemon.Kill(entireProcessTree: true);
            }
        }
    }
}

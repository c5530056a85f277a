using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Nimbus.TestSupport;

namespace Nimbus.Acceptance;

/// <summary>
/// The real <c>swift</c> client (python3-swiftclient) against bin/nimbusd's object storage, with
/// nothing but the swiftrc the all-in-one writes.
/// </summary>
public sealed class SwiftClientTests
{
    [Fact]
    public async Task Swift_client_stores_lists_reads_updates_copies_and_deletes_objects()
    {
        using var home = new TempDirectory();
        using var daemon = DaemonProcess.Start(home.Path, LocalMachine.FreePort());
        await daemon.WaitUntilReadyAsync();
        var swift = await SwiftCli.FromSwiftRcAsync(Path.Combine(home.Path, "swiftrc"));

        var stat = await swift.RunAsync("stat");
        Assert.Contains("Account: AUTH_admin", stat, StringComparison.Ordinal);

        var original = Path.Combine(home.Path, "original.bin");
        await File.WriteAllBytesAsync(original, RandomNumberGenerator.GetBytes(300 * 1024));
        await swift.RunAsync("upload", "photos", original, "--object-name", "2026/original.bin");
        await swift.RunAsync("upload", "photos", original, "--object-name", "other.bin");

        var listed = await swift.RunAsync("list", "photos", "--prefix", "2026/");
        Assert.Equal(["2026/original.bin"], Lines(listed));

        var downloaded = Path.Combine(home.Path, "downloaded.bin");
        await swift.RunAsync("download", "photos", "2026/original.bin", "-o", downloaded);
        Assert.Equal(await File.ReadAllBytesAsync(original), await File.ReadAllBytesAsync(downloaded));

        await swift.RunAsync("post", "-m", "color:blue", "photos", "2026/original.bin");
        var objectStat = await swift.RunAsync("stat", "photos", "2026/original.bin");
        Assert.Contains("Meta Color: blue", objectStat, StringComparison.Ordinal);
        Assert.Contains($"ETag: {Convert.ToHexStringLower(MD5.HashData(await File.ReadAllBytesAsync(original)))}", objectStat, StringComparison.Ordinal);

        await swift.RunAsync("post", "backup");
        await swift.RunAsync("copy", "photos", "2026/original.bin", "--destination", "/backup/copy.bin");
        var copied = Path.Combine(home.Path, "copied.bin");
        await swift.RunAsync("download", "backup", "copy.bin", "-o", copied);
        Assert.Equal(await File.ReadAllBytesAsync(original), await File.ReadAllBytesAsync(copied));
        Assert.Contains("Meta Color: blue", await swift.RunAsync("stat", "backup", "copy.bin"), StringComparison.Ordinal);

        await swift.RunAsync("delete", "photos", "2026/original.bin");
        Assert.Equal(["other.bin"], Lines(await swift.RunAsync("list", "photos")));
        Assert.Equal(["backup", "photos"], Lines(await swift.RunAsync("list")));
    }

    [Fact]
    public async Task Swift_client_uploads_downloads_and_deletes_static_and_dynamic_large_objects()
    {
        using var home = new TempDirectory();
        using var daemon = DaemonProcess.Start(home.Path, LocalMachine.FreePort());
        await daemon.WaitUntilReadyAsync();
        var swift = await SwiftCli.FromSwiftRcAsync(Path.Combine(home.Path, "swiftrc"));
        var original = Path.Combine(home.Path, "big.bin");
        await File.WriteAllBytesAsync(original, RandomNumberGenerator.GetBytes((3 * 1024 * 1024) + (512 * 1024)));

        // --object-name keeps the local path out of the object's name.
        await swift.RunAsync("upload", "--use-slo", "--segment-size", "1048576", "c", original, "--object-name", "big.bin");
        Assert.Equal(4, Lines(await swift.RunAsync("list", "c_segments")).Length);
        var downloaded = Path.Combine(home.Path, "slo-downloaded.bin");
        await swift.RunAsync("download", "c", "big.bin", "-o", downloaded);
        Assert.Equal(await File.ReadAllBytesAsync(original), await File.ReadAllBytesAsync(downloaded));
        var stat = await swift.RunAsync("stat", "c", "big.bin");
        Assert.Contains("Content Length: 3670016", stat, StringComparison.Ordinal);
        Assert.Contains("X-Static-Large-Object: True", stat, StringComparison.Ordinal);

        await swift.RunAsync("delete", "c", "big.bin");
        Assert.Empty(Lines(await swift.RunAsync("list", "c_segments")));
        Assert.Empty(Lines(await swift.RunAsync("list", "c")));

        await swift.RunAsync("upload", "--segment-size", "1048576", "d", original, "--object-name", "big.bin");
        Assert.Equal(4, Lines(await swift.RunAsync("list", "d_segments")).Length);
        var dlo = Path.Combine(home.Path, "dlo-downloaded.bin");
        await swift.RunAsync("download", "d", "big.bin", "-o", dlo);
        Assert.Equal(await File.ReadAllBytesAsync(original), await File.ReadAllBytesAsync(dlo));
        var dloStat = await swift.RunAsync("stat", "d", "big.bin");
        Assert.Contains("Manifest: d_segments/big.bin/", dloStat, StringComparison.Ordinal);
        Assert.Contains("Content Length: 3670016", dloStat, StringComparison.Ordinal);

        await swift.RunAsync("delete", "d", "big.bin");
        Assert.Empty(Lines(await swift.RunAsync("list", "d_segments")));
    }

    [Fact]
    public async Task Swift_client_with_a_wrong_key_is_refused()
    {
        using var home = new TempDirectory();
        using var daemon = DaemonProcess.Start(home.Path, LocalMachine.FreePort());
        await daemon.WaitUntilReadyAsync();
        var swift = await SwiftCli.FromSwiftRcAsync(Path.Combine(home.Path, "swiftrc"));

        var (exitCode, _, error) = await swift.TryRunAsync(["-K", "not-the-key", "stat"]);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("401", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Swift_client_temp_urls_read_objects_without_a_token_until_they_expire()
    {
        using var home = new TempDirectory();
        using var daemon = DaemonProcess.Start(home.Path, LocalMachine.FreePort());
        await daemon.WaitUntilReadyAsync();
        var swift = await SwiftCli.FromSwiftRcAsync(Path.Combine(home.Path, "swiftrc"));
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var original = Path.Combine(home.Path, "report.bin");
        await File.WriteAllBytesAsync(original, RandomNumberGenerator.GetBytes(200 * 1024));
        await swift.RunAsync("upload", "shared", original, "--object-name", "report.bin");
        await swift.RunAsync("post", "-m", $"Temp-URL-Key:{secret}");
        using var browser = new HttpClient { BaseAddress = daemon.Url };

        foreach (var digest in (string[])["sha1", "sha256", "sha512"])
        {
            var url = (await swift.RunAsync("tempurl", "--digest", digest, "GET", "3600", "/v1/AUTH_admin/shared/report.bin", secret)).Trim();
            using var response = await browser.GetAsync(url);
            Assert.True(response.IsSuccessStatusCode, $"{digest} temp URL {url} answered {(int)response.StatusCode}");
            Assert.Equal(await File.ReadAllBytesAsync(original), await response.Content.ReadAsByteArrayAsync());
        }

        var signed = (await swift.RunAsync("tempurl", "GET", "3600", "/v1/AUTH_admin/shared/report.bin", secret)).Trim();
        using var altered = await browser.GetAsync(signed.Replace("report.bin", "other.bin", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Unauthorized, altered.StatusCode);
        var past = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var expired = (await swift.RunAsync("tempurl", "--absolute", "GET", past, "/v1/AUTH_admin/shared/report.bin", secret)).Trim();
        using var refused = await browser.GetAsync(expired);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("401 Unauthorized: Temp URL invalid\n", await refused.Content.ReadAsStringAsync());
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>Runs the swift client with the credentials of a swiftrc file.</summary>
internal sealed class SwiftCli(IReadOnlyDictionary<string, string> environment)
{
    public static async Task<SwiftCli> FromSwiftRcAsync(string swiftRc)
    {
        var environment = new Dictionary<string, string>();
        foreach (var line in await File.ReadAllLinesAsync(swiftRc))
        {
            if (line.StartsWith("export ", StringComparison.Ordinal) && line.IndexOf('=', StringComparison.Ordinal) is var equals and > 0)
            {
                environment[line[7..equals]] = line[(equals + 1)..];
            }
        }

        Assert.True(environment.ContainsKey("ST_AUTH") && environment.ContainsKey("ST_USER") && environment.ContainsKey("ST_KEY"), $"{swiftRc} lacks ST_AUTH, ST_USER or ST_KEY");
        return new SwiftCli(environment);
    }

    public async Task<string> RunAsync(params string[] args)
    {
        var (exitCode, output, error) = await TryRunAsync(args);
        Assert.True(exitCode == 0, $"swift {string.Join(' ', args)} exited {exitCode}: {error}{output}");
        return output;
    }

    public async Task<(int ExitCode, string Output, string Error)> TryRunAsync(IEnumerable<string> args) =>
        await Executables.RunAsync("swift", args, environment);
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nimbus.TestSupport;

namespace Nimbus.Bench;

/// <summary>
/// Image upload and download through the Image API of a running nimbusd, beside a plain file copy
/// of the same bytes on the same disk (read, write, fsync) — the ceiling an image store can reach.
/// </summary>
internal static class ImagesBenchmark
{
    private const int BufferBytes = 1024 * 1024;

#pragma warning disable CA5351 // MD5 is Glance's checksum; the benchmark checks what comes back.
    public static async Task<int> RunAsync(string[] args)
    {
        var index = Array.IndexOf(args, "--gib");
        var gib = index >= 0 && index + 1 < args.Length ? double.Parse(args[index + 1], CultureInfo.InvariantCulture) : 1.0;
        var length = (long)(gib * 1024 * 1024 * 1024);
        var work = Directory.CreateTempSubdirectory("nimbus-bench-images-").FullName;
        try
        {
            var source = Path.Combine(work, "source.raw");
            Console.Error.WriteLine($"images: writing a {gib} GiB source file");
            var md5 = await WriteSourceAsync(source, length);

            Console.Error.WriteLine("images: plain file copy");
            var copySeconds = await TimeAsync(() => CopyAsync(source, Path.Combine(work, "copy.raw")));
            File.Delete(Path.Combine(work, "copy.raw"));

            Console.Error.WriteLine("images: starting nimbusd");
            var home = Path.Combine(work, "home");
            Directory.CreateDirectory(home);
            await using var nimbusd = await NimbusdProcess.StartAsync(LocalMachine.RepositoryRoot, home);
            var rc = OpenRc.Read(home);
            using var http = new HttpClient { BaseAddress = rc.ApiUrl, Timeout = TimeSpan.FromHours(1) };
            http.DefaultRequestHeaders.Add("X-Auth-Token", await rc.IssueTokenAsync(http));

            using var created = await http.PostAsJsonAsync("image/v2/images", new JsonObject { ["name"] = "bench", ["disk_format"] = "raw", ["container_format"] = "bare" });
            Require(created.StatusCode == HttpStatusCode.Created, $"image create answered {(int)created.StatusCode}");
            var id = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();

            Console.Error.WriteLine("images: upload");
            var uploadSeconds = await TimeAsync(async () =>
            {
                await using var file = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes, FileOptions.SequentialScan | FileOptions.Asynchronous);
                using var content = new StreamContent(file, BufferBytes);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                content.Headers.ContentLength = length;
                using var response = await http.PutAsync($"image/v2/images/{id}/file", content);
                Require(response.StatusCode == HttpStatusCode.NoContent, $"upload answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            });

            using (var shown = await http.GetAsync($"image/v2/images/{id}"))
            {
                var image = JsonNode.Parse(await shown.Content.ReadAsStringAsync())!;
                Require(image["status"]!.GetValue<string>() == "active", "the image is not active after its upload");
                Require(image["checksum"]!.GetValue<string>() == md5, "the image's checksum differs from the source's MD5");
            }

            Console.Error.WriteLine("images: download");
            var downloaded = Path.Combine(work, "downloaded.raw");
            var downloadSeconds = await TimeAsync(async () =>
            {
                using var response = await http.GetAsync($"image/v2/images/{id}/file", HttpCompletionOption.ResponseHeadersRead);
                Require(response.StatusCode == HttpStatusCode.OK, $"download answered {(int)response.StatusCode}");
                await using var body = await response.Content.ReadAsStreamAsync();
                await using var output = new FileStream(downloaded, FileMode.Create, FileAccess.Write, FileShare.None, BufferBytes, FileOptions.Asynchronous);
                await body.CopyToAsync(output, BufferBytes);
                await output.FlushAsync();
                output.Flush(flushToDisk: true);
            });
            Require(await Md5Async(downloaded) == md5, "the downloaded bytes differ from the source");

            var mib = length / (1024.0 * 1024.0);
            var copyRate = mib / copySeconds;
            var results = new JsonObject
            {
                ["benchmark"] = "images",
                ["machine"] = new JsonObject { ["cores"] = Environment.ProcessorCount, ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription },
                ["image_gib"] = gib,
                ["plain_copy_mib_s"] = Math.Round(copyRate, 1),
                ["upload_mib_s"] = Math.Round(mib / uploadSeconds, 1),
                ["download_mib_s"] = Math.Round(mib / downloadSeconds, 1),
                ["upload_vs_copy"] = Math.Round(mib / uploadSeconds / copyRate, 2),
                ["download_vs_copy"] = Math.Round(mib / downloadSeconds / copyRate, 2),
                ["notes"] = "plain copy: read the source, write a new file on the same disk, fsync; upload: PUT /image/v2/images/{id}/file (MD5 + SHA-512 computed, fsynced by the file store); download: GET …/file written to a file and fsynced",
            };
            Console.WriteLine(results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<string> WriteSourceAsync(string path, long length)
    {
        var block = RandomNumberGenerator.GetBytes(BufferBytes + 4093);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, BufferBytes, FileOptions.Asynchronous);
        for (long written = 0; written < length;)
        {
            var offset = (int)(written % 4093);
            var count = (int)Math.Min(BufferBytes, length - written);
            var chunk = block.AsMemory(offset, count);
            md5.AppendData(chunk.Span);
            await file.WriteAsync(chunk);
            written += count;
        }

        file.Flush(flushToDisk: true);
        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }

    private static async Task CopyAsync(string source, string destination)
    {
        await using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes, FileOptions.SequentialScan | FileOptions.Asynchronous);
        await using var output = new FileStream(destination, FileMode.Create, FileAccess.Write, FileShare.None, BufferBytes, FileOptions.Asynchronous);
        await input.CopyToAsync(output, BufferBytes);
        await output.FlushAsync();
        output.Flush(flushToDisk: true);
    }

    private static async Task<string> Md5Async(string path)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes, FileOptions.SequentialScan | FileOptions.Asynchronous);
        return Convert.ToHexStringLower(await MD5.HashDataAsync(file));
    }

    private static async Task<double> TimeAsync(Func<Task> work)
    {
        var watch = Stopwatch.StartNew();
        await work();
        return watch.Elapsed.TotalSeconds;
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Nimbus.TestSupport;

namespace Nimbus.Acceptance;

/// <summary>bin/nimbusd's object storage killed outright in the middle of uploads, then started again.</summary>
public sealed class ObjectStorageFaultTests
{
    private const int ObjectBytes = 256 * 1024;

    [Fact]
    public async Task Kill_9_during_uploads_loses_no_acknowledged_object_and_lists_no_partial_one()
    {
        using var home = new TempDirectory();
        var acknowledged = new ConcurrentBag<string>();
        using (var daemon = DaemonProcess.Start(home.Path, LocalMachine.FreePort()))
        {
            await daemon.WaitUntilReadyAsync();
            using var http = await LoginAsync(home.Path);
            using (var container = await http.PutAsync("uploads", null))
            {
                Assert.Equal(HttpStatusCode.Created, container.StatusCode);
            }

            using var stop = new CancellationTokenSource();
            var uploaders = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var name = $"w{worker}-{i:D5}";
                    try
                    {
                        using var content = new ByteArrayContent(ContentOf(name));
                        using var response = await http.PutAsync($"uploads/{name}", content, stop.Token);
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            acknowledged.Add(name);
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
                    {
                        return;
                    }
                }
            })).ToList();

            while (acknowledged.Count < 40)
            {
                await Task.Delay(50);
            }

            daemon.Process.Kill();
            await daemon.Process.WaitForExitAsync();
            await stop.CancelAsync();
            await Task.WhenAll(uploaders);
        }

        using var successor = DaemonProcess.Start(home.Path, LocalMachine.FreePort());
        await successor.WaitUntilReadyAsync();
        using var client = await LoginAsync(home.Path);

        foreach (var name in acknowledged)
        {
            var body = await client.GetByteArrayAsync($"uploads/{name}");
            Assert.True(ContentOf(name).AsSpan().SequenceEqual(body), $"acknowledged object {name} did not read back intact");
        }

        using var listing = JsonDocument.Parse(await client.GetStringAsync("uploads?format=json"));
        var listed = listing.RootElement.EnumerateArray().Select(e => (Name: e.GetProperty("name").GetString()!, Bytes: e.GetProperty("bytes").GetInt64())).ToList();
        Assert.All(listed, entry => Assert.Equal(ObjectBytes, entry.Bytes));
        foreach (var (name, _) in listed)
        {
            var body = await client.GetByteArrayAsync($"uploads/{name}");
            Assert.True(ContentOf(name).AsSpan().SequenceEqual(body), $"listed object {name} is not whole");
        }
    }

    /// <summary>An object's bytes follow from its name, so any copy can be checked without keeping it.</summary>
    private static byte[] ContentOf(string name)
    {
        var content = new byte[ObjectBytes];
        new Random(BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(name)))).NextBytes(content);
        return content;
    }

    /// <summary>A client for the admin account of a daemon's swiftrc, its base address the storage URL.</summary>
    private static async Task<HttpClient> LoginAsync(string home)
    {
        var rc = (await File.ReadAllLinesAsync(Path.Combine(home, "swiftrc")))
            .Where(l => l.StartsWith("export ", StringComparison.Ordinal))
            .Select(l => l[7..].Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);
        using var auth = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, rc["ST_AUTH"]);
        request.Headers.Add("X-Auth-User", rc["ST_USER"]);
        request.Headers.Add("X-Auth-Key", rc["ST_KEY"]);
        using var response = await auth.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var client = new HttpClient { BaseAddress = new Uri(response.Headers.GetValues("X-Storage-Url").Single() + "/") };
        client.DefaultRequestHeaders.Add("X-Auth-Token", response.Headers.GetValues("X-Auth-Token").Single());
        return client;
    }
}

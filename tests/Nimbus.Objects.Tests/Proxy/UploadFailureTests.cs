using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Nimbus.Objects.Servers;

namespace Nimbus.Objects.Tests.Proxy;

/// <summary>
/// Uploads whose replicas fail part way: nothing partial is ever committed, the object that was
/// there stays what reads return, and replicas that stored different bytes are not a success.
/// </summary>
public sealed class UploadFailureTests : IAsyncLifetime
{
    private const string Container = "c";
    private const string Name = "o";

    private TestCluster _cluster = null!;

    // A short node timeout, so a replica that stops taking the body is given up on soon.
    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(settings => settings with { NodeTimeout = TimeSpan.FromSeconds(2) });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public async Task An_upload_that_loses_its_quorum_mid_body_leaves_the_old_object(bool chunked, bool stall)
    {
        var old = RandomNumberGenerator.GetBytes(100_000);
        Assert.Equal(HttpStatusCode.Created, await _cluster.PutContainerAsync(Container));
        using (var first = await _cluster.PutObjectAsync(Container, Name, old))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        // Two of the three primaries take the first bytes of the new body, then drop the connection
        // or stop reading until the proxy gives up on them.
        var dying = PrimaryNodes().Take(2).ToList();
        var fakes = new List<WebApplication>();
        foreach (var node in dying)
        {
            await node.StopAsync(CancellationToken.None);
            fakes.Add(await StartFakeNodeAsync(node.Settings.Port, async context =>
            {
                var buffer = new byte[64 * 1024];
                var total = 0;
                while (total < buffer.Length && await context.Request.Body.ReadAsync(buffer.AsMemory(total)) is var read and > 0)
                {
                    total += read;
                }

                if (!stall)
                {
                    context.Abort();
                    return;
                }

                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    // The proxy dropped this replica.
                }
            }));
        }

        // Larger than the proxy's buffer and the loopback socket buffers together, so a stalled replica blocks the
        // upload; under the host's 30 MB request limit.
        var body = RandomNumberGenerator.GetBytes(24 * 1024 * 1024);
        using var put = new HttpRequestMessage(HttpMethod.Put, TestCluster.PathOf(Container, Name)) { Content = new StreamContent(new MemoryStream(body)) };
        put.Content.Headers.ContentLength = chunked ? null : body.Length;
        using var response = await _cluster.Http.SendAsync(put);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        foreach (var fake in fakes)
        {
            await fake.DisposeAsync();
        }

        foreach (var node in dying)
        {
            await node.StartAsync(CancellationToken.None);
        }

        // Every copy on disk, the surviving replica's included, is still the old object.
        Assert.All(_cluster.DataFiles(), file => Assert.Equal(old.Length, new FileInfo(file).Length));
        foreach (var node in PrimaryNodes())
        {
            using var direct = await DirectGetAsync(node);
            Assert.Equal(old, await direct.Content.ReadAsByteArrayAsync());
        }

        using var get = await _cluster.SendAsync(HttpMethod.Get, TestCluster.PathOf(Container, Name));
        Assert.Equal(old, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Replicas_that_store_different_bytes_fail_the_upload_with_500()
    {
        Assert.Equal(HttpStatusCode.Created, await _cluster.PutContainerAsync(Container));
        // Two primaries answer 201 with etags of their own: whichever two answer first disagree.
        var liars = PrimaryNodes().Take(2).ToList();
        var fakes = new List<WebApplication>();
        foreach (var (node, etag) in liars.Zip(["0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"]))
        {
            await node.StopAsync(CancellationToken.None);
            fakes.Add(await StartFakeNodeAsync(node.Settings.Port, async context =>
            {
                await context.Request.Body.CopyToAsync(Stream.Null);
                context.Response.StatusCode = StatusCodes.Status201Created;
                context.Response.Headers.ETag = etag;
            }));
        }

        try
        {
            using var put = await _cluster.PutObjectAsync(Container, Name, Encoding.UTF8.GetBytes("content"));

            Assert.Equal(HttpStatusCode.InternalServerError, put.StatusCode);
        }
        finally
        {
            foreach (var fake in fakes)
            {
                await fake.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task An_object_server_commits_no_chunked_body_that_ends_without_its_last_chunk()
    {
        var node = PrimaryNodes().First();
        var ring = _cluster.Cluster.Rings.Objects;
        var partition = ring.GetPartition(TestCluster.Account, Container, Name);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, node.Settings.Port);
        await using var stream = client.GetStream();
        var head = $"PUT /object/{Nimbus.Objects.Cluster.LocalCluster.DeviceName}/{partition}/{TestCluster.Account}/{Container}/{Name} HTTP/1.1\r\n"
            + "Host: localhost\r\nX-Timestamp: 1795450000.00000\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5\r\nhello\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.FlushAsync();
        // The connection ends where the terminating "0\r\n\r\n" should have come.
        client.Client.Shutdown(SocketShutdown.Send);
        var answer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(answer) > 0)
            {
            }
        }
        catch (IOException)
        {
            // Kestrel may reset the connection of a request whose body broke off, once it has answered.
        }

        using var read = await DirectGetAsync(node);
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Empty(_cluster.DataFiles());
    }

    /// <summary>The storage nodes holding the object's primary replicas, in ring order.</summary>
    private IEnumerable<StorageNodeHost> PrimaryNodes()
    {
        var ring = _cluster.Cluster.Rings.Objects;
        var partition = ring.GetPartition(TestCluster.Account, Container, Name);
        return ring.GetPrimaryNodes(partition).Select(device => _cluster.Cluster.Nodes.Single(n => n.Settings.Port == device.Port));
    }

    private async Task<HttpResponseMessage> DirectGetAsync(StorageNodeHost node)
    {
        var partition = _cluster.Cluster.Rings.Objects.GetPartition(TestCluster.Account, Container, Name);
        using var http = new HttpClient();
        return await http.GetAsync($"{node.Url}/object/{Nimbus.Objects.Cluster.LocalCluster.DeviceName}/{partition}/{TestCluster.Account}/{Container}/{Name}");
    }

    /// <summary>A stand-in for a storage node on its port, answering every request with <paramref name="handler"/>.</summary>
    private static async Task<WebApplication> StartFakeNodeAsync(int port, RequestDelegate handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync();
        return app;
    }
}

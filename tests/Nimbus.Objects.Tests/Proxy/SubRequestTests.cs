using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Tests.Proxy;

public sealed class SubRequestTests
{
    [Fact]
    public async Task Streams_a_large_body_back_with_status_and_headers()
    {
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)7);
        async Task Handler(HttpContext context)
        {
            context.Response.StatusCode = 200;
            context.Response.Headers["X-Object-Meta-Seen"] = context.Request.Headers["X-Probe"].ToString();
            for (var i = 0; i < 64; i++)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
            }
        }

        await using var response = await SubRequest.SendAsync(new DefaultHttpContext(), Handler, "GET", "/v1/AUTH_a/c/o", [new("X-Probe", "yes")]);
        Assert.Equal(200, response.Status);
        Assert.Equal("yes", response.Headers["X-Object-Meta-Seen"].ToString());
        var total = 0L;
        var buffer = new byte[100_000];
        int read;
        while ((read = await response.Body.ReadAsync(buffer)) > 0)
        {
            Assert.All(buffer.AsSpan(0, read).ToArray(), b => Assert.Equal(7, b));
            total += read;
        }

        Assert.Equal(64L * chunk.Length, total);
    }

    [Fact]
    public async Task A_handler_that_writes_no_body_still_gives_its_status()
    {
        static Task Handler(HttpContext context)
        {
            context.Response.StatusCode = 404;
            return Task.CompletedTask;
        }

        await using var response = await SubRequest.SendAsync(new DefaultHttpContext(), Handler, "HEAD", "/v1/AUTH_a/c/missing");
        Assert.Equal(404, response.Status);
        Assert.Equal(string.Empty, await response.ReadTextAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Disposing_before_the_end_stops_the_handler()
    {
        var stopped = new TaskCompletionSource();
        async Task Handler(HttpContext context)
        {
            try
            {
                while (true)
                {
                    await context.Response.Body.WriteAsync(new byte[64 * 1024], context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
                stopped.SetResult();
                throw;
            }
        }

        var response = await SubRequest.SendAsync(new DefaultHttpContext(), Handler, "GET", "/v1/AUTH_a/c/endless");
        await response.Body.ReadExactlyAsync(new byte[1000]);
        await response.DisposeAsync();

        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }
}

using System.Net;

namespace Nimbus.Bench;

/// <summary>
/// The floor for /healthz: bare Kestrel answering a JSON body of the same size from a minimal API,
/// without Nimbus's middleware. Run as its own process, like nimbusd.
/// </summary>
internal static class BaselineServer
{
    public const string Command = "serve-baseline";

    public static async Task<int> RunAsync(string[] args)
    {
        var port = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, port);
        });
        var app = builder.Build();
        const string body = """{"status":"ok","version":"0.1.0","role":"all","started_at":"2026-01-01T00:00:00+00:00","uptime_seconds":1.0,"services":{"api":{"state":"running"}}}""";
        app.MapGet("/healthz", () => Results.Text(body, "application/json"));
        await app.RunAsync();
        return 0;
    }
}

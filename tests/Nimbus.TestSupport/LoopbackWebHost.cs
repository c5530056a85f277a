using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Nimbus.TestSupport;

/// <summary>
/// The web host component tests put a service on: a slim host on a free loopback port, logging off,
/// and Latin-1 header encodings as nimbusd sets them (Swift's metadata headers carry UTF-8 bytes).
/// </summary>
public static class LoopbackWebHost
{
    public static WebApplicationBuilder CreateBuilder()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.RequestHeaderEncodingSelector = _ => Encoding.Latin1;
            kestrel.ResponseHeaderEncodingSelector = _ => Encoding.Latin1;
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        return builder;
    }

    /// <summary>Where a started host listens.</summary>
    public static Uri UrlOf(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return new Uri(app.Urls.First());
    }
}

using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>The proxy's CORS options, as Swift's [app:proxy-server] cors_allow_origin, cors_expose_headers and strict_cors_mode.</summary>
public sealed record CorsSettings
{
    /// <summary>Origins allowed on every container, besides each container's own.</summary>
    public IReadOnlyList<string> AllowOrigin { get; init; } = [];

    /// <summary>Headers exposed on every response, besides Swift's defaults.</summary>
    public IReadOnlyList<string> ExposeHeaders { get; init; } = [];

    /// <summary>Only answer with CORS headers when the origin is allowed (Swift's default).</summary>
    public bool StrictMode { get; init; } = true;
}

/// <summary>
/// Cross-origin resource sharing for containers and objects, from the container's
/// X-Container-Meta-Access-Control-Allow-Origin, -Max-Age and -Expose-Headers. Swift does this
/// inside the proxy-server app (swift/proxy/controllers/base.py: the controllers' OPTIONS and the
/// cors_validation decorator); here it is a filter placed before the auth filter, because a
/// browser's preflight OPTIONS carries no token and Swift's tempauth lets OPTIONS through.
/// </summary>
public sealed class Cors(ProxyServer proxy, CorsSettings settings) : IProxyMiddleware
{
    /// <summary>The public methods of Swift's account, container and object controllers.</summary>
    private const string AllowedMethods = "DELETE, GET, HEAD, OPTIONS, POST, PUT";

    private static readonly HashSet<string> Methods = new(AllowedMethods.Split(", "), StringComparer.Ordinal);

    /// <summary>CORS simple response headers plus Swift's own, exposed on every CORS response.</summary>
    private static readonly string[] DefaultExposeHeaders =
    [
        "cache-control", "content-language", "content-type", "expires", "last-modified", "pragma", "etag",
        "x-timestamp", "x-trans-id", "x-openstack-request-id",
    ];

    public string Name => "cors";

    public async Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        var swift = SwiftContext.Get(context);
        if (swift is null)
        {
            await downstream(context);
            return;
        }

        if (HttpMethods.IsOptions(context.Request.Method))
        {
            await OptionsAsync(context, swift);
            return;
        }

        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0 || swift.Container is null)
        {
            // Not a CORS request, or an account, where Swift answers none.
            await downstream(context);
            return;
        }

        var info = await proxy.GetContainerInfoAsync(swift.Account, swift.Container, context.RequestAborted);
        context.Response.OnStarting(() =>
        {
            AddResponseHeaders(context, swift, info, origin);
            return Task.CompletedTask;
        });
        await downstream(context);
    }

    /// <summary>OPTIONS: the allowed methods, and for a preflight (with Origin) the CORS answer or 401.</summary>
    private async Task OptionsAsync(HttpContext context, SwiftContext swift)
    {
        var headers = context.Response.Headers;
        headers.Allow = AllowedMethods;
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0 || swift.Container is null)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status200OK);
            return;
        }

        var info = await proxy.GetContainerInfoAsync(swift.Account, swift.Container, context.RequestAborted);
        var allowOrigin = info.Meta("Access-Control-Allow-Origin");
        if (!IsOriginAllowed(allowOrigin, origin) || !Methods.Contains(context.Request.Headers.AccessControlRequestMethod.ToString()))
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status401Unauthorized);
            return;
        }

        var vary = new List<string>();
        if (allowOrigin.Trim() == "*")
        {
            headers.AccessControlAllowOrigin = "*";
        }
        else
        {
            headers.AccessControlAllowOrigin = origin;
            vary.Add("Origin");
        }

        if (info.Headers.TryGetValue("X-Container-Meta-Access-Control-Max-Age", out var maxAge))
        {
            headers.AccessControlMaxAge = maxAge;
        }

        headers.AccessControlAllowMethods = AllowedMethods;

        // Every requested header is allowed, as Swift does (the CORS spec leaves that open).
        var requested = context.Request.Headers.AccessControlRequestHeaders.ToString()
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (requested.Count > 0)
        {
            headers.AccessControlAllowHeaders = string.Join(", ", requested);
            vary.Add("Access-Control-Request-Headers");
        }

        if (vary.Count > 0)
        {
            headers.Vary = string.Join(", ", vary);
        }

        await SwiftResponse.WriteAsync(context, StatusCodes.Status200OK);
    }

    /// <summary>Swift's cors_validation: exposes headers and allows the origin on an actual CORS request's response.</summary>
    private void AddResponseHeaders(HttpContext context, SwiftContext swift, ContainerInfo info, string origin)
    {
        var response = context.Response;
        if (swift.ObjectName is null && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method)
            && response.StatusCode is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden)
        {
            // Swift refuses container writes before the controller's CORS handling runs.
            return;
        }

        var allowOrigin = info.Meta("Access-Control-Allow-Origin");
        if (settings.StrictMode && !IsOriginAllowed(allowOrigin, origin))
        {
            return;
        }

        var headers = response.Headers;
        if (!headers.ContainsKey("Access-Control-Expose-Headers"))
        {
            var expose = new List<string>(DefaultExposeHeaders);
            expose.AddRange(settings.ExposeHeaders);
            expose.AddRange(headers.Keys
                .Where(h => h.StartsWith("X-Container-Meta", StringComparison.OrdinalIgnoreCase) || h.StartsWith("X-Object-Meta", StringComparison.OrdinalIgnoreCase))
                .Select(h => h.ToLowerInvariant()));
            expose.AddRange(info.Meta("Access-Control-Expose-Headers")
                .Split(' ', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(h => h.ToLowerInvariant()));
            headers.AccessControlExposeHeaders = string.Join(", ", expose.Distinct(StringComparer.Ordinal));
        }

        if (!headers.ContainsKey("Access-Control-Allow-Origin"))
        {
            if (allowOrigin.Trim() == "*")
            {
                headers.AccessControlAllowOrigin = "*";
            }
            else
            {
                headers.AccessControlAllowOrigin = origin;
                headers.Vary = headers.Vary.Count > 0 ? headers.Vary + ", Origin" : "Origin";
            }
        }
    }

    /// <summary>Whether the origin is in the container's space-separated list or the operator's, or either allows "*".</summary>
    private bool IsOriginAllowed(string containerOrigins, string origin)
    {
        var allowed = containerOrigins.Split(' ', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Concat(settings.AllowOrigin);
        return allowed.Any(a => a == origin || a == "*");
    }
}

using System.Globalization;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Http;

namespace Nimbus.Objects.Proxy;

/// <summary>One filter of the proxy pipeline, as a Swift paste filter: it may answer, or pass the request on.</summary>
public interface IProxyMiddleware
{
    /// <summary>The name the pipeline declares it by ("tempauth", "healthcheck"…).</summary>
    string Name { get; }

    Task InvokeAsync(HttpContext context, RequestDelegate downstream);
}

/// <summary>
/// The proxy's middleware pipeline, declared in one place as Swift's
/// <c>[pipeline:main] pipeline = …</c>: an ordered list of filter names ending in proxy-server.
/// </summary>
public static class ProxyPipeline
{
    public const string ProxyServerName = "proxy-server";

    /// <summary>
    /// The default order; each filter sits where Swift's proxy-server.conf-sample puts it. cors
    /// stands for what Swift's proxy-server app does itself, ahead of auth so that a preflight
    /// needs no token; staticweb follows the auth filters, whose authorization it uses. keystoneauth
    /// accepts Identity tokens where tempauth accepts its own.
    /// </summary>
    public const string DefaultPipeline = "catch_errors healthcheck cors bulk tempurl formpost ratelimit tempauth keystoneauth staticweb container-quotas account-quotas slo dlo versioned_writes proxy-server";

    /// <summary>
    /// Requests the pipeline answers on the API host: the Swift API, v1 auth, capabilities and the
    /// health check. Decided on the raw path, as the pipeline parses it: the decoded path has its
    /// dot segments resolved, so "/v1/../identity/…" would otherwise come here and "/x/../v1/…" not.
    /// </summary>
    public static bool Handles(HttpContext context)
    {
        var path = SwiftPath.RawPath(context);
        return StartsWithSegment(path, "/v1")
            || StartsWithSegment(path, "/v1.0")
            || StartsWithSegment(path, "/auth")
            || path is "/info" or "/healthcheck";
    }

    private static bool StartsWithSegment(string path, string prefix) =>
        path.StartsWith(prefix, StringComparison.Ordinal) && (path.Length == prefix.Length || path[prefix.Length] == '/');

    /// <summary>Builds the pipeline; unknown names and a pipeline that does not end in proxy-server are refused.</summary>
    public static RequestDelegate Build(string pipeline, IEnumerable<IProxyMiddleware> available, ProxyServer proxy, SwiftInfo info)
    {
        var names = pipeline.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var byName = available.ToDictionary(m => m.Name, StringComparer.Ordinal);
        if (names.Length == 0 || names[^1] != ProxyServerName)
        {
            throw new ArgumentException($"the proxy pipeline must end in '{ProxyServerName}'; it is '{pipeline}'.", nameof(pipeline));
        }

        foreach (var name in names[..^1])
        {
            if (!byName.ContainsKey(name))
            {
                throw new ArgumentException($"the proxy pipeline names '{name}', which is not a filter here; the filters are: {string.Join(", ", byName.Keys.Order(StringComparer.Ordinal))}.", nameof(pipeline));
            }
        }

        RequestDelegate app = context => Terminal(context, proxy, info);
        foreach (var name in names[..^1].Reverse())
        {
            var middleware = byName[name];
            var next = app;
            app = context => middleware.InvokeAsync(context, next);
        }

        return context =>
        {
            ParsePath(context);
            proxy.Attach(context);
            return app(context);
        };
    }

    private static Task Terminal(HttpContext context, ProxyServer proxy, SwiftInfo info)
    {
        if (SwiftPath.RawPath(context) == "/info")
        {
            return info.WriteAsync(context);
        }

        return proxy.HandleAsync(context);
    }

    /// <summary>Reads /v1/{account}[/{container}[/{object}]] into the request's SwiftContext, as Swift's environ.</summary>
    internal static void ParsePath(HttpContext context)
    {
        var rawPath = SwiftPath.RawPath(context);
        if (!rawPath.StartsWith("/v1/", StringComparison.Ordinal) && !rawPath.StartsWith("/v1.0/", StringComparison.Ordinal))
        {
            return;
        }

        if (SwiftPath.TrySplit(rawPath, 2, 4, out var parts, out var error))
        {
            SwiftContext.Set(context, new SwiftContext { Version = parts[0]!, Account = parts[1]!, Container = parts[2], ObjectName = parts[3] });
        }
        else
        {
            context.Items[PathErrorKey] = error;
        }
    }

    /// <summary>Why a /v1 path could not be parsed, for the proxy's 412.</summary>
    internal static readonly object PathErrorKey = new();

    /// <summary>Swift's transaction id: "tx", 21 hex digits, "-", the time in hex.</summary>
    public static string NewTransactionId(TimeProvider time) =>
        "tx" + Guid.NewGuid().ToString("N")[..21] + "-" + time.GetUtcNow().ToUnixTimeSeconds().ToString("x10", CultureInfo.InvariantCulture);
}

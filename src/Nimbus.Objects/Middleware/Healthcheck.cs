using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>Swift's healthcheck: GET /healthcheck answers "OK" while the proxy runs.</summary>
public sealed class Healthcheck : IProxyMiddleware
{
    private static readonly byte[] OkBody = "OK"u8.ToArray();

    public string Name => "healthcheck";

    public Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        if (SwiftPath.RawPath(context) != "/healthcheck")
        {
            return downstream(context);
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain";
        context.Response.ContentLength = OkBody.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(OkBody, context.RequestAborted).AsTask();
    }
}

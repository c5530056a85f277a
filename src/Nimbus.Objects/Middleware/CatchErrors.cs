using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>
/// Swift's catch_errors: gives every request a transaction id (X-Trans-Id, also as
/// X-Openstack-Request-Id) and turns an unexpected failure into a 500 instead of a dropped connection.
/// </summary>
public sealed class CatchErrors(TimeProvider time, ILogger logger) : IProxyMiddleware
{
    public string Name => "catch_errors";

    public async Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        var transactionId = context.Request.Headers["X-Trans-Id-Extra"].Count > 0
            ? ProxyPipeline.NewTransactionId(time) + "-" + context.Request.Headers["X-Trans-Id-Extra"].ToString()[..Math.Min(32, context.Request.Headers["X-Trans-Id-Extra"].ToString().Length)]
            : ProxyPipeline.NewTransactionId(time);
        context.Response.Headers["X-Trans-Id"] = transactionId;
        context.Response.Headers["X-Openstack-Request-Id"] = transactionId;
        try
        {
            await downstream(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is no one to answer.
        }
        catch (Exception ex)
        {
            ObjectsLog.ProxyFailed(logger, context.Request.Method, context.Request.Path.Value ?? "/", ex);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                context.Response.Headers["X-Trans-Id"] = transactionId;
                context.Response.Headers["X-Openstack-Request-Id"] = transactionId;
                await SwiftResponse.WriteAsync(context, StatusCodes.Status500InternalServerError);
            }
            else
            {
                context.Abort();
            }
        }
    }
}

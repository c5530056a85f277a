using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>
/// Swift's container_quotas (swift/common/middleware/container_quotas.py): a container's
/// X-Container-Meta-Quota-Bytes and X-Container-Meta-Quota-Count cap what object PUTs and copies
/// may add to it. The check reads the container's stats, which lag a write that is in flight, so
/// concurrent uploads may overshoot slightly, as in Swift.
/// </summary>
public sealed class ContainerQuotas : IProxyMiddleware
{
    public ContainerQuotas(SwiftInfo info) => info.Register("container_quotas", new JsonObject());

    public string Name => "container-quotas";

    public async Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        var swift = SwiftContext.Get(context);
        var request = context.Request;
        if (swift?.Container is null)
        {
            await downstream(context);
            return;
        }

        if (swift.ObjectName is null)
        {
            if (HttpMethods.IsPut(request.Method) || HttpMethods.IsPost(request.Method))
            {
                if (request.Headers["X-Container-Meta-Quota-Bytes"].ToString() is { Length: > 0 } bytes && !QuotaUpload.IsDigits(bytes))
                {
                    await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "Invalid bytes quota.");
                    return;
                }

                if (request.Headers["X-Container-Meta-Quota-Count"].ToString() is { Length: > 0 } count && !QuotaUpload.IsDigits(count))
                {
                    await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "Invalid count quota.");
                    return;
                }
            }

            await downstream(context);
            return;
        }

        if (await QuotaUpload.ResolveAsync(context, swift, downstream) is not { } upload)
        {
            await downstream(context);
            return;
        }

        var containerPath = $"/{SwiftPath.Encode(swift.Version)}/{SwiftPath.Encode(swift.Account)}/{SwiftPath.Encode(upload.Container)}";
        var (found, headers) = await QuotaUpload.HeadAsync(context, downstream, containerPath);
        if (!found)
        {
            // The proxy answers for a missing container.
            await downstream(context);
            return;
        }

        if (headers["X-Container-Meta-Quota-Bytes"].Count == 0 && headers["X-Container-Meta-Quota-Count"].Count == 0)
        {
            // No quota here: the cached info said so, and uploads pay no further lookup.
            await downstream(context);
            return;
        }

        (found, headers) = await QuotaUpload.HeadAsync(context, downstream, containerPath, fresh: true);

        if (Exceeds(headers["X-Container-Meta-Quota-Bytes"].ToString(), headers["X-Container-Bytes-Used"].ToString(), upload.Length)
            || Exceeds(headers["X-Container-Meta-Quota-Count"].ToString(), headers["X-Container-Object-Count"].ToString(), 1))
        {
            await QuotaUpload.RefuseAsync(context, swift, headers["X-Container-Write"].ToString(), "Upload exceeds quota.");
            return;
        }

        await downstream(context);
    }

    /// <summary>Whether <paramref name="used"/> plus <paramref name="adding"/> passes a quota of ASCII digits; anything else is no quota.</summary>
    private static bool Exceeds(string quota, string used, long adding)
    {
        if (!QuotaUpload.IsDigits(quota) || QuotaUpload.ParseInteger(used) is not { } current)
        {
            return false;
        }

        // A quota too large for a long cannot be reached.
        return long.TryParse(quota, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit) && limit < current + adding;
    }
}

using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>
/// Swift's account_quotas (swift/common/middleware/account_quotas.py): X-Account-Meta-Quota-Bytes,
/// which only a reseller admin may set or remove, caps the bytes an account's object PUTs and
/// copies may add. Account stats come from the container updater, so the cap follows writes by
/// about a second, as in Swift; reseller admins are never limited.
/// </summary>
public sealed class AccountQuotas : IProxyMiddleware
{
    private const string QuotaHeader = "X-Account-Meta-Quota-Bytes";
    private const string RemoveQuotaHeader = "X-Remove-Account-Meta-Quota-Bytes";

    public AccountQuotas(SwiftInfo info) => info.Register("account_quotas", new JsonObject());

    public string Name => "account-quotas";

    public async Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        var swift = SwiftContext.Get(context);
        if (swift is null)
        {
            await downstream(context);
            return;
        }

        var reseller = swift.Identity?.IsResellerAdmin == true;
        if (swift.Container is null)
        {
            if (HttpMethods.IsPost(context.Request.Method) || HttpMethods.IsPut(context.Request.Method))
            {
                var headers = context.Request.Headers;
                var removing = headers[RemoveQuotaHeader].ToString().Length > 0;
                var setting = headers.TryGetValue(QuotaHeader, out var value);
                var quota = removing ? "0" : value.ToString();
                if (!reseller && (setting || removing))
                {
                    await SwiftResponse.WriteAsync(context, StatusCodes.Status403Forbidden);
                    return;
                }

                if (reseller && quota.Length > 0 && !QuotaUpload.IsDigits(quota))
                {
                    await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest);
                    return;
                }
            }

            await downstream(context);
            return;
        }

        if (reseller || await QuotaUpload.ResolveAsync(context, swift, downstream) is not { } upload)
        {
            await downstream(context);
            return;
        }

        var accountPath = $"/{SwiftPath.Encode(swift.Version)}/{SwiftPath.Encode(swift.Account)}";
        var (found, account) = await QuotaUpload.HeadAsync(context, downstream, accountPath);
        if (found && account[QuotaHeader].Count > 0)
        {
            // A quota is set: judge the upload against the account's current stats, not cached ones.
            (found, account) = await QuotaUpload.HeadAsync(context, downstream, accountPath, fresh: true);
        }

        var limit = found ? QuotaUpload.ParseInteger(account[QuotaHeader].ToString()) ?? -1 : -1;
        if (limit >= 0 && limit < (QuotaUpload.ParseInteger(account["X-Account-Bytes-Used"].ToString()) ?? 0) + upload.Length)
        {
            var (_, container) = await QuotaUpload.HeadAsync(context, downstream, $"{accountPath}/{SwiftPath.Encode(upload.Container)}");
            await QuotaUpload.RefuseAsync(context, swift, container["X-Container-Write"].ToString(), "Upload exceeds quota.");
            return;
        }

        await downstream(context);
    }
}

using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Common;
using Nimbus.Objects.Databases;
using Nimbus.Objects.Http;

namespace Nimbus.Objects.Proxy;

public sealed partial class ProxyServer
{
    private async Task HandleAccountAsync(HttpContext context, SwiftContext swift)
    {
        var method = context.Request.Method;
        if (swift.Check(context, AccessControl.None) is { } refusal)
        {
            await SwiftResponse.WriteAsync(context, refusal);
            return;
        }

        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method))
        {
            await GetAccountAsync(context, swift);
        }
        else if (HttpMethods.IsPost(method))
        {
            await PostAccountAsync(context, swift);
        }
        else
        {
            // Swift's allow_account_management is off: accounts come and go through the auth system.
            context.Response.Headers.Allow = "HEAD, GET, POST";
            await SwiftResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed);
        }
    }

    private async Task GetAccountAsync(HttpContext context, SwiftContext swift)
    {
        var ring = _rings.Accounts;
        var partition = ring.GetPartition(swift.Account);
        var response = await ReadFromReplicasAsync(context, ring, partition, "account", BackendPath(swift.Account), ForwardedHeaders(context.Request, name => name.Equals("Accept", StringComparison.OrdinalIgnoreCase)));
        if (response is null)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable);
            return;
        }

        if (response.StatusCode == System.Net.HttpStatusCode.NotFound && _settings.AccountAutocreate)
        {
            response.Dispose();
            await WriteEmptyAccountAsync(context, swift.Account);
            return;
        }

        await RelayAsync(context, response);
    }

    /// <summary>A missing account reads as an empty one when accounts are created on first use, as Swift's proxy answers.</summary>
    private async Task WriteEmptyAccountAsync(HttpContext context, string account)
    {
        if (!ListingRequest.TryParse(context.Request, Constraints.AccountListingLimit, out _, out var format, out var refusal))
        {
            await SwiftResponse.WriteAsync(context, refusal.Status, refusal.Message);
            return;
        }

        var headers = context.Response.Headers;
        headers["X-Account-Container-Count"] = "0";
        headers["X-Account-Object-Count"] = "0";
        headers["X-Account-Bytes-Used"] = "0";
        headers["X-Timestamp"] = SwiftTimestamp.Now(_time).Normal;
        headers["X-Put-Timestamp"] = headers["X-Timestamp"];
        context.Response.ContentType = ListingRequest.ContentType(format);
        if (HttpMethods.IsHead(context.Request.Method) || format == ListingFormat.Plain)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status204NoContent);
            return;
        }

        var body = ListingFormatter.FormatAccountListing(account, [], format);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    private async Task PostAccountAsync(HttpContext context, SwiftContext swift)
    {
        if (Constraints.CheckMetadata(context.Request.Headers, "account") is { } problem)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, problem);
            return;
        }

        if (!await EnsureAccountAsync(swift.Account, context.RequestAborted))
        {
            await SwiftResponse.WriteAsync(context, _settings.AccountAutocreate ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status404NotFound);
            return;
        }

        var ring = _rings.Accounts;
        var partition = ring.GetPartition(swift.Account);
        var headers = TimestampHeaders(SwiftTimestamp.Now(_time));
        headers.AddRange(ForwardedHeaders(context.Request, IsAccountMetadataHeader));
        var statuses = await FanOutAsync(ring, partition, "account", HttpMethod.Post, BackendPath(swift.Account), _ => headers, context.RequestAborted);
        ForgetInfo(AccountKey(swift.Account));
        await SwiftResponse.WriteAsync(context, BestStatus(statuses, Quorum(statuses.Count)));
    }

    private static bool IsAccountMetadataHeader(string name) =>
        name.StartsWith("X-Account-Meta-", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("X-Remove-Account-Meta-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("X-Account-Access-Control", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when the account exists, creating it first when accounts are created on first use.</summary>
    private async Task<bool> EnsureAccountAsync(string account, CancellationToken cancellationToken)
    {
        var ring = _rings.Accounts;
        var partition = ring.GetPartition(account);
        var info = await GetInfoAsync(AccountKey(account), ring, partition, "account", BackendPath(account), cancellationToken);
        if (info.Status is >= 200 and < 300)
        {
            return true;
        }

        if (info.Status != StatusCodes.Status404NotFound || !_settings.AccountAutocreate)
        {
            return false;
        }

        var headers = TimestampHeaders(SwiftTimestamp.Now(_time));
        var statuses = await FanOutAsync(ring, partition, "account", HttpMethod.Put, BackendPath(account), _ => headers, cancellationToken);
        ForgetInfo(AccountKey(account));
        var created = BestStatus(statuses, Quorum(statuses.Count)) is >= 200 and < 300;
        return created;
    }
}

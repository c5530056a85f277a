using System.Text;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Common;
using Nimbus.Objects.Http;

namespace Nimbus.Objects.Proxy;

public sealed partial class ProxyServer
{
    private static readonly string[] ContainerHeaders =
    [
        "X-Container-Read", "X-Container-Write", "X-Versions-Location", "X-History-Location",
        "X-Container-Sync-Key", "X-Container-Sync-To",
    ];

    private async Task HandleContainerAsync(HttpContext context, SwiftContext swift)
    {
        var method = context.Request.Method;
        var container = swift.Container!;
        if (Encoding.UTF8.GetByteCount(container) > Constraints.MaxContainerNameLength)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, $"Container name length of {Encoding.UTF8.GetByteCount(container)} longer than {Constraints.MaxContainerNameLength}");
            return;
        }

        var reading = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        var acl = AccessControl.None;
        if (reading)
        {
            var info = await ContainerInfoAsync(swift.Account, container, context.RequestAborted);
            acl = new AccessControl(info.Headers.GetValueOrDefault("X-Container-Read"), info.Headers.GetValueOrDefault("X-Container-Write"));
        }

        if (swift.Check(context, acl) is { } refusal)
        {
            await SwiftResponse.WriteAsync(context, refusal);
            return;
        }

        var task = method switch
        {
            "GET" or "HEAD" => GetContainerAsync(context, swift),
            "PUT" => PutContainerAsync(context, swift),
            "POST" => PostContainerAsync(context, swift),
            "DELETE" => DeleteContainerAsync(context, swift),
            _ => SwiftResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed),
        };
        await task;
    }

    private Task<CachedInfo> ContainerInfoAsync(string account, string container, CancellationToken cancellationToken)
    {
        var ring = _rings.Containers;
        var partition = ring.GetPartition(account, container);
        return GetInfoAsync(ContainerKey(account, container), ring, partition, "container", BackendPath(account, container), cancellationToken);
    }

    private async Task GetContainerAsync(HttpContext context, SwiftContext swift)
    {
        var ring = _rings.Containers;
        var partition = ring.GetPartition(swift.Account, swift.Container);
        var response = await ReadFromReplicasAsync(context, ring, partition, "container", BackendPath(swift.Account, swift.Container), ForwardedHeaders(context.Request, name => name.Equals("Accept", StringComparison.OrdinalIgnoreCase)));
        if (response is null)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable);
            return;
        }

        await RelayAsync(context, response);
    }

    private async Task PutContainerAsync(HttpContext context, SwiftContext swift)
    {
        if (Constraints.CheckMetadata(context.Request.Headers, "container") is { } problem)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, problem);
            return;
        }

        if (!await EnsureAccountAsync(swift.Account, context.RequestAborted))
        {
            await SwiftResponse.WriteAsync(context, _settings.AccountAutocreate ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status404NotFound);
            return;
        }

        var status = await ContainerFanOutAsync(context, swift, HttpMethod.Put, includeMetadata: true);
        await SwiftResponse.WriteAsync(context, status);
    }

    private async Task PostContainerAsync(HttpContext context, SwiftContext swift)
    {
        if (Constraints.CheckMetadata(context.Request.Headers, "container") is { } problem)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, problem);
            return;
        }

        var status = await ContainerFanOutAsync(context, swift, HttpMethod.Post, includeMetadata: true);
        await SwiftResponse.WriteAsync(context, status);
    }

    private async Task DeleteContainerAsync(HttpContext context, SwiftContext swift)
    {
        var status = await ContainerFanOutAsync(context, swift, HttpMethod.Delete, includeMetadata: false);
        await SwiftResponse.WriteAsync(context, status);
    }

    /// <summary>
    /// Sends a container change to every replica; replica i tells account replica i of the new
    /// stats (X-Account-Host/-Device/-Partition), as Swift pairs them.
    /// </summary>
    private async Task<int> ContainerFanOutAsync(HttpContext context, SwiftContext swift, HttpMethod method, bool includeMetadata)
    {
        var ring = _rings.Containers;
        var partition = ring.GetPartition(swift.Account, swift.Container);
        var accountRing = _rings.Accounts;
        var accountPartition = accountRing.GetPartition(swift.Account);
        var accountNodes = accountRing.GetPrimaryNodes(accountPartition);
        var timestamp = SwiftTimestamp.Now(_time);
        var metadata = includeMetadata
            ? ForwardedHeaders(context.Request, name => name.StartsWith("X-Container-Meta-", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("X-Remove-Container-Meta-", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("X-Remove-Versions-Location", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("X-Remove-History-Location", StringComparison.OrdinalIgnoreCase)
                || ContainerHeaders.Contains(name, StringComparer.OrdinalIgnoreCase)).ToList()
            : [];
        var statuses = await FanOutAsync(ring, partition, "container", method, BackendPath(swift.Account, swift.Container), replica =>
        {
            var headers = TimestampHeaders(timestamp);
            headers.AddRange(metadata);
            if (method != HttpMethod.Post && replica < accountNodes.Count)
            {
                headers.Add(new("X-Account-Host", Host(accountNodes[replica])));
                headers.Add(new("X-Account-Device", accountNodes[replica].Device));
                headers.Add(new("X-Account-Partition", accountPartition.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }

            return headers;
        }, context.RequestAborted);
        ForgetInfo(ContainerKey(swift.Account, swift.Container!));
        ForgetInfo(AccountKey(swift.Account));
        return BestStatus(statuses, Quorum(statuses.Count));
    }
}

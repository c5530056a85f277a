using System.Globalization;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Common;
using Nimbus.Objects.Databases;
using Nimbus.Objects.Http;

namespace Nimbus.Objects.Servers;

public sealed partial class StorageServer
{
    private static readonly HashSet<string> AccountHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "X-Account-Access-Control",
    };

    private async Task HandleAccountAsync(HttpContext context, BackendTarget target)
    {
        var hash = _rings.Accounts.HashPath(target.Account);
        var path = DatabasePath(target.Device, "accounts", target.Partition, hash);
        var method = context.Request.Method;
        if (target.Container is not null)
        {
            if (HttpMethods.IsPut(method))
            {
                await ReportedContainerAsync(context, target, path);
            }
            else
            {
                await SwiftResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed);
            }

            return;
        }

        var task = method switch
        {
            "PUT" => PutAccountAsync(context, target, path),
            "GET" or "HEAD" => GetAccountAsync(context, target, path),
            "POST" => PostAccountAsync(context, path),
            "DELETE" => DeleteAccountAsync(context, path),
            _ => SwiftResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed),
        };
        await task;
    }

    private static async Task PutAccountAsync(HttpContext context, BackendTarget target, string path)
    {
        if (await RequireTimestampAsync(context) is not { } timestamp)
        {
            return;
        }

        var existing = await AccountDatabase.OpenAsync(path, context.RequestAborted);
        var existed = existing is not null && !(await existing.GetInfoAsync(context.RequestAborted)).IsDeleted;
        var database = await AccountDatabase.CreateAsync(path, target.Account, timestamp, context.RequestAborted);
        var metadata = MetadataFromHeaders(context.Request.Headers, "X-Account-Meta-", "X-Account-Sysmeta-", AccountHeaders, timestamp);
        if (metadata.Count > 0)
        {
            await database.UpdateMetadataAsync(metadata, context.RequestAborted);
        }

        await SwiftResponse.WriteAsync(context, existed ? StatusCodes.Status202Accepted : StatusCodes.Status201Created);
    }

    private static async Task GetAccountAsync(HttpContext context, BackendTarget target, string path)
    {
        var database = await AccountDatabase.OpenAsync(path, context.RequestAborted);
        var info = database is null ? null : await database.GetInfoAsync(context.RequestAborted);
        if (database is null || info is null || info.IsDeleted)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status404NotFound);
            return;
        }

        var headers = context.Response.Headers;
        headers["X-Account-Container-Count"] = info.ContainerCount.ToString(CultureInfo.InvariantCulture);
        headers["X-Account-Object-Count"] = info.ObjectCount.ToString(CultureInfo.InvariantCulture);
        headers["X-Account-Bytes-Used"] = info.BytesUsed.ToString(CultureInfo.InvariantCulture);
        headers["X-Timestamp"] = info.CreatedAt.Normal;
        headers["X-Put-Timestamp"] = info.PutTimestamp.Normal;
        headers.Vary = "Accept";
        WriteMetadataHeaders(headers, info.Metadata);
        await WriteListingAsync(context, target.Account, isContainer: false, query => database.ListAsync(query, context.RequestAborted), Constraints.AccountListingLimit);
    }

    private static async Task PostAccountAsync(HttpContext context, string path)
    {
        if (await RequireTimestampAsync(context) is not { } timestamp)
        {
            return;
        }

        var database = await AccountDatabase.OpenAsync(path, context.RequestAborted);
        if (database is null || (await database.GetInfoAsync(context.RequestAborted)).IsDeleted)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status404NotFound);
            return;
        }

        await database.UpdateMetadataAsync(MetadataFromHeaders(context.Request.Headers, "X-Account-Meta-", "X-Account-Sysmeta-", AccountHeaders, timestamp), context.RequestAborted);
        await SwiftResponse.WriteAsync(context, StatusCodes.Status204NoContent);
    }

    private static async Task DeleteAccountAsync(HttpContext context, string path)
    {
        if (await RequireTimestampAsync(context) is not { } timestamp)
        {
            return;
        }

        var database = await AccountDatabase.OpenAsync(path, context.RequestAborted);
        if (database is null || (await database.GetInfoAsync(context.RequestAborted)).IsDeleted)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status404NotFound);
            return;
        }

        await database.DeleteAsync(timestamp, context.RequestAborted);
        await SwiftResponse.WriteAsync(context, StatusCodes.Status204NoContent);
    }

    /// <summary>A container server's report of one container's stats (Swift's account update).</summary>
    private static async Task ReportedContainerAsync(HttpContext context, BackendTarget target, string path)
    {
        var request = context.Request;
        var put = ListingRequest.TimestampOr(request, "X-Put-Timestamp", SwiftTimestamp.Zero);
        var delete = ListingRequest.TimestampOr(request, "X-Delete-Timestamp", SwiftTimestamp.Zero);
        var database = await AccountDatabase.OpenAsync(path, context.RequestAborted)
            ?? await AccountDatabase.CreateAsync(path, target.Account, put, context.RequestAborted);
        await database.MergeContainersAsync(
            [new ContainerRecord(target.Container!, put, delete, HeaderLong(request, "X-Object-Count") ?? 0, HeaderLong(request, "X-Bytes-Used") ?? 0)],
            context.RequestAborted);
        await SwiftResponse.WriteAsync(context, StatusCodes.Status201Created);
    }
}

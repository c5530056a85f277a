using System.Globalization;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Common;
using Nimbus.Objects.Databases;
using Nimbus.Objects.Http;

namespace Nimbus.Objects.Servers;

public sealed partial class StorageServer
{
    /// <summary>Container headers kept as metadata besides X-Container-Meta-*, as Swift's container server keeps them.</summary>
    private static readonly HashSet<string> ContainerHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "X-Container-Read", "X-Container-Write", "X-Container-Sync-Key", "X-Container-Sync-To",
        "X-Versions-Location", "X-History-Location",
    };

    private async Task HandleContainerAsync(HttpContext context, BackendTarget target)
    {
        var hash = _rings.Containers.HashPath(target.Account, target.Container);
        var path = DatabasePath(target.Device, "containers", target.Partition, hash);
        var method = context.Request.Method;
        if (target.Object is not null)
        {
            if (HttpMethods.IsPut(method) || HttpMethods.IsDelete(method))
            {
                await UpdateObjectRowAsync(context, target, path);
            }
            else
            {
                await SwiftResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed);
            }

            return;
        }

        var task = method switch
        {
            "PUT" => PutContainerAsync(context, target, path),
            "GET" or "HEAD" => GetContainerAsync(context, target, path),
            "POST" => PostContainerAsync(context, path),
            "DELETE" => DeleteContainerAsync(context, path),
            _ => SwiftResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed),
        };
        await task;
    }

    private string DatabasePath(string device, string kind, int partition, string hash) =>
        Path.Combine(_devicesRoot, device, kind, partition.ToString(CultureInfo.InvariantCulture), hash[^3..], hash, hash + ".db");

    private async Task PutContainerAsync(HttpContext context, BackendTarget target, string path)
    {
        if (await RequireTimestampAsync(context) is not { } timestamp)
        {
            return;
        }

        var existing = await ContainerDatabase.OpenAsync(path, context.RequestAborted);
        var existed = existing is not null && !(await existing.GetInfoAsync(context.RequestAborted)).IsDeleted;
        var database = await ContainerDatabase.CreateAsync(path, target.Account, target.Container!, timestamp, context.RequestAborted);

        var metadata = MetadataFromHeaders(context.Request.Headers, "X-Container-Meta-", "X-Container-Sysmeta-", ContainerHeaders, timestamp);
        if (metadata.Count > 0)
        {
            await database.UpdateMetadataAsync(metadata, context.RequestAborted);
        }

        await ReportContainerAsync(context.Request.Headers, database, context.RequestAborted);
        await SwiftResponse.WriteAsync(context, existed ? StatusCodes.Status202Accepted : StatusCodes.Status201Created);
    }

    private static async Task GetContainerAsync(HttpContext context, BackendTarget target, string path)
    {
        var database = await ContainerDatabase.OpenAsync(path, context.RequestAborted);
        var info = database is null ? null : await database.GetInfoAsync(context.RequestAborted);
        if (database is null || info is null || info.IsDeleted)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status404NotFound);
            return;
        }

        var headers = context.Response.Headers;
        headers["X-Container-Object-Count"] = info.ObjectCount.ToString(CultureInfo.InvariantCulture);
        headers["X-Container-Bytes-Used"] = info.BytesUsed.ToString(CultureInfo.InvariantCulture);
        headers["X-Timestamp"] = info.CreatedAt.Normal;
        headers["X-Put-Timestamp"] = info.PutTimestamp.Normal;
        headers["X-Backend-Put-Timestamp"] = info.PutTimestamp.Normal;
        headers["X-Backend-Delete-Timestamp"] = info.DeleteTimestamp.Normal;
        headers.LastModified = SwiftResponse.HttpDate(info.PutTimestamp);
        headers.AcceptRanges = "bytes";
        headers["X-Storage-Policy"] = "Policy-0";
        headers.Vary = "Accept";
        WriteMetadataHeaders(headers, info.Metadata);
        await WriteListingAsync(context, target.Container!, isContainer: true, query => database.ListAsync(query, context.RequestAborted), Constraints.ContainerListingLimit);
    }

    private static async Task PostContainerAsync(HttpContext context, string path)
    {
        if (await RequireTimestampAsync(context) is not { } timestamp)
        {
            return;
        }

        var database = await ContainerDatabase.OpenAsync(path, context.RequestAborted);
        if (database is null || (await database.GetInfoAsync(context.RequestAborted)).IsDeleted)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status404NotFound);
            return;
        }

        await database.UpdateMetadataAsync(MetadataFromHeaders(context.Request.Headers, "X-Container-Meta-", "X-Container-Sysmeta-", ContainerHeaders, timestamp), context.RequestAborted);
        await SwiftResponse.WriteAsync(context, StatusCodes.Status204NoContent);
    }

    private async Task DeleteContainerAsync(HttpContext context, string path)
    {
        if (await RequireTimestampAsync(context) is not { } timestamp)
        {
            return;
        }

        var database = await ContainerDatabase.OpenAsync(path, context.RequestAborted);
        var info = database is null ? null : await database.GetInfoAsync(context.RequestAborted);
        if (database is null || info is null || info.IsDeleted)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status404NotFound);
            return;
        }

        if (info.ObjectCount > 0)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status409Conflict, "There was a conflict when trying to complete your request.");
            return;
        }

        await database.DeleteAsync(timestamp, context.RequestAborted);
        await ReportContainerAsync(context.Request.Headers, database, context.RequestAborted);
        await SwiftResponse.WriteAsync(context, StatusCodes.Status204NoContent);
    }

    private async Task UpdateObjectRowAsync(HttpContext context, BackendTarget target, string path)
    {
        if (await RequireTimestampAsync(context) is not { } timestamp)
        {
            return;
        }

        var database = await ContainerDatabase.OpenAsync(path, context.RequestAborted);
        if (database is null)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status404NotFound);
            return;
        }

        var request = context.Request;
        var record = HttpMethods.IsPut(request.Method)
            ? new ObjectRecord(target.Object!, timestamp, HeaderLong(request, "X-Size") ?? 0, Constraints.FromWire(request.Headers["X-Content-Type"].ToString()), request.Headers["X-Etag"].ToString(), Deleted: false)
            : new ObjectRecord(target.Object!, timestamp, 0, string.Empty, string.Empty, Deleted: true);
        await database.MergeObjectsAsync([record], context.RequestAborted);
        ContainerChanged(path);
        await SwiftResponse.WriteAsync(context, HttpMethods.IsPut(request.Method) ? StatusCodes.Status201Created : StatusCodes.Status204NoContent);
    }

    /// <summary>
    /// Tells the account server (named by the proxy in X-Account-Host/-Device/-Partition) this
    /// container's stats; the container updater retries whatever this could not deliver.
    /// </summary>
    private async Task ReportContainerAsync(IHeaderDictionary headers, ContainerDatabase database, CancellationToken cancellationToken)
    {
        var host = headers["X-Account-Host"].ToString();
        var device = headers["X-Account-Device"].ToString();
        if (host.Length == 0 || device.Length == 0 || !int.TryParse(headers["X-Account-Partition"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var partition))
        {
            return;
        }

        var info = await database.GetInfoAsync(cancellationToken);
        if (await BackendUpdates.SendContainerReportAsync(_backend, $"http://{host}/account", device, partition, info, cancellationToken))
        {
            await database.MarkReportedAsync(info, cancellationToken);
        }
    }

    private static Dictionary<string, MetadataValue> MetadataFromHeaders(IHeaderDictionary headers, string metaPrefix, string sysmetaPrefix, HashSet<string> kept, SwiftTimestamp timestamp)
    {
        var metadata = new Dictionary<string, MetadataValue>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in headers)
        {
            if (name.StartsWith(metaPrefix, StringComparison.OrdinalIgnoreCase) || name.StartsWith(sysmetaPrefix, StringComparison.OrdinalIgnoreCase) || kept.Contains(name))
            {
                metadata[SwiftResponse.TitleCase(name)] = new MetadataValue(values.ToString(), timestamp);
            }
            else if (name.StartsWith("X-Remove-", StringComparison.OrdinalIgnoreCase))
            {
                var removed = "X-" + name["X-Remove-".Length..];
                if (removed.StartsWith(metaPrefix, StringComparison.OrdinalIgnoreCase) || kept.Contains(removed))
                {
                    metadata[SwiftResponse.TitleCase(removed)] = new MetadataValue(string.Empty, timestamp);
                }
            }
        }

        return metadata;
    }

    private static void WriteMetadataHeaders(IHeaderDictionary headers, IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        foreach (var (name, value) in metadata)
        {
            if (value.Value.Length > 0)
            {
                headers[name] = value.Value;
            }
        }
    }

    private static async Task WriteListingAsync(HttpContext context, string name, bool isContainer, Func<ListingQuery, Task<IReadOnlyList<ListingEntry>>> list, int maxLimit)
    {
        if (!ListingRequest.TryParse(context.Request, maxLimit, out var query, out var format, out var refusal))
        {
            await SwiftResponse.WriteAsync(context, refusal.Status, refusal.Message);
            return;
        }

        var response = context.Response;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            response.ContentType = ListingRequest.ContentType(format);
            await SwiftResponse.WriteAsync(context, StatusCodes.Status204NoContent);
            return;
        }

        var entries = await list(query);
        if (entries.Count == 0 && format == ListingFormat.Plain)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status204NoContent);
            return;
        }

        var body = isContainer ? ListingFormatter.FormatContainerListing(name, entries, format) : ListingFormatter.FormatAccountListing(name, entries, format);
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ListingRequest.ContentType(format);
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.RequestAborted);
    }
}

using System.Buffers;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Common;
using Nimbus.Objects.Http;
using Nimbus.Objects.Storage;

namespace Nimbus.Objects.Servers;

public sealed partial class StorageServer
{
    private const int BodyBufferSize = 64 * 1024;

    /// <summary>Headers other than X-Object-Meta-* that an object keeps, as Swift's allowed_headers.</summary>
    private static readonly HashSet<string> KeptObjectHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Content-Disposition", "Content-Encoding", "Content-Language", "Cache-Control", "Expires",
        "X-Delete-At", "X-Object-Manifest", "X-Static-Large-Object", "X-Robots-Tag",
    };

    private async Task HandleObjectAsync(HttpContext context, BackendTarget target)
    {
        var location = new ObjectLocation(target.Device, target.Partition, _rings.Objects.HashPath(target.Account, target.Container, target.Object));
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method))
        {
            await GetObjectAsync(context, location);
        }
        else if (HttpMethods.IsPut(method))
        {
            await PutObjectAsync(context, target, location);
        }
        else if (HttpMethods.IsPost(method))
        {
            await PostObjectAsync(context, location);
        }
        else if (HttpMethods.IsDelete(method))
        {
            await DeleteObjectAsync(context, target, location);
        }
        else
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed);
        }
    }

    private async Task GetObjectAsync(HttpContext context, ObjectLocation location)
    {
        await using var handle = await _objects.OpenAsync(location, context.RequestAborted);
        var response = context.Response;
        if (handle.Presence != ObjectPresence.Present || IsExpired(handle.Metadata))
        {
            if (handle.Presence == ObjectPresence.Deleted)
            {
                response.Headers["X-Backend-Timestamp"] = handle.Timestamp.Normal;
            }

            await SwiftResponse.WriteAsync(context, StatusCodes.Status404NotFound);
            return;
        }

        var etag = handle.Metadata.GetValueOrDefault("ETag", string.Empty);
        WriteObjectHeaders(response, handle);
        var condition = ObjectDelivery.EvaluateConditions(context.Request, etag, handle.MetadataTimestamp ?? handle.Timestamp);
        if (condition is not null)
        {
            await SwiftResponse.WriteAsync(context, condition.Value);
            return;
        }

        await ObjectDelivery.WriteAsync(context, handle.OpenRead, handle.Length, handle.Metadata.GetValueOrDefault("Content-Type", "application/octet-stream"));
    }

    private static void WriteObjectHeaders(HttpResponse response, ObjectHandle handle)
    {
        foreach (var (name, value) in handle.Metadata)
        {
            if (name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("X-Object-Sysmeta-", StringComparison.OrdinalIgnoreCase) || KeptObjectHeaders.Contains(name))
            {
                response.Headers[name] = value;
            }
        }

        response.Headers.ETag = SwiftResponse.EtagHeader(handle.Metadata.GetValueOrDefault("ETag", string.Empty));
        // A POST's metadata is the newest change, so it sets X-Timestamp and Last-Modified, as in Swift.
        var changed = handle.MetadataTimestamp ?? handle.Timestamp;
        response.Headers["X-Timestamp"] = changed.Normal;
        response.Headers["X-Backend-Timestamp"] = changed.Normal;
        response.Headers["X-Backend-Data-Timestamp"] = handle.Timestamp.Normal;
        response.Headers.LastModified = SwiftResponse.HttpDate(changed);
    }

    private bool IsExpired(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue("X-Delete-At", out var deleteAt)
        && long.TryParse(deleteAt, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
        && seconds <= _time.GetUtcNow().ToUnixTimeSeconds();

    private async Task PutObjectAsync(HttpContext context, BackendTarget target, ObjectLocation location)
    {
        if (await RequireTimestampAsync(context) is not { } timestamp)
        {
            return;
        }

        var request = context.Request;
        var declaredLength = request.ContentLength;
        var chunked = request.Headers.TransferEncoding.ToString().Contains("chunked", StringComparison.OrdinalIgnoreCase);
        if (declaredLength is null && !chunked)
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status411LengthRequired);
            return;
        }

        await using var writer = await _objects.CreateWriterAsync(location, context.RequestAborted);
        var buffer = ArrayPool<byte>.Shared.Rent(BodyBufferSize);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await request.Body.ReadAsync(buffer, context.RequestAborted);
                }
                catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException)
                {
                    // The client went away mid-body: the writer's dispose discards every byte.
                    await SwiftResponse.WriteAsync(context, SwiftResponse.ClientDisconnect);
                    return;
                }

                if (read == 0)
                {
                    break;
                }

                await writer.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                if (declaredLength is not null && writer.BytesWritten > declaredLength)
                {
                    await SwiftResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge);
                    return;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (declaredLength is not null && writer.BytesWritten != declaredLength)
        {
            await SwiftResponse.WriteAsync(context, SwiftResponse.ClientDisconnect);
            return;
        }

        var etag = writer.ContentMd5;
        var expected = request.Headers.ETag.ToString().Trim('"');
        if (expected.Length > 0 && !string.Equals(expected, etag, StringComparison.OrdinalIgnoreCase))
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status422UnprocessableEntity);
            return;
        }

        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["name"] = target.Name,
            ["X-Timestamp"] = timestamp.Normal,
            ["Content-Type"] = request.ContentType ?? "application/octet-stream",
            ["ETag"] = etag,
            ["Content-Length"] = writer.BytesWritten.ToString(CultureInfo.InvariantCulture),
        };
        CopyUserMetadata(request.Headers, metadata);
        if (!await writer.CommitAsync(timestamp, metadata, context.RequestAborted))
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status409Conflict);
            return;
        }

        await UpdateContainerAsync(context, target, "PUT", timestamp, writer.BytesWritten, metadata["Content-Type"], etag);
        context.Response.Headers.ETag = SwiftResponse.EtagHeader(etag);
        await SwiftResponse.WriteAsync(context, StatusCodes.Status201Created);
    }

    private async Task PostObjectAsync(HttpContext context, ObjectLocation location)
    {
        if (await RequireTimestampAsync(context) is not { } timestamp)
        {
            return;
        }

        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["X-Timestamp"] = timestamp.Normal };
        if (context.Request.ContentType is { Length: > 0 } contentType)
        {
            metadata["Content-Type"] = contentType;
        }

        CopyUserMetadata(context.Request.Headers, metadata);
        await using (var handle = await _objects.OpenAsync(location, context.RequestAborted))
        {
            if (handle.Presence != ObjectPresence.Present || IsExpired(handle.Metadata))
            {
                await SwiftResponse.WriteAsync(context, StatusCodes.Status404NotFound);
                return;
            }

            if (timestamp <= (handle.MetadataTimestamp ?? handle.Timestamp))
            {
                await SwiftResponse.WriteAsync(context, StatusCodes.Status409Conflict);
                return;
            }
        }

        var written = await _objects.WriteMetadataAsync(location, timestamp, metadata, context.RequestAborted);
        await SwiftResponse.WriteAsync(context, written ? StatusCodes.Status202Accepted : StatusCodes.Status404NotFound);
    }

    private async Task DeleteObjectAsync(HttpContext context, BackendTarget target, ObjectLocation location)
    {
        if (await RequireTimestampAsync(context) is not { } timestamp)
        {
            return;
        }

        bool existed;
        await using (var handle = await _objects.OpenAsync(location, context.RequestAborted))
        {
            if (handle.Timestamp >= timestamp && handle.Presence != ObjectPresence.Missing)
            {
                await SwiftResponse.WriteAsync(context, StatusCodes.Status409Conflict);
                return;
            }

            existed = handle.Presence == ObjectPresence.Present && !IsExpired(handle.Metadata);

            // The expirer deletes only the version it found expiring (Swift's X-If-Delete-At).
            var ifDeleteAt = context.Request.Headers["X-If-Delete-At"].ToString();
            if (ifDeleteAt.Length > 0 && (handle.Presence != ObjectPresence.Present || handle.Metadata.GetValueOrDefault("X-Delete-At") != ifDeleteAt))
            {
                await SwiftResponse.WriteAsync(context, StatusCodes.Status412PreconditionFailed);
                return;
            }
        }

        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["name"] = target.Name, ["X-Timestamp"] = timestamp.Normal };
        await _objects.WriteTombstoneAsync(location, timestamp, metadata, context.RequestAborted);
        await UpdateContainerAsync(context, target, "DELETE", timestamp, 0, string.Empty, string.Empty);
        await SwiftResponse.WriteAsync(context, existed ? StatusCodes.Status204NoContent : StatusCodes.Status404NotFound);
    }

    private static void CopyUserMetadata(IHeaderDictionary headers, Dictionary<string, string> metadata)
    {
        foreach (var (name, values) in headers)
        {
            if (name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("X-Object-Sysmeta-", StringComparison.OrdinalIgnoreCase) || KeptObjectHeaders.Contains(name))
            {
                metadata[SwiftResponse.TitleCase(name)] = values.ToString();
            }
        }
    }

    /// <summary>
    /// Tells the container server of the change (the proxy names it in X-Container-Host/-Device/
    /// -Partition). When it cannot be reached the update waits in async_pending for the updater.
    /// </summary>
    private async Task UpdateContainerAsync(HttpContext context, BackendTarget target, string operation, SwiftTimestamp timestamp, long size, string contentType, string etag)
    {
        var headers = context.Request.Headers;
        var host = headers["X-Container-Host"].ToString();
        var device = headers["X-Container-Device"].ToString();
        if (host.Length == 0 || device.Length == 0 || !int.TryParse(headers["X-Container-Partition"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var partition))
        {
            return;
        }

        var update = new ContainerUpdateRecord(operation, target.Account, target.Container!, target.Object!, timestamp, size, contentType, etag, partition);
        var status = await BackendUpdates.SendContainerUpdateAsync(_backend, $"http://{host}/container", device, update, CancellationToken.None);
        if (status is null or >= 300)
        {
            ObjectsLog.ContainerUpdateDeferred(_logger, target.Name, host, status ?? 0);
            await _pending.WriteAsync(target.Device, update, CancellationToken.None);
        }
    }
}

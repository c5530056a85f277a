using Nimbus.Images.Data;
using Nimbus.Images.Stores;
using Nimbus.Platform.Auth;
using Nimbus.Platform.Data;
using Nimbus.Platform.Errors;

namespace Nimbus.Images.Service;

/// <summary>A byte range of a download (RFC 9110 §14.1.2): From..To inclusive, or the last <see cref="To"/> bytes when From is null.</summary>
internal sealed record ByteRange(long? From, long? To)
{
    /// <summary>The offset and length within <paramref name="total"/> bytes, or null when the range cannot be satisfied.</summary>
    public (long Offset, long Length)? Resolve(long total)
    {
        if (From is null)
        {
            var suffix = Math.Min(To ?? 0, total);
            return suffix <= 0 ? null : (total - suffix, suffix);
        }

        if (From.Value >= total)
        {
            return null;
        }

        var last = Math.Min(To ?? total - 1, total - 1);
        return last < From.Value ? null : (From.Value, last - From.Value + 1);
    }
}

/// <summary>A download Range that falls outside the image (HTTP 416).</summary>
internal sealed class RangeNotSatisfiableException(long total)
    : NimbusException(ErrorKind.InvalidInput, "images.range_not_satisfiable", $"The requested range is outside the image's {total} bytes.")
{
    public long Total { get; } = total;
}

/// <summary>The image's bytes: upload, staging and import, download, and recovery of interrupted uploads.</summary>
internal sealed partial class ImageService
{
    public const string GlanceDirect = "glance-direct";
    public const string WebDownload = "web-download";

    /// <summary>
    /// PUT /v2/images/{id}/file: queued → saving → active. A failed upload leaves the image killed
    /// (or queued again when only the size limit refused it) and no bytes in the store.
    /// </summary>
    public Task UploadAsync(AuthContext caller, string id, Stream body, long? contentLength, CancellationToken cancellationToken) =>
        ReceiveAsync(caller, id, body, contentLength, ImageStatus.Saving, cancellationToken);

    /// <summary>PUT /v2/images/{id}/stage: queued → uploading, the bytes kept for a later glance-direct import.</summary>
    public Task StageAsync(AuthContext caller, string id, Stream body, long? contentLength, CancellationToken cancellationToken) =>
        ReceiveAsync(caller, id, body, contentLength, ImageStatus.Uploading, cancellationToken);

    /// <summary>
    /// POST /v2/images/{id}/import: uploading → importing → active for glance-direct, recorded as a
    /// task under <paramref name="requestId"/> (GET /v2/images/{id}/tasks).
    /// </summary>
    public async Task ImportAsync(AuthContext caller, string id, string method, string? requestId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(method);
        var (image, task) = await _database.WriteAsync(
            async session =>
            {
                var (image, _) = await FindVisibleAsync(session, caller, id);
                ImagePolicy.Table.Enforce(caller, ImagePolicy.ModifyImage, ImagePolicy.Target(image));
                switch (method)
                {
                    case WebDownload:
                        throw new InvalidInputException(
                            "images.import_no_internet",
                            "Import method 'web-download' cannot be used: this cloud has no internet access to fetch the image from. Use 'glance-direct' (stage the data with PUT /v2/images/{id}/stage, then import) or upload it with PUT /v2/images/{id}/file.");
                    case GlanceDirect:
                        break;
                    default:
                        throw new InvalidInputException("images.import_method", $"Import method '{method}' is not supported; this cloud offers '{GlanceDirect}'.");
                }

                if (image.Status != ImageStatus.Uploading || image.Location is null)
                {
                    throw new ConflictException("images.not_staged", $"Image needs to be staged before '{GlanceDirect}' method can be used; image {image.Id} is {image.Status}.");
                }

                var now = Now();
                var importing = image with { Status = ImageStatus.Importing, UpdatedAt = now };
                var task = new ImageTask(Guid.NewGuid().ToString("D"), image.Id, ImageTask.ImportType, ImageTask.Processing, method, requestId, caller.UserId, caller.ProjectId, string.Empty, now, now);
                await ImageRows.UpdateAsync(session, importing);
                await ImageRows.InsertTaskAsync(session, task);
                return (importing, task);
            },
            cancellationToken);

        // The staged bytes are already in the store, checked and hashed; importing only publishes them.
        await _database.WriteAsync(
            async session =>
            {
                var current = await ImageRows.FindAsync(session, image.Id);
                if (current?.Status == ImageStatus.Importing)
                {
                    await ImageRows.UpdateAsync(session, current with { Status = ImageStatus.Active, UpdatedAt = Now() });
                    await ImageRows.FinishTaskAsync(session, task.Id, ImageTask.Success, string.Empty, Now());
                }
            },
            CancellationToken.None);
        ImagesLog.ImageActive(_logger, image.Id, image.Size ?? 0, _store.Name);
    }

    /// <summary>The imports of an image the caller can see, oldest first.</summary>
    public async Task<IReadOnlyList<ImageTask>> ListTasksAsync(AuthContext caller, string id, CancellationToken cancellationToken) =>
        await _database.ReadAsync(
            async session =>
            {
                var (image, _) = await FindVisibleAsync(session, caller, id);
                ImagePolicy.Table.Enforce(caller, ImagePolicy.GetImage, ImagePolicy.Target(image));
                return await ImageRows.TasksAsync(session, image.Id);
            },
            cancellationToken);

    /// <summary>GET /v2/images/{id}/file: the bytes, a range of them, or none (204) when the image has no data.</summary>
    public async Task<ImageDownload> DownloadAsync(AuthContext caller, string id, ByteRange? range, CancellationToken cancellationToken)
    {
        var (image, _) = await _database.ReadAsync(session => FindVisibleAsync(session, caller, id), cancellationToken);
        ImagePolicy.Table.Enforce(caller, ImagePolicy.DownloadImage, ImagePolicy.Target(image));
        if (image.Status == ImageStatus.Deactivated && !caller.IsAdmin)
        {
            throw new ForbiddenException("images.deactivated", "The requested image has been deactivated. Image data download is forbidden.");
        }

        if (image.Status is not (ImageStatus.Active or ImageStatus.Deactivated) || image.Location is null || image.Size is null)
        {
            return new ImageDownload(image, null, 0, 0, 0, false);
        }

        var total = image.Size.Value;
        var (offset, length) = range is null ? (0L, total) : range.Resolve(total) ?? throw new RangeNotSatisfiableException(total);
        var content = await _store.OpenReadAsync(image.Location, offset, length, cancellationToken);
        return new ImageDownload(image, content, offset, length, total, range is not null);
    }

    public Task DeactivateAsync(AuthContext caller, string id, CancellationToken cancellationToken) =>
        ChangeActivationAsync(caller, id, ImagePolicy.Deactivate, ImageStatus.Active, ImageStatus.Deactivated, "deactivate", cancellationToken);

    public Task ReactivateAsync(AuthContext caller, string id, CancellationToken cancellationToken) =>
        ChangeActivationAsync(caller, id, ImagePolicy.Reactivate, ImageStatus.Deactivated, ImageStatus.Active, "reactivate", cancellationToken);

    /// <summary>
    /// Start-up recovery: uploads interrupted by a stop or crash left images saving or uploading with
    /// no usable bytes; they go back to queued (importing goes back to uploading, its staged bytes
    /// intact) and any bytes recorded for them are removed. Returns how many images it repaired.
    /// </summary>
    public async Task<int> RecoverInterruptedUploadsAsync(CancellationToken cancellationToken)
    {
        var repaired = await _database.WriteAsync(
            async session =>
            {
                var changes = new List<(Image Before, Image After)>();
                foreach (var image in await ImageRows.InStatusAsync(session, ImageStatus.Saving))
                {
                    changes.Add((image, Emptied(image, ImageStatus.Queued)));
                }

                foreach (var image in await ImageRows.InStatusAsync(session, ImageStatus.Uploading))
                {
                    if (image.Location is null)
                    {
                        changes.Add((image, Emptied(image, ImageStatus.Queued)));
                    }
                }

                foreach (var image in await ImageRows.InStatusAsync(session, ImageStatus.Importing))
                {
                    changes.Add((image, image with { Status = ImageStatus.Uploading, UpdatedAt = Now() }));
                }

                foreach (var (_, after) in changes)
                {
                    await ImageRows.UpdateAsync(session, after);
                }

                return changes;
            },
            cancellationToken);

        foreach (var (before, after) in repaired)
        {
            if (before.Location is { } location && after.Location is null)
            {
                await DeleteBytesAsync(before.Id, location);
            }

            ImagesLog.Recovered(_logger, before.Id, before.Status, after.Status);
        }

        return repaired.Count;
    }

    private async Task ReceiveAsync(AuthContext caller, string id, Stream body, long? contentLength, string receiving, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var (image, maxBytes, quota) = await _database.WriteAsync(
            async session =>
            {
                var (image, _) = await FindVisibleAsync(session, caller, id);
                ImagePolicy.Table.Enforce(caller, ImagePolicy.UploadImage, ImagePolicy.Target(image));
                if (image.Status != ImageStatus.Queued)
                {
                    throw new ConflictException("images.bad_status", $"Image status transition from {image.Status} to {receiving} is not allowed: image {image.Id} already has data or had a failed upload; create a new image.");
                }

                if (image.DiskFormat is null || image.ContainerFormat is null)
                {
                    throw new InvalidInputException("images.formats_unset", "Properties disk_format, container_format must be set prior to saving data.");
                }

                var (maxBytes, quota) = await UploadLimitAsync(session, image.Owner);
                var receivingImage = image with { Status = receiving, UpdatedAt = Now() };
                await ImageRows.UpdateAsync(session, receivingImage);
                return (receivingImage, maxBytes, quota);
            },
            cancellationToken);

        UploadedImage stored;
        try
        {
            stored = await _uploader.UploadAsync(_store, image.Id, body, image.DiskFormat!, contentLength, maxBytes, cancellationToken);
        }
        catch (Exception ex)
        {
            // Only a limit (size cap, quota, full store) leaves the image usable: the caller may retry
            // with less data or once space is freed, as Glance restores such images to queued.
            var after = ex is NimbusException { Kind: ErrorKind.OverLimit } || receiving == ImageStatus.Uploading ? ImageStatus.Queued : ImageStatus.Killed;
            await SetStatusIfAsync(image.Id, receiving, after);
            ImagesLog.UploadFailed(_logger, image.Id, after, ex);
            if (ex is ImageTooLargeException && quota is { } q)
            {
                throw new OverLimitException(
                    "images.quota_bytes",
                    $"Project {image.Owner} uses {q.Usage} bytes of image data and its limit (image_size_total) is {q.Limit} bytes; this upload would exceed it. Delete images it no longer needs or ask for a higher limit.");
            }

            throw;
        }

        var finished = await _database.WriteAsync(
            async session =>
            {
                var current = await ImageRows.FindAsync(session, image.Id);
                if (current is null || current.Status != receiving)
                {
                    return null;
                }

                // Another upload of the same project may have finished meanwhile; the quota holds at commit too.
                if (current.Owner is { } owner && _settings.MaxBytesPerProject is { } limit)
                {
                    var (_, usage) = await ImageRows.UsageAsync(session, owner);
                    if (usage + stored.Size > limit)
                    {
                        await ImageRows.UpdateAsync(session, current with { Status = ImageStatus.Queued, UpdatedAt = Now() });
                        return current with { Status = ImageStatus.Queued, Size = usage };
                    }
                }

                var done = current with
                {
                    Status = receiving == ImageStatus.Saving ? ImageStatus.Active : ImageStatus.Uploading,
                    Location = stored.Location,
                    Size = stored.Size,
                    VirtualSize = stored.VirtualSize,
                    Checksum = stored.Md5Hex,
                    OsHashAlgo = "sha512",
                    OsHashValue = stored.Sha512Hex,
                    UpdatedAt = Now(),
                };
                await ImageRows.UpdateAsync(session, done);
                return done;
            },
            CancellationToken.None);

        if (finished is { Status: ImageStatus.Queued, Size: { } usage })
        {
            await DeleteBytesAsync(image.Id, stored.Location);
            throw new OverLimitException(
                "images.quota_bytes",
                $"Project {image.Owner} uses {usage} bytes of image data and its limit (image_size_total) is {_settings.MaxBytesPerProject} bytes; these {stored.Size} bytes would exceed it. Delete images it no longer needs or ask for a higher limit.");
        }

        if (finished is null)
        {
            // Deleted while its bytes were arriving: nothing refers to them any more.
            await DeleteBytesAsync(image.Id, stored.Location);
            throw new ConflictException("images.deleted_during_upload", $"Image {image.Id} was deleted while its data was being uploaded; the data was discarded.");
        }

        ImagesLog.ImageActive(_logger, image.Id, stored.Size, _store.Name);
    }

    /// <summary>The most bytes an upload may bring: the size cap, or what the owner's quota leaves.</summary>
    private async Task<(long MaxBytes, (long Usage, long Limit)? Quota)> UploadLimitAsync(DataSession session, string? owner)
    {
        if (owner is null || _settings.MaxBytesPerProject is not { } limit)
        {
            return (_settings.MaxImageBytes, null);
        }

        var (_, usage) = await ImageRows.UsageAsync(session, owner);
        if (usage >= limit)
        {
            throw new OverLimitException(
                "images.quota_bytes",
                $"Project {owner} uses {usage} bytes of image data and its limit (image_size_total) is {limit} bytes; delete images it no longer needs or ask for a higher limit.");
        }

        var left = limit - usage;
        return left < _settings.MaxImageBytes ? (left, (usage, limit)) : (_settings.MaxImageBytes, null);
    }

    private async Task SetStatusIfAsync(string id, string expected, string status)
    {
        // Not cancellable: the request may be gone, but the image must not stay mid-upload.
        await _database.WriteAsync(
            async session =>
            {
                var current = await ImageRows.FindAsync(session, id);
                if (current?.Status == expected)
                {
                    await ImageRows.UpdateAsync(session, current with { Status = status, UpdatedAt = Now() });
                }
            },
            CancellationToken.None);
    }

    private async Task ChangeActivationAsync(AuthContext caller, string id, string action, string from, string to, string verb, CancellationToken cancellationToken)
    {
        await _database.WriteAsync(
            async session =>
            {
                var (image, _) = await FindVisibleAsync(session, caller, id);
                ImagePolicy.Table.Enforce(caller, action, ImagePolicy.Target(image));
                if (image.Status == to)
                {
                    return;
                }

                if (image.Status != from)
                {
                    throw new ForbiddenException("images.bad_status", $"Not allowed to {verb} image in status '{image.Status}'");
                }

                await ImageRows.UpdateAsync(session, image with { Status = to, UpdatedAt = Now() });
            },
            cancellationToken);
    }

    private Image Emptied(Image image, string status) => image with
    {
        Status = status,
        Location = null,
        Size = null,
        VirtualSize = null,
        Checksum = null,
        OsHashAlgo = null,
        OsHashValue = null,
        UpdatedAt = Now(),
    };
}

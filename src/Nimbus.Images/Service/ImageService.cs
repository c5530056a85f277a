using Microsoft.Extensions.Logging;
using Nimbus.Images.Data;
using Nimbus.Images.Stores;
using Nimbus.Platform.Auth;
using Nimbus.Platform.Data;
using Nimbus.Platform.Errors;

namespace Nimbus.Images.Service;

/// <summary>
/// Glance v2's image logic: every decision about images — who sees what, which changes are allowed
/// in which status, quotas — is made here; HTTP handlers only parse and format. Split by aspect:
/// records here, bytes in ImageService.Data.cs, sharing and tags in ImageService.Sharing.cs.
/// </summary>
internal sealed partial class ImageService
{
    private readonly Database _database;
    private readonly IImageStore _store;
    private readonly ImageUploader _uploader;
    private readonly ImagesSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ImageService(Database database, IImageStore store, ImageUploader uploader, ImagesSettings settings, TimeProvider time, ILogger<ImageService> logger)
    {
        _database = database;
        _store = store;
        _uploader = uploader;
        _settings = settings;
        _time = time;
        _logger = logger;
    }

    public string StoreName => _store.Name;

    /// <summary>Applies the images schema's migrations and recovers interrupted uploads; run once at start-up, before the first request.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _database.MigrateAsync(ImagesSchema.Migrations, cancellationToken);
        ImagesLog.DatabaseReady(_logger, _database.Location);
        await RecoverInterruptedUploadsAsync(cancellationToken);
    }

    public async Task<Image> CreateAsync(AuthContext caller, CreateImage command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(command);
        var owner = command.Owner ?? caller.ProjectId;
        ImagePolicy.Table.Enforce(caller, ImagePolicy.AddImage, new PolicyTarget(ProjectId: owner));
        var visibility = command.Visibility ?? ImageVisibility.Shared;
        EnforceVisibilityChange(caller, owner, visibility);
        EnsureWithinLimits(command.Tags.Count, command.Properties.Count);
        var now = Now();
        var image = new Image
        {
            Id = command.Id ?? Guid.NewGuid().ToString("D"),
            Name = command.Name,
            Status = ImageStatus.Queued,
            DiskFormat = command.DiskFormat,
            ContainerFormat = command.ContainerFormat,
            Visibility = visibility,
            Protected = command.Protected,
            OsHidden = command.OsHidden,
            MinDisk = command.MinDisk,
            MinRam = command.MinRam,
            Owner = owner,
            CreatedAt = now,
            UpdatedAt = now,
            Tags = command.Tags,
            Properties = command.Properties,
        };

        try
        {
            await _database.WriteAsync(
                async session =>
                {
                    if (owner is not null && _settings.MaxImagesPerProject is { } limit)
                    {
                        var (count, _) = await ImageRows.UsageAsync(session, owner);
                        if (count >= limit)
                        {
                            throw new OverLimitException(
                                "images.quota_images",
                                $"Project {owner} already has {count} images, its limit (image_count_total) is {limit}; delete images it no longer needs or ask for a higher limit.");
                        }
                    }

                    await ImageRows.InsertAsync(session, image);
                },
                cancellationToken);
        }
        catch (DuplicateKeyException)
        {
            throw new ConflictException("images.duplicate_id", $"Image with identifier {image.Id} already exists!");
        }

        return image;
    }

    public async Task<Image> GetAsync(AuthContext caller, string id, CancellationToken cancellationToken)
    {
        var (image, _) = await _database.ReadAsync(session => FindVisibleAsync(session, caller, id), cancellationToken);
        ImagePolicy.Table.Enforce(caller, ImagePolicy.GetImage, ImagePolicy.Target(image));
        return image;
    }

    public async Task<ImagePage> ListAsync(AuthContext caller, ImageListQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(query);
        ImagePolicy.Table.Enforce(caller, ImagePolicy.GetImages, new PolicyTarget(ProjectId: caller.ProjectId));
        var page = await _database.ReadAsync(
            async session =>
            {
                Image? marker = null;
                if (query.Marker is { } markerId)
                {
                    // The marker must be an image the caller may see, listed or not (Glance's rule).
                    (marker, _) = await FindVisibleAsync(session, caller, markerId, () => new InvalidInputException("images.bad_marker", $"Invalid marker. Image {markerId} could not be found."));
                }

                // One row more than the page tells whether another page follows.
                return await ImageRows.PageAsync(session, query, caller.ProjectId, caller.IsAdmin, marker, query.Limit + 1);
            },
            cancellationToken);

        var shown = page.Take(query.Limit).ToList();
        return new ImagePage(shown, page.Count > shown.Count && shown.Count > 0 ? shown[^1].Id : null);
    }

    public async Task<Image> UpdateAsync(AuthContext caller, string id, IReadOnlyList<PatchOperation> operations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operations);
        return await _database.WriteAsync(
            async session =>
            {
                var (image, _) = await FindVisibleAsync(session, caller, id);
                ImagePolicy.Table.Enforce(caller, ImagePolicy.ModifyImage, ImagePolicy.Target(image));
                var changed = ImagePatch.Apply(image, operations);
                if (changed.Visibility != image.Visibility)
                {
                    EnforceVisibilityChange(caller, changed.Owner, changed.Visibility);
                }

                if (changed.Owner != image.Owner && !caller.IsAdmin)
                {
                    throw new ForbiddenException("images.owner_change", "Only an administrator may change the owner of an image.");
                }

                EnsureWithinLimits(changed.Tags.Count, changed.Properties.Count);
                if (changed == image)
                {
                    return image;
                }

                changed = changed with { UpdatedAt = Now() };
                await ImageRows.UpdateAsync(session, changed);
                return changed;
            },
            cancellationToken);
    }

    public async Task DeleteAsync(AuthContext caller, string id, CancellationToken cancellationToken)
    {
        var deleted = await _database.WriteAsync(
            async session =>
            {
                var (image, _) = await FindVisibleAsync(session, caller, id);
                ImagePolicy.Table.Enforce(caller, ImagePolicy.DeleteImage, ImagePolicy.Target(image));
                if (image.Protected)
                {
                    throw new ForbiddenException("images.protected", $"Image {image.Id} is protected and cannot be deleted.");
                }

                await ImageRows.DeleteAsync(session, image.Id);
                return image;
            },
            cancellationToken);

        // The record is gone first, so nobody can read bytes that are about to vanish.
        if (deleted.Location is { } location)
        {
            await DeleteBytesAsync(deleted.Id, location);
        }

        ImagesLog.ImageDeleted(_logger, deleted.Id);
    }

    /// <summary>The image if the caller can see it, with the caller's membership; 404 otherwise, as Glance hides what is not yours.</summary>
    private static Task<(Image Image, ImageMember? Membership)> FindVisibleAsync(DataSession session, AuthContext caller, string id) =>
        FindVisibleAsync(session, caller, id, () => NoImage(id));

    private static async Task<(Image Image, ImageMember? Membership)> FindVisibleAsync(DataSession session, AuthContext caller, string id, Func<Exception> missing)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var image = await ImageRows.FindAsync(session, id);
        var membership = image is not null && caller.ProjectId is { } project ? await ImageRows.FindMemberAsync(session, id, project) : null;
        if (image is null || !Visible(caller, image, membership?.Status))
        {
            throw missing();
        }

        return (image, membership);
    }

    private static NotFoundException NoImage(string id) => new("images.not_found", $"No image found with ID {id}");

    /// <summary>Whether the caller may see the image by id (Glance's is_image_visible).</summary>
    private static bool Visible(AuthContext caller, Image image, string? memberStatus) =>
        caller.IsAdmin
        || Owns(caller, image)
        || image.Visibility is ImageVisibility.Public or ImageVisibility.Community
        || (image.Visibility == ImageVisibility.Shared && memberStatus is not null);

    private static bool Owns(AuthContext caller, Image image) =>
        caller.ProjectId is not null && string.Equals(image.Owner, caller.ProjectId, StringComparison.Ordinal);

    private static void EnforceVisibilityChange(AuthContext caller, string? owner, string visibility)
    {
        var target = new PolicyTarget(ProjectId: owner);
        if (visibility == ImageVisibility.Public)
        {
            ImagePolicy.Table.Enforce(caller, ImagePolicy.PublicizeImage, target);
        }
        else if (visibility == ImageVisibility.Community)
        {
            ImagePolicy.Table.Enforce(caller, ImagePolicy.CommunitizeImage, target);
        }
    }

    private void EnsureWithinLimits(int tags, int properties)
    {
        if (tags > _settings.MaxTagsPerImage)
        {
            throw new OverLimitException("images.quota_tags", $"Maximum number of tags exceeded: an image may carry {_settings.MaxTagsPerImage} tags (image_tag_quota); this change would give it {tags}.");
        }

        if (properties > _settings.MaxPropertiesPerImage)
        {
            throw new OverLimitException("images.quota_properties", $"Maximum number of properties exceeded: an image may carry {_settings.MaxPropertiesPerImage} properties (image_property_quota); this change would give it {properties}.");
        }
    }

    private async Task DeleteBytesAsync(string imageId, string location)
    {
        try
        {
            await _store.DeleteAsync(location, CancellationToken.None);
        }
        catch (Exception ex) when (ex is NimbusException or IOException or UnauthorizedAccessException)
        {
            ImagesLog.StrayBytes(_logger, imageId, location, ex);
        }
    }

    // Timestamps are kept to the millisecond, as stored.
    private DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds());
}

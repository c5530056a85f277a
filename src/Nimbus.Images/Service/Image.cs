using System.Collections.Immutable;

namespace Nimbus.Images.Service;

/// <summary>Glance's image statuses (api-ref "Images", "Image statuses").</summary>
internal static class ImageStatus
{
    public const string Queued = "queued";
    public const string Saving = "saving";
    public const string Uploading = "uploading";
    public const string Importing = "importing";
    public const string Active = "active";
    public const string Killed = "killed";
    public const string Deactivated = "deactivated";
    public const string Deleted = "deleted";

    public static readonly ImmutableArray<string> All = [Queued, Saving, Uploading, Importing, Active, Killed, Deactivated, Deleted, "pending_delete"];
}

/// <summary>Who may see an image (api-ref "Image visibility").</summary>
internal static class ImageVisibility
{
    public const string Public = "public";
    public const string Community = "community";
    public const string Shared = "shared";
    public const string Private = "private";

    public static readonly ImmutableArray<string> All = [Public, Community, Shared, Private];
}

/// <summary>A member's answer to an image shared with its project.</summary>
internal static class MemberStatus
{
    public const string Pending = "pending";
    public const string Accepted = "accepted";
    public const string Rejected = "rejected";

    public static readonly ImmutableArray<string> All = [Pending, Accepted, Rejected];
}

/// <summary>One image record: Glance's base attributes, free-form properties and tags.</summary>
internal sealed record Image
{
    public required string Id { get; init; }

    public string? Name { get; init; }

    public required string Status { get; init; }

    public string? DiskFormat { get; init; }

    public string? ContainerFormat { get; init; }

    public required string Visibility { get; init; }

    public bool Protected { get; init; }

    public long MinDisk { get; init; }

    public long MinRam { get; init; }

    public long? Size { get; init; }

    public long? VirtualSize { get; init; }

    public string? Checksum { get; init; }

    public string? OsHashAlgo { get; init; }

    public string? OsHashValue { get; init; }

    public string? Owner { get; init; }

    public bool OsHidden { get; init; }

    /// <summary>Where the store keeps the bytes; never shown to callers.</summary>
    public string? Location { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    public ImmutableSortedDictionary<string, string> Properties { get; init; } = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);

    public ImmutableSortedSet<string> Tags { get; init; } = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);

    // Records compare collections by reference; two images are the same when their contents are.
    public bool Equals(Image? other) =>
        other is not null
        && Id == other.Id && Name == other.Name && Status == other.Status && DiskFormat == other.DiskFormat
        && ContainerFormat == other.ContainerFormat && Visibility == other.Visibility && Protected == other.Protected
        && MinDisk == other.MinDisk && MinRam == other.MinRam && Size == other.Size && VirtualSize == other.VirtualSize
        && Checksum == other.Checksum && OsHashAlgo == other.OsHashAlgo && OsHashValue == other.OsHashValue
        && Owner == other.Owner && OsHidden == other.OsHidden && Location == other.Location
        && CreatedAt == other.CreatedAt && UpdatedAt == other.UpdatedAt
        && Properties.SequenceEqual(other.Properties) && Tags.SequenceEqual(other.Tags);

    public override int GetHashCode() => HashCode.Combine(Id, Status, UpdatedAt);
}

/// <summary>A project an image is shared with, and its answer.</summary>
internal sealed record ImageMember(string ImageId, string MemberId, string Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>An import of an image (Glance's api_image_import task, GET /v2/images/{id}/tasks).</summary>
internal sealed record ImageTask(string Id, string ImageId, string Type, string Status, string Method, string? RequestId, string? UserId, string? Owner, string Message, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public const string ImportType = "api_image_import";
    public const string Processing = "processing";
    public const string Success = "success";
}

/// <summary>One page of a listing; <see cref="NextMarker"/> is set when more images follow.</summary>
internal sealed record ImagePage(IReadOnlyList<Image> Images, string? NextMarker);

/// <summary>What a download serves: the image, and its bytes or null when it has none (204).</summary>
internal sealed record ImageDownload(Image Image, Stream? Content, long Offset, long Length, long Total, bool Partial);

/// <summary>The bytes a finished upload left in the store, and what was learnt reading them.</summary>
internal sealed record StoredImage(string Location, long Size, string Md5Hex, string Sha512Hex, long? VirtualSize);

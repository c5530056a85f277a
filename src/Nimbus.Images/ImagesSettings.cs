namespace Nimbus.Images;

/// <summary>
/// Limits of the Images service, as Glance's image_size_cap, image_property_quota, image_tag_quota,
/// image_member_quota and its per-project unified limits (image_count_total, image_size_total).
/// </summary>
public sealed record ImagesSettings
{
    /// <summary>The largest image accepted, in bytes (Glance's image_size_cap, 1 TiB).</summary>
    public long MaxImageBytes { get; init; } = 1L << 40;

    /// <summary>How many images one project may own; null for no limit.</summary>
    public long? MaxImagesPerProject { get; init; }

    /// <summary>How many bytes of image data one project may keep; null for no limit.</summary>
    public long? MaxBytesPerProject { get; init; }

    public int MaxPropertiesPerImage { get; init; } = 128;

    public int MaxTagsPerImage { get; init; } = 128;

    public int MaxMembersPerImage { get; init; } = 128;

    public void Validate()
    {
        if (MaxImageBytes <= 0 || MaxImagesPerProject < 0 || MaxBytesPerProject < 0 || MaxPropertiesPerImage < 0 || MaxTagsPerImage < 0 || MaxMembersPerImage < 0)
        {
            throw new Platform.Errors.ConfigurationException("images.bad_setting", "Images", "Images limits must not be negative, and MaxImageBytes must be positive.");
        }
    }
}

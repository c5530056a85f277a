using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Nimbus.Platform.Configuration;

namespace Nimbus.Daemon.Images;

/// <summary>Where the Image service keeps image data.</summary>
public enum ImageStoreKind
{
    /// <summary>Files under Images:StoreDirectory (default $NIMBUS_HOME/images/store).</summary>
    File,

    /// <summary>Objects in this cloud's object storage, one container for the store.</summary>
    Swift,
}

/// <summary>Images (Glance v2) in nimbusd. Section <c>Images</c>; see docs/images.md.</summary>
[OptionsSection("Images")]
public sealed class ImagesOptions : IValidatableObject
{
    [Description("Where image data lives: file (default) or swift (this cloud's object storage).")]
    public ImageStoreKind Store { get; set; } = ImageStoreKind.File;

    [Description("With the file store: the directory holding image data; empty is $NIMBUS_HOME/images/store.")]
    public string StoreDirectory { get; set; } = string.Empty;

    [Description("With the swift store: the container holding image data.")]
    public string SwiftContainer { get; set; } = "glance";

    [Description("Images a project may own; 0 for no limit (Glance's image_count_total).")]
    [Range(0, int.MaxValue, ErrorMessage = "must be 0 (no limit) or more.")]
    public int QuotaImages { get; set; }

    [Description("Bytes of image data a project may store; 0 for no limit (Glance's image_size_total).")]
    [Range(0, long.MaxValue, ErrorMessage = "must be 0 (no limit) or more.")]
    public long QuotaBytes { get; set; }

    [Description("The largest image accepted, in bytes (Glance's image_size_cap, 1 TiB).")]
    [Range(1, long.MaxValue, ErrorMessage = "must be at least 1 byte.")]
    public long MaxImageBytes { get; set; } = 1L << 40;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Store == ImageStoreKind.Swift && string.IsNullOrWhiteSpace(SwiftContainer))
        {
            yield return new ValidationResult("must name a container when Images:Store is swift.", [nameof(SwiftContainer)]);
        }
    }
}

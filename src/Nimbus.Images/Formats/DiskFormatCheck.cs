namespace Nimbus.Images.Formats;

/// <summary>
/// Whether inspected bytes may be stored under the disk_format the client declared, following Glance's
/// upload check ([image_format] require_image_format_match): qcow2, vmdk, iso, vhdx, vdi must be exactly
/// that; raw must not be any format a hypervisor would interpret; ami, aki and ari are kernel and
/// ramdisk blobs Glance never inspects.
/// </summary>
internal static class DiskFormatCheck
{
    /// <summary>Null when the bytes may be stored as <paramref name="declaredDiskFormat"/>; otherwise why not and what to do.</summary>
    public static string? Verify(string declaredDiskFormat, InspectedFormat inspected)
    {
        ArgumentNullException.ThrowIfNull(declaredDiskFormat);
        ArgumentNullException.ThrowIfNull(inspected);
        var declared = declaredDiskFormat.ToLowerInvariant();
        if (declared is DiskFormats.Ami or DiskFormats.Aki or DiskFormats.Ari)
        {
            return null;
        }

        if (inspected.Problem is not null)
        {
            return $"The image data was declared {declared} and is {Describe(inspected.Format)}, which cannot be accepted: {inspected.Problem}.";
        }

        var matches = declared switch
        {
            // A fixed VHD keeps its footer at the end, so its head reads as raw.
            DiskFormats.Vhd => inspected.Format is DiskFormats.Vhd or DiskFormats.Raw,
            // Glance has no ploop inspector: it only refuses what is recognisably something else.
            DiskFormats.Ploop => inspected.Format is DiskFormats.Raw,
            _ => inspected.Format == declared,
        };
        if (matches)
        {
            return null;
        }

        var remedy = declared == DiskFormats.Iso
            ? $"upload it with --disk-format {inspected.Format}"
            : inspected.Format == DiskFormats.Raw
            ? $"upload it with --disk-format raw, or convert it to {declared} first (qemu-img convert -O {QemuName(declared)})"
            : $"upload it with --disk-format {inspected.Format}, or convert it with qemu-img convert -O {QemuName(declared)}";
        return $"The image data was declared {declared} but is {Describe(inspected.Format)}: {remedy}.";
    }

    private static string Describe(string format) => format switch
    {
        DiskFormats.Raw => "a raw disk image (no known format header)",
        DiskFormats.Iso => "an ISO 9660 image",
        _ => $"a {format} image",
    };

    // qemu-img's driver names differ from Glance's for VHD.
    private static string QemuName(string format) => format switch
    {
        DiskFormats.Vhd => "vpc",
        _ => format,
    };
}

namespace Nimbus.Images.Formats;

/// <summary>The disk_format names Glance accepts (Image API v2, "Disk and Container Formats").</summary>
internal static class DiskFormats
{
    public const string Raw = "raw";
    public const string Qcow2 = "qcow2";
    public const string Vmdk = "vmdk";
    public const string Iso = "iso";
    public const string Vhd = "vhd";
    public const string Vhdx = "vhdx";
    public const string Vdi = "vdi";
    public const string Ploop = "ploop";
    public const string Ami = "ami";
    public const string Aki = "aki";
    public const string Ari = "ari";

    /// <summary>QED is recognised only to be refused: nothing in Nimbus (or OpenStack) runs it.</summary>
    public const string Qed = "qed";
}

/// <summary>
/// What the first bytes of an image are: <paramref name="Format"/> (a <see cref="DiskFormats"/> name),
/// the size of the disk a guest sees (null while unknown: raw before its end, VHDX whose metadata lies
/// beyond the inspected head), and <paramref name="Problem"/> when the bytes are refused whatever was
/// declared (a qcow2 with a backing file, a descriptor-only VMDK, two formats at once).
/// </summary>
internal sealed record InspectedFormat(string Format, long? VirtualSize, string? Problem = null);

using Nimbus.Images.Formats;

namespace Nimbus.Images.Tests.Formats;

public sealed class DiskFormatCheckTests
{
    [Theory]
    [InlineData("qcow2", "qcow2")]
    [InlineData("QCOW2", "qcow2")]
    [InlineData("vmdk", "vmdk")]
    [InlineData("iso", "iso")]
    [InlineData("raw", "raw")]
    [InlineData("vhd", "vhd")]
    [InlineData("vhd", "raw")]
    [InlineData("vhdx", "vhdx")]
    [InlineData("vdi", "vdi")]
    [InlineData("ploop", "raw")]
    [InlineData("ami", "raw")]
    [InlineData("aki", "qcow2")]
    [InlineData("ari", "iso")]
    public void Bytes_of_the_declared_format_are_accepted(string declared, string actual)
    {
        Assert.Null(DiskFormatCheck.Verify(declared, new InspectedFormat(actual, 1024)));
    }

    [Fact]
    public void Qcow2_declared_raw_is_refused_with_both_ways_out()
    {
        Assert.Equal(
            "The image data was declared raw but is a qcow2 image: upload it with --disk-format qcow2, or convert it with qemu-img convert -O raw.",
            DiskFormatCheck.Verify("raw", new InspectedFormat("qcow2", 1 << 30)));
    }

    [Fact]
    public void Raw_declared_qcow2_is_refused_with_both_ways_out()
    {
        Assert.Equal(
            "The image data was declared qcow2 but is a raw disk image (no known format header): upload it with --disk-format raw, or convert it to qcow2 first (qemu-img convert -O qcow2).",
            DiskFormatCheck.Verify("qcow2", new InspectedFormat("raw", 1 << 20)));
    }

    [Fact]
    public void Iso_declared_raw_is_refused()
    {
        Assert.Equal(
            "The image data was declared raw but is an ISO 9660 image: upload it with --disk-format iso, or convert it with qemu-img convert -O raw.",
            DiskFormatCheck.Verify("raw", new InspectedFormat("iso", 1 << 20)));
    }

    [Fact]
    public void Raw_declared_iso_is_refused_pointing_at_raw()
    {
        Assert.Equal(
            "The image data was declared iso but is a raw disk image (no known format header): upload it with --disk-format raw.",
            DiskFormatCheck.Verify("iso", new InspectedFormat("raw", 1 << 20)));
    }

    [Fact]
    public void Vmdk_declared_vhd_is_refused_naming_qemu_img_driver()
    {
        Assert.Equal(
            "The image data was declared vhd but is a vmdk image: upload it with --disk-format vmdk, or convert it with qemu-img convert -O vpc.",
            DiskFormatCheck.Verify("vhd", new InspectedFormat("vmdk", 1 << 20)));
    }

    [Fact]
    public void Qcow2_declared_ploop_is_refused()
    {
        Assert.NotNull(DiskFormatCheck.Verify("ploop", new InspectedFormat("qcow2", 1 << 20)));
    }

    [Fact]
    public void Unsafe_image_is_refused_even_under_its_own_format()
    {
        Assert.Equal(
            "The image data was declared qcow2 and is a qcow2 image, which cannot be accepted: the qcow2 image names a backing file.",
            DiskFormatCheck.Verify("qcow2", new InspectedFormat("qcow2", 1 << 20, "the qcow2 image names a backing file")));
    }

    [Fact]
    public void Unsafe_image_is_refused_when_declared_raw()
    {
        Assert.NotNull(DiskFormatCheck.Verify("raw", new InspectedFormat("vmdk", null, "the VMDK descriptor names no extents")));
    }
}

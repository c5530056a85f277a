using System.Buffers.Binary;
using System.Text;
using Nimbus.Images.Formats;

namespace Nimbus.Images.Tests.Formats;

public sealed class DiskFormatInspectorTests : IDisposable
{
    private readonly QemuImages _images = new();

    public void Dispose() => _images.Dispose();

    private static async Task<InspectedFormat> InspectFileAsync(string path) =>
        DiskFormatInspector.Inspect(await QemuImages.HeadAsync(path), new FileInfo(path).Length);

    [Fact]
    public async Task Qcow2_from_qemu_img_is_qcow2_with_its_virtual_size()
    {
        var path = await _images.CreateAsync("a.qcow2", "-f", "qcow2", "a.qcow2", "1G");

        Assert.Equal(new InspectedFormat("qcow2", 1L << 30), await InspectFileAsync(path));
    }

    [Fact]
    public async Task Qcow2_version_2_is_qcow2_with_its_virtual_size()
    {
        var path = await _images.CreateAsync("v2.qcow2", "-f", "qcow2", "-o", "compat=0.10", "v2.qcow2", "3M");

        Assert.Equal(new InspectedFormat("qcow2", 3L << 20), await InspectFileAsync(path));
    }

    [Fact]
    public async Task Qcow2_with_a_backing_file_is_refused()
    {
        await _images.CreateAsync("base.qcow2", "-f", "qcow2", "base.qcow2", "64M");
        var path = await _images.CreateAsync("child.qcow2", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "child.qcow2");

        var inspected = await InspectFileAsync(path);

        Assert.Equal("qcow2", inspected.Format);
        Assert.Equal(64L << 20, inspected.VirtualSize);
        Assert.Contains("backing file", inspected.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Qcow2_with_an_external_data_file_is_refused()
    {
        var path = await _images.CreateAsync("d.qcow2", "-f", "qcow2", "-o", "data_file=d.raw", "d.qcow2", "16M");

        var inspected = await InspectFileAsync(path);

        Assert.Equal("qcow2", inspected.Format);
        Assert.Contains("external data file", inspected.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Qcow2_with_unknown_incompatible_features_is_refused()
    {
        var head = Qcow2Header(version: 3, size: 1 << 20);
        BinaryPrimitives.WriteUInt64BigEndian(head.AsSpan(72), 1UL << 40);

        Assert.Contains("incompatible features", DiskFormatInspector.Inspect(head, head.Length).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Monolithic_sparse_vmdk_is_vmdk_with_its_capacity()
    {
        var path = await _images.CreateAsync("a.vmdk", "-f", "vmdk", "a.vmdk", "100M");

        Assert.Equal(new InspectedFormat("vmdk", 100L << 20), await InspectFileAsync(path));
    }

    [Fact]
    public async Task Stream_optimized_vmdk_is_vmdk_with_its_capacity()
    {
        var path = await _images.CreateAsync("s.vmdk", "-f", "vmdk", "-o", "subformat=streamOptimized", "s.vmdk", "200M");

        Assert.Equal(new InspectedFormat("vmdk", 200L << 20), await InspectFileAsync(path));
    }

    [Theory]
    [InlineData("monolithicFlat")]
    [InlineData("twoGbMaxExtentSparse")]
    public async Task Descriptor_only_vmdk_is_refused(string subformat)
    {
        var path = await _images.CreateAsync("desc.vmdk", "-f", "vmdk", "-o", $"subformat={subformat}", "desc.vmdk", "10M");

        var inspected = await InspectFileAsync(path);

        Assert.Equal("vmdk", inspected.Format);
        Assert.Contains("descriptor only", inspected.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Extent_file_of_a_split_vmdk_is_refused()
    {
        await _images.CreateAsync("t.vmdk", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", "t.vmdk", "10M");

        var inspected = await InspectFileAsync(_images.PathOf("t-s001.vmdk"));

        Assert.Equal("vmdk", inspected.Format);
        Assert.NotNull(inspected.Problem);
    }

    [Theory]
    [InlineData("vmfs", "createType \"vmfs\" is not supported")]
    [InlineData("monolithicSparse\"\nRW 2048 SPARSE \"/etc/shadow", "extent in another directory")]
    [InlineData("monolithicSparse\"\nrm -rf /\n#\"", "line Nimbus does not understand")]
    public void Vmdk_with_an_unsupported_descriptor_is_refused(string createType, string problem)
    {
        var head = VmdkHeader($"# Disk DescriptorFile\nversion=1\ncreateType=\"{createType}\"\nRW 2048 SPARSE \"x.vmdk\"\n");

        Assert.Contains(problem, DiskFormatInspector.Inspect(head, null).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Vmdk_descriptor_without_extents_is_refused()
    {
        var head = VmdkHeader("# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicSparse\"\n");

        Assert.Contains("no extents", DiskFormatInspector.Inspect(head, null).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Iso_from_genisoimage_is_iso_with_its_volume_size()
    {
        var path = await _images.IsoAsync("c.iso");

        Assert.Equal(new InspectedFormat("iso", new FileInfo(path).Length), await InspectFileAsync(path));
    }

    [Fact]
    public void Hand_built_iso_volume_size_is_blocks_times_block_size()
    {
        var head = IsoHead(blocks: 1234, blockSize: 2048);

        Assert.Equal(new InspectedFormat("iso", 1234L * 2048), DiskFormatInspector.Inspect(head, null));
    }

    [Fact]
    public void Qcow2_header_with_an_iso_descriptor_matches_two_formats_and_is_refused()
    {
        var head = IsoHead(blocks: 10, blockSize: 2048);
        Qcow2Header(version: 3, size: 1 << 20).AsSpan(0, 104).CopyTo(head);

        var inspected = DiskFormatInspector.Inspect(head, null);

        Assert.Contains("more than one format (qcow2, iso)", inspected.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dynamic_vhd_is_vhd_with_its_current_size()
    {
        var path = await _images.CreateAsync("v.vhd", "-f", "vpc", "v.vhd", "10M");

        // qemu rounds a VHD up to whole cylinders/heads/sectors, so 10 MiB becomes 10514432 bytes.
        Assert.Equal(new InspectedFormat("vhd", 10514432), await InspectFileAsync(path));
    }

    [Fact]
    public async Task Vhdx_is_vhdx_with_its_size_unknown_from_the_head()
    {
        var path = await _images.CreateAsync("x.vhdx", "-f", "vhdx", "x.vhdx", "10M");

        Assert.Equal(new InspectedFormat("vhdx", null), await InspectFileAsync(path));
    }

    [Fact]
    public async Task Vdi_is_vdi_with_its_disk_size()
    {
        var path = await _images.CreateAsync("i.vdi", "-f", "vdi", "i.vdi", "10M");

        Assert.Equal(new InspectedFormat("vdi", 10L << 20), await InspectFileAsync(path));
    }

    [Fact]
    public void Qed_is_refused()
    {
        var head = new byte[512];
        "QED\0"u8.CopyTo(head);

        Assert.Equal("qed", DiskFormatInspector.Inspect(head, null).Format);
        Assert.NotNull(DiskFormatInspector.Inspect(head, null).Problem);
    }

    [Fact]
    public void Unrecognised_bytes_are_raw_sized_by_their_length_once_known()
    {
        var head = new byte[4096];
        new Random(3).NextBytes(head);
        head[0] = 0xeb;

        Assert.Equal(new InspectedFormat("raw", 10_000_000), DiskFormatInspector.Inspect(head, 10_000_000));
        Assert.Equal(new InspectedFormat("raw", null), DiskFormatInspector.Inspect(head, null));
        Assert.Equal(new InspectedFormat("raw", 0), DiskFormatInspector.Inspect([], 0));
    }

    [Fact]
    public void Truncated_qcow2_header_is_refused()
    {
        Assert.NotNull(DiskFormatInspector.Inspect([(byte)'Q', (byte)'F', (byte)'I', 0xfb, 0, 0], 6).Problem);
    }

    internal static byte[] Qcow2Header(uint version, ulong size)
    {
        var head = new byte[512];
        head[0] = (byte)'Q';
        head[1] = (byte)'F';
        head[2] = (byte)'I';
        head[3] = 0xfb;
        BinaryPrimitives.WriteUInt32BigEndian(head.AsSpan(4), version);
        BinaryPrimitives.WriteUInt64BigEndian(head.AsSpan(24), size);
        BinaryPrimitives.WriteUInt32BigEndian(head.AsSpan(100), 104);
        return head;
    }

    internal static byte[] IsoHead(uint blocks, ushort blockSize)
    {
        var head = new byte[DiskFormatInspector.HeadLength];
        var descriptor = head.AsSpan(32768, 2048);
        descriptor[0] = 1;
        "CD001"u8.CopyTo(descriptor[1..]);
        descriptor[6] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor[80..], blocks);
        BinaryPrimitives.WriteUInt32BigEndian(descriptor[84..], blocks);
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor[128..], blockSize);
        BinaryPrimitives.WriteUInt16BigEndian(descriptor[130..], blockSize);
        return head;
    }

    private static byte[] VmdkHeader(string descriptor)
    {
        var head = new byte[4096];
        "KDMV"u8.CopyTo(head);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(head.AsSpan(12), 2048);
        BinaryPrimitives.WriteUInt64LittleEndian(head.AsSpan(28), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(head.AsSpan(36), 4);
        Encoding.ASCII.GetBytes(descriptor).CopyTo(head.AsSpan(512));
        return head;
    }
}

using Nimbus.Virt.Definitions;

namespace Nimbus.Virt.Tests;

public sealed class StorageXmlTests
{
    [Fact]
    public void Pool_xml_formats_to_its_golden_canonical_form_and_round_trips()
    {
        var pool = StorageXml.ParsePool(Golden.Read("pools/default.input.xml"));
        var formatted = StorageXml.FormatPool(pool, capacity: 100, allocation: 40, available: 60);

        Golden.AssertMatches("pools/default.expected.xml", formatted);
        Assert.Equal(pool, StorageXml.ParsePool(formatted));
    }

    [Fact]
    public void Volume_xml_reads_capacity_format_and_backing_store()
    {
        var volume = StorageXml.ParseVolume(Golden.Read("volumes/overlay.input.xml"));

        Assert.Equal(10UL << 30, volume.CapacityBytes);
        Assert.Equal(VolumeFormat.Qcow2, volume.Format);
        Assert.Equal("/var/lib/nimbus/images/nimbus-tiny.qcow2", volume.BackingPath);
        Assert.Equal(VolumeFormat.Qcow2, volume.BackingFormat);
    }

    [Fact]
    public void Volume_info_formats_to_its_golden_form()
    {
        var info = new VolumeInfo("web1.qcow2", "/var/lib/nimbus/images/web1.qcow2", VolumeFormat.Qcow2, 10UL << 30, 196_608, 196_608, ["/var/lib/nimbus/images/nimbus-tiny.qcow2"]);

        Golden.AssertMatches("volumes/overlay.expected.xml", StorageXml.FormatVolume(info));
    }

    [Theory]
    [InlineData("<pool type='zfs'><name>p</name><target><path>/p</path></target></pool>", "attribute 'type' is 'zfs'")]
    [InlineData("<pool type='dir'><target><path>/p</path></target></pool>", "element <name> is missing")]
    [InlineData("<pool type='dir'><name>p</name></pool>", "element <target> is missing")]
    [InlineData("<pool type='dir'><name>p</name><target><path>relative</path></target></pool>", "must be an absolute path")]
    [InlineData("<pool type='dir'><name>a/b</name><target><path>/p</path></target></pool>", "is not a usable pool name")]
    [InlineData("<pool type='dir'><name>p</name><target><path>/p</path><permissions><mode>999</mode></permissions></target></pool>", "mode '999' is not octal")]
    [InlineData("<pool type='dir'><name>p</name><source><device path='/dev/sdb'/></source><target><path>/p</path></target></pool>", "element <device> is not supported")]
    public void Bad_pool_xml_is_refused_naming_what_is_wrong(string xml, string expected)
    {
        var error = Assert.Throws<VirtException>(() => StorageXml.ParsePool(xml));

        Assert.Equal(VirtErrorCode.XmlError, error.Code);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<volume><name>v</name></volume>", "element <capacity> is missing")]
    [InlineData("<volume><name>v</name><capacity unit='lightyears'>1</capacity></volume>", "unit 'lightyears' is not known")]
    [InlineData("<volume><name>v</name><capacity>1</capacity><target><format type='vdi'/></target></volume>", "attribute 'type' is 'vdi'")]
    [InlineData("<volume><name>v</name><capacity>1</capacity><backingStore><path>/b</path></backingStore></volume>", "only a qcow2 volume can have a backing store")]
    [InlineData("<volume type='block'><name>v</name><capacity>1</capacity></volume>", "volume type 'block' is not supported")]
    public void Bad_volume_xml_is_refused_naming_what_is_wrong(string xml, string expected)
    {
        var error = Assert.Throws<VirtException>(() => StorageXml.ParseVolume(xml));

        Assert.Equal(VirtErrorCode.XmlError, error.Code);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}

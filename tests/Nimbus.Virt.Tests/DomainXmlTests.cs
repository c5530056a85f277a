using Nimbus.Virt.Definitions;

namespace Nimbus.Virt.Tests;

public sealed class DomainXmlTests
{
    public static TheoryData<string> GoldenDomains() => new(Golden.Names("domains", ".input.xml"));

    [Theory]
    [MemberData(nameof(GoldenDomains))]
    public void Domain_xml_formats_to_its_golden_canonical_form(string name)
    {
        var definition = DomainXml.Parse(Golden.Read($"domains/{name}.input.xml"));

        Golden.AssertMatches($"domains/{name}.expected.xml", DomainXml.Format(definition));
    }

    [Theory]
    [MemberData(nameof(GoldenDomains))]
    public void Canonical_domain_xml_survives_a_round_trip_unchanged(string name)
    {
        var canonical = DomainXml.Format(DomainXml.Parse(Golden.Read($"domains/{name}.input.xml")));

        var again = DomainXml.Parse(canonical);

        Assert.Equal(canonical, DomainXml.Format(again));
    }

    [Fact]
    public void Units_are_normalised_to_kib_and_boot_memory_is_capped_at_the_maximum()
    {
        var domain = DomainXml.Parse(Minimal(memory: "<memory unit='GiB'>2</memory><currentMemory unit='GiB'>4</currentMemory>"));

        Assert.Equal(2UL * 1024 * 1024, domain.MemoryKiB);
        Assert.Equal(domain.MemoryKiB, domain.CurrentMemoryKiB);
    }

    [Fact]
    public void Missing_uuid_and_mac_are_generated()
    {
        var domain = DomainXml.Parse(Minimal(uuid: string.Empty, devices: "<interface type='user'/>"));

        Assert.NotEqual(Guid.Empty, domain.Uuid);
        Assert.Matches("^52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$", Assert.Single(domain.Interfaces).Mac);
    }

    [Theory]
    [InlineData("<domain type='kvm'><name>x</name>", "not well-formed")]
    [InlineData("<pool type='dir'><name>x</name></pool>", "expected a <domain> document")]
    [InlineData("TYPE=xen", "attribute 'type' is 'xen'; supported: kvm, qemu")]
    [InlineData("NAME=", "element <name> is missing")]
    [InlineData("NAME=<name>a/b</name>", "'a/b' is not a usable domain name")]
    [InlineData("UUID=<uuid>not-a-uuid</uuid>", "<uuid> 'not-a-uuid' is not a UUID")]
    [InlineData("MEMORY=<memory unit='KiB'>0</memory>", "memory must be at least 1 KiB")]
    [InlineData("MEMORY=<memory unit='parsecs'>5</memory>", "unit 'parsecs' is not known")]
    [InlineData("MEMORY=<memory unit='MiB'>lots</memory>", "'lots' is not a whole number")]
    [InlineData("MEMORY=", "element <memory> is missing")]
    [InlineData("VCPU=<vcpu>0</vcpu>", "0 vCPUs is out of range")]
    [InlineData("VCPU=<vcpu current='3'>2</vcpu>", "current='3' must be from 1 to the maximum of 2")]
    [InlineData("DEVICES=<sound model='ich6'/>", "element <sound> is not supported by Nimbus in <devices>")]
    [InlineData("DEVICES=<disk type='file' device='disk' snapshot='no'><source file='/a'/><target dev='vda'/></disk>", "attribute 'snapshot' of <disk> is not supported")]
    [InlineData("DEVICES=<disk type='file' device='floppy'><source file='/a'/><target dev='fda'/></disk>", "attribute 'device' is 'floppy'; supported: disk, cdrom")]
    [InlineData("DEVICES=<disk type='file'><source file='/a'/><target dev='vda'/></disk><disk type='file'><source file='/b'/><target dev='vda'/></disk>", "target dev 'vda' is used by two disks")]
    [InlineData("DEVICES=<disk type='file'><driver name='qemu' type='vdi'/><source file='/a'/><target dev='vda'/></disk>", "attribute 'type' is 'vdi'; supported: raw, qcow2, vmdk")]
    [InlineData("DEVICES=<disk type='file'><target dev='vda'/></disk>", "a disk needs a <source>")]
    [InlineData("DEVICES=<disk type='file' device='cdrom'><target dev='vdb' bus='virtio'/></disk>", "a cdrom cannot sit on the virtio bus")]
    [InlineData("DEVICES=<disk type='file'><source file='relative.img'/><target dev='vda'/></disk>", "must be an absolute path")]
    [InlineData("DEVICES=<interface type='network'/>", "<source network='…'/> is missing")]
    [InlineData("DEVICES=<interface type='user'><mac address='52:54:00:zz:00:01'/></interface>", "is not a MAC address")]
    [InlineData("DEVICES=<interface type='user'><mac address='01:54:00:00:00:01'/></interface>", "is a multicast address")]
    [InlineData("DEVICES=<interface type='user'><mac address='52:54:00:00:00:01'/></interface><interface type='user'><mac address='52:54:00:00:00:01'/></interface>", "is used by two interfaces")]
    [InlineData("DEVICES=<serial type='file'><target port='0'/></serial>", "<source path='…'/> is missing for a file serial")]
    [InlineData("DEVICES=<graphics type='spice'/>", "graphics type 'spice' is not supported; use vnc")]
    [InlineData("DEVICES=<graphics type='vnc' port='80' autoport='no'/>", "port 80 is out of range")]
    [InlineData("DEVICES=<rng model='virtio'><backend model='egd'/></rng>", "backend model 'egd' is not supported")]
    [InlineData("OS=<os><type>xen</type></os>", "os type 'xen' is not supported; use hvm")]
    [InlineData("OS=<os><type>hvm</type><initrd>/boot/initrd</initrd></os>", "<initrd> and <cmdline> need a <kernel>")]
    [InlineData("OS=<os><type>hvm</type><boot dev='usb'/></os>", "attribute 'dev' is 'usb'; supported: hd, cdrom, network, fd")]
    [InlineData("EXTRA=<on_crash>explode</on_crash>", "<on_crash> is 'explode'")]
    [InlineData("EXTRA=<cpu mode='custom'/>", "mode 'custom' needs a <model>")]
    [InlineData("EXTRA=<seclabel type='none'/>", "element <seclabel> is not supported by Nimbus in <domain>")]
    public void Bad_domain_xml_is_refused_naming_what_is_wrong(string change, string expected)
    {
        var xml = change.StartsWith('<') ? change : Apply(change);

        var error = Assert.Throws<VirtException>(() => DomainXml.Parse(xml));

        Assert.Equal(VirtErrorCode.XmlError, error.Code);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refusal_names_the_line_of_the_offending_element()
    {
        var xml = Minimal(devices: "\n\n<sound model='ich6'/>");

        var error = Assert.Throws<VirtException>(() => DomainXml.Parse(xml));

        Assert.Matches(@"domain/devices/sound \(line \d+\)", error.Message);
    }

    private static string Apply(string change)
    {
        var split = change.IndexOf('=', StringComparison.Ordinal);
        var (key, value) = (change[..split], change[(split + 1)..]);
        return key switch
        {
            "TYPE" => Minimal(type: value),
            "NAME" => Minimal(name: value),
            "UUID" => Minimal(uuid: value),
            "MEMORY" => Minimal(memory: value),
            "VCPU" => Minimal(vcpu: value),
            "DEVICES" => Minimal(devices: value),
            "OS" => Minimal(os: value),
            "EXTRA" => Minimal(extra: value),
            _ => throw new ArgumentException(key),
        };
    }

    internal static string Minimal(
        string type = "kvm",
        string name = "<name>vm</name>",
        string uuid = "<uuid>0b6a6c43-4e52-4d6f-9b8a-2f0c51a0c0ff</uuid>",
        string memory = "<memory unit='MiB'>256</memory>",
        string vcpu = "<vcpu>1</vcpu>",
        string os = "<os><type>hvm</type></os>",
        string devices = "",
        string extra = "") =>
        $"<domain type='{type}'>{name}{uuid}{memory}{vcpu}{os}{extra}<devices>{devices}</devices></domain>";
}

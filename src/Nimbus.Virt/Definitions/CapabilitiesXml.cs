namespace Nimbus.Virt.Definitions;

/// <summary>The capabilities document (libvirt's formatcaps, the subset Nimbus fills): host arch, and the guests it runs.</summary>
public static class CapabilitiesXml
{
    public static string Format(string emulator, IEnumerable<DomainType> domainTypes)
    {
        ArgumentNullException.ThrowIfNull(domainTypes);
        var xml = new LibvirtXmlWriter();
        xml.StartElement("capabilities");
        xml.StartElement("host").StartElement("cpu").Element("arch", "x86_64").EndElement().EndElement();
        xml.StartElement("guest").Element("os_type", "hvm");
        xml.StartElement("arch").Attribute("name", "x86_64").Element("wordsize", "64").Element("emulator", emulator);
        foreach (var type in domainTypes)
        {
            xml.StartElement("domain").Attribute("type", StrictElement.XmlName(type)).EndElement();
        }

        xml.EndElement().EndElement().EndElement();
        return xml.ToString();
    }
}

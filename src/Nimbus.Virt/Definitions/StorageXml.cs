using System.Globalization;

namespace Nimbus.Virt.Definitions;

/// <summary>Parses, validates and formats pool and volume XML (libvirt's formatstorage, a documented subset). Pure.</summary>
public static class StorageXml
{
    public static PoolDefinition ParsePool(string xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        var root = StrictElement.Load(xml, "pool");
        var type = root.EnumAttribute<PoolType>("type") ?? throw root.Error("attribute 'type' is missing; use dir");
        var name = root.ChildText("name") ?? throw root.Error("element <name> is missing");
        var uuid = ReadUuid(root);
        // Sizes are reports, not settings: libvirt accepts and ignores them on define.
        root.Ignore("capacity");
        root.Ignore("allocation");
        root.Ignore("available");
        // A dir pool has no source; libvirt writes an empty <source/>, and anything inside it is refused.
        _ = root.Child("source");
        var target = root.RequiredChild("target");
        var path = target.ChildText("path") ?? throw target.Error("element <path> is missing");
        var mode = ReadMode(target);
        root.RejectUnread();

        var pool = new PoolDefinition { Type = type, Name = name, Uuid = uuid, TargetPath = path, Mode = mode };
        ValidateName(pool.Name, "pool");
        if (!path.StartsWith('/'))
        {
            throw new VirtException(VirtErrorCode.XmlError, $"pool/target/path: '{path}' must be an absolute path");
        }

        return pool;
    }

    public static string FormatPool(PoolDefinition pool, ulong? capacity = null, ulong? allocation = null, ulong? available = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var xml = new LibvirtXmlWriter();
        xml.StartElement("pool").Attribute("type", StrictElement.XmlName(pool.Type))
            .Element("name", pool.Name)
            .Element("uuid", pool.Uuid.ToString("D"));
        WriteSize(xml, "capacity", capacity);
        WriteSize(xml, "allocation", allocation);
        WriteSize(xml, "available", available);
        xml.StartElement("source").EndElement();
        xml.StartElement("target").Element("path", pool.TargetPath);
        if (pool.Mode is not null)
        {
            xml.StartElement("permissions").Element("mode", pool.Mode).EndElement();
        }

        xml.EndElement();
        xml.EndElement();
        return xml.ToString();
    }

    public static VolumeDefinition ParseVolume(string xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        var root = StrictElement.Load(xml, "volume");
        var type = root.Attribute("type") ?? "file";
        if (type != "file")
        {
            throw root.Error($"volume type '{type}' is not supported; use file");
        }

        var name = root.ChildText("name") ?? throw root.Error("element <name> is missing");
        root.Ignore("key");
        root.Ignore("physical");
        var capacity = ReadSize(root.RequiredChild("capacity"));
        var allocation = root.Child("allocation") is { } allocationElement ? ReadSize(allocationElement) : (ulong?)null;
        var target = root.Child("target");
        target?.Ignore("path");
        target?.Ignore("permissions");
        var format = target?.Child("format") is { } formatElement ? formatElement.EnumAttribute<VolumeFormat>("type") ?? VolumeFormat.Raw : VolumeFormat.Raw;
        var backing = root.Child("backingStore");
        var backingPath = backing?.ChildText("path");
        var backingFormat = backing?.Child("format")?.EnumAttribute<VolumeFormat>("type");
        backing?.Ignore("permissions");
        root.RejectUnread();

        ValidateName(name, "volume");
        if (backing is not null && backingPath is null)
        {
            throw new VirtException(VirtErrorCode.XmlError, "volume/backingStore: element <path> is missing");
        }

        if (backingPath is not null && format != VolumeFormat.Qcow2)
        {
            throw new VirtException(VirtErrorCode.XmlError, $"volume/backingStore: only a qcow2 volume can have a backing store, not {StrictElement.XmlName(format)}");
        }

        return new VolumeDefinition
        {
            Name = name,
            CapacityBytes = capacity,
            AllocationBytes = allocation,
            Format = format,
            BackingPath = backingPath,
            BackingFormat = backingFormat,
        };
    }

    public static string FormatVolume(VolumeInfo volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var xml = new LibvirtXmlWriter();
        xml.StartElement("volume").Attribute("type", "file")
            .Element("name", volume.Name)
            .Element("key", volume.Path);
        WriteSize(xml, "capacity", volume.CapacityBytes);
        WriteSize(xml, "allocation", volume.AllocationBytes);
        WriteSize(xml, "physical", volume.PhysicalBytes);
        xml.StartElement("target").Element("path", volume.Path);
        xml.StartElement("format").Attribute("type", StrictElement.XmlName(volume.Format)).EndElement();
        xml.EndElement();
        if (volume.BackingChain.Count > 0)
        {
            xml.StartElement("backingStore").Element("path", volume.BackingChain[0]).EndElement();
        }

        xml.EndElement();
        return xml.ToString();
    }

    private static Guid ReadUuid(StrictElement root)
    {
        var text = root.ChildText("uuid");
        if (text is null)
        {
            return Guid.NewGuid();
        }

        return Guid.TryParse(text, out var uuid) && uuid != Guid.Empty ? uuid : throw root.Error($"<uuid> '{text}' is not a UUID");
    }

    private static string? ReadMode(StrictElement target)
    {
        var permissions = target.Child("permissions");
        if (permissions is null)
        {
            return null;
        }

        permissions.Ignore("owner");
        permissions.Ignore("group");
        permissions.Ignore("label");
        var mode = permissions.ChildText("mode");
        if (mode is not null && (mode.Length is < 3 or > 4 || !mode.All(c => c is >= '0' and <= '7')))
        {
            throw permissions.Error($"mode '{mode}' is not octal permissions such as 0755");
        }

        return mode;
    }

    private static ulong ReadSize(StrictElement element)
    {
        var unit = element.Attribute("unit") ?? "bytes";
        var text = element.Text();
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            throw element.Error($"'{text}' is not a whole number");
        }

        return Units.ToBytes(value, unit) ?? throw element.Error($"unit '{unit}' is not known; use one of {Units.Accepted}");
    }

    private static void WriteSize(LibvirtXmlWriter xml, string element, ulong? bytes)
    {
        if (bytes is { } value)
        {
            xml.StartElement(element).Attribute("unit", "bytes").Text(value.ToString(CultureInfo.InvariantCulture)).EndElement();
        }
    }

    /// <summary>
    /// A pool or volume name is one path component of its own: a volume's becomes a file name in its
    /// pool's directory, so '/', '.', '..' and hidden names (where temporary files live) are refused.
    /// </summary>
    internal static void ValidateName(string name, string what, VirtErrorCode code = VirtErrorCode.XmlError)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name.Length > 200 || name.Contains('/', StringComparison.Ordinal) || name.StartsWith('.') || name.Any(char.IsControl))
        {
            throw new VirtException(code, $"{what}/name: '{name}' is not a usable {what} name: use 1 to 200 characters, no '/', not starting with '.'");
        }
    }
}

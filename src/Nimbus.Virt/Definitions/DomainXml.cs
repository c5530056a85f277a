using System.Globalization;
using System.Text.RegularExpressions;

namespace Nimbus.Virt.Definitions;

/// <summary>
/// Parses, validates and formats domain XML — the subset of libvirt's domain schema that Nimbus
/// supports (docs/virt.md). Pure: no I/O. Formatting is canonical, so parse(format(d)) == d and
/// format(parse(format(d))) == format(d).
/// </summary>
public static partial class DomainXml
{
    public const int MaxVcpus = 255;

    /// <summary>Parses and validates; anything unsupported or invalid is a <see cref="VirtErrorCode.XmlError"/>.</summary>
    public static DomainDefinition Parse(string xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        var root = StrictElement.Load(xml, "domain");
        var definition = Read(root);
        root.RejectUnread();
        DomainValidator.Validate(definition);
        return definition;
    }

    private static DomainDefinition Read(StrictElement root)
    {
        var type = root.EnumAttribute<DomainType>("type") ?? throw root.Error("attribute 'type' is missing; use kvm or qemu");
        var name = root.ChildText("name") ?? throw root.Error("element <name> is missing");
        var uuidText = root.ChildText("uuid");
        Guid uuid;
        if (uuidText is null)
        {
            uuid = Guid.NewGuid();
        }
        else if (!Guid.TryParse(uuidText, out uuid))
        {
            throw root.Error($"<uuid> '{uuidText}' is not a UUID");
        }

        var memory = ReadMemory(root.RequiredChild("memory"));
        var current = root.Child("currentMemory") is { } currentElement ? ReadMemory(currentElement) : memory;
        var vcpu = root.RequiredChild("vcpu");
        var vcpus = ParseCount(vcpu, vcpu.Text(), "<vcpu>");
        var currentVcpus = vcpu.IntAttribute("current");
        var placement = vcpu.EnumAttribute<VcpuPlacement>("placement") ?? VcpuPlacement.Static;

        var features = root.Child("features");
        var devices = root.Child("devices");
        // Controllers, and the addresses and aliases libvirt adds to devices, are placed by the driver: accepted and dropped.
        devices?.Ignore("controller");
        return new DomainDefinition
        {
            Type = type,
            Name = name,
            Uuid = uuid,
            Title = root.ChildText("title"),
            Description = root.Child("description")?.Text(),
            MemoryKiB = memory,
            // libvirt caps the boot memory at the maximum rather than refusing.
            CurrentMemoryKiB = Math.Min(current, memory),
            Vcpus = vcpus,
            CurrentVcpus = currentVcpus == vcpus ? null : currentVcpus,
            VcpuPlacement = placement,
            Os = ReadOs(root.RequiredChild("os")),
            Acpi = features?.Child("acpi") is not null,
            Apic = features?.Child("apic") is not null,
            Cpu = root.Child("cpu") is { } cpu ? ReadCpu(cpu) : null,
            Clock = root.Child("clock") is { } clock ? clock.EnumAttribute<ClockOffset>("offset") ?? ClockOffset.Utc : null,
            OnPoweroff = ReadAction(root, "on_poweroff", LifecycleAction.Destroy),
            OnReboot = ReadAction(root, "on_reboot", LifecycleAction.Restart),
            OnCrash = ReadAction(root, "on_crash", LifecycleAction.Destroy),
            Emulator = devices?.ChildText("emulator"),
            Disks = devices?.Children("disk").Select(ReadDisk).ToList() ?? [],
            Interfaces = devices?.Children("interface").Select(ReadInterface).ToList() ?? [],
            Serials = devices?.Children("serial").Select(ReadCharDevice).ToList() ?? [],
            Consoles = devices?.Children("console").Select(ReadConsole).ToList() ?? [],
            Channels = devices?.Children("channel").Select(ReadChannel).ToList() ?? [],
            Inputs = devices?.Children("input").Select(ReadInput).ToList() ?? [],
            Graphics = devices?.Children("graphics").Select(ReadGraphics).ToList() ?? [],
            Videos = devices?.Children("video").Select(ReadVideo).ToList() ?? [],
            MemBalloon = devices?.Child("memballoon") is { } balloon ? ReadBalloon(balloon) : null,
            Rngs = devices?.Children("rng").Select(ReadRng).ToList() ?? [],
        };
    }

    private static VideoDevice ReadVideo(StrictElement video)
    {
        video.Ignore("address");
        video.Ignore("alias");
        var model = video.RequiredChild("model");
        _ = model.Attribute("vram");
        _ = model.Attribute("heads");
        _ = model.Attribute("primary");
        return new VideoDevice(model.EnumAttribute<VideoModel>("type") ?? VideoModel.Virtio);
    }

    private static ulong ReadMemory(StrictElement element)
    {
        var unit = element.Attribute("unit") ?? "KiB";
        var text = element.Text();
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            throw element.Error($"'{text}' is not a whole number");
        }

        var bytes = Units.ToBytes(value, unit) ?? throw element.Error($"unit '{unit}' is not known; use one of {Units.Accepted}");
        var kib = bytes / 1024;
        if (kib == 0)
        {
            throw element.Error("memory must be at least 1 KiB; give a size such as 512 with unit='MiB'");
        }

        return kib;
    }

    private static int ParseCount(StrictElement element, string text, string what) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            ? count
            : throw element.Error($"{what} '{text}' is not a whole number");

    private static OsDefinition ReadOs(StrictElement os)
    {
        var type = os.RequiredChild("type");
        var typeName = type.Text();
        if (typeName != "hvm")
        {
            throw type.Error($"os type '{typeName}' is not supported; use hvm");
        }

        return new OsDefinition
        {
            Type = typeName,
            Arch = type.Attribute("arch") ?? "x86_64",
            Machine = type.Attribute("machine"),
            Boot = os.Children("boot").Select(b => b.ParseEnum<BootDevice>(b.RequiredAttribute("dev"), "attribute 'dev'")).ToList(),
            Kernel = os.ChildText("kernel"),
            Initrd = os.ChildText("initrd"),
            Cmdline = os.ChildText("cmdline"),
        };
    }

    private static CpuDefinition ReadCpu(StrictElement cpu)
    {
        var mode = cpu.EnumAttribute<CpuMode>("mode") ?? CpuMode.Custom;
        _ = cpu.Attribute("match");
        _ = cpu.Attribute("check");
        var model = cpu.Child("model");
        _ = model?.Attribute("fallback");
        return new CpuDefinition(mode, model?.Text());
    }

    private static LifecycleAction ReadAction(StrictElement root, string element, LifecycleAction fallback)
    {
        var child = root.Child(element);
        return child is null ? fallback : child.ParseEnum<LifecycleAction>(child.Text(), $"<{element}>");
    }

    private static DiskDevice ReadDisk(StrictElement disk)
    {
        var type = disk.EnumAttribute<DiskType>("type") ?? DiskType.File;
        var driver = disk.Child("driver");
        if (driver?.Attribute("name") is { } driverName && driverName != "qemu")
        {
            throw driver.Error($"driver name '{driverName}' is not supported; use qemu");
        }

        var source = disk.Child("source");
        var target = disk.RequiredChild("target");
        disk.Ignore("address");
        disk.Ignore("alias");
        return new DiskDevice
        {
            Type = type,
            Device = disk.EnumAttribute<DiskDeviceKind>("device") ?? DiskDeviceKind.Disk,
            Format = driver?.EnumAttribute<DiskFormat>("type") ?? DiskFormat.Raw,
            Source = source is null ? null : type == DiskType.File ? source.RequiredAttribute("file") : source.RequiredAttribute("dev"),
            TargetDev = target.RequiredAttribute("dev"),
            Bus = target.EnumAttribute<DiskBus>("bus") ?? DiskBus.Virtio,
            ReadOnly = disk.Child("readonly") is not null,
            Serial = disk.ChildText("serial"),
        };
    }

    private static InterfaceDevice ReadInterface(StrictElement nic)
    {
        var type = nic.EnumAttribute<InterfaceType>("type") ?? throw nic.Error("attribute 'type' is missing; use user, network or bridge");
        var source = nic.Child("source");
        var sourceName = type switch
        {
            InterfaceType.Network => (source ?? throw nic.Error("<source network='…'/> is missing")).RequiredAttribute("network"),
            InterfaceType.Bridge => (source ?? throw nic.Error("<source bridge='…'/> is missing")).RequiredAttribute("bridge"),
            _ => source is null ? null : throw source.Error("a user-mode interface takes no <source>"),
        };
        nic.Ignore("address");
        nic.Ignore("alias");
        nic.Ignore("target");
        return new InterfaceDevice
        {
            Type = type,
            Mac = nic.Child("mac")?.RequiredAttribute("address").ToLowerInvariant() ?? NewMac(),
            Source = sourceName,
            Model = nic.Child("model")?.EnumAttribute<NicModel>("type") ?? NicModel.Virtio,
        };
    }

    /// <summary>A random address in QEMU's locally administered 52:54:00 range, as libvirt generates.</summary>
    public static string NewMac()
    {
        Span<byte> tail = stackalloc byte[3];
        System.Security.Cryptography.RandomNumberGenerator.Fill(tail);
        return $"52:54:00:{tail[0]:x2}:{tail[1]:x2}:{tail[2]:x2}";
    }

    private static CharDevice ReadCharDevice(StrictElement element)
    {
        var type = element.EnumAttribute<CharDeviceType>("type") ?? CharDeviceType.Pty;
        var source = element.Child("source");
        var path = type switch
        {
            CharDeviceType.Pty => source?.Attribute("path"),
            _ => (source ?? throw element.Error($"<source path='…'/> is missing for a {StrictElement.XmlName(type)} {element.Name}")).RequiredAttribute("path"),
        };
        if (type == CharDeviceType.Unix && source!.Attribute("mode") is { } mode && mode != "bind")
        {
            throw source.Error($"mode '{mode}' is not supported; Nimbus listens on the socket (mode='bind')");
        }

        var target = element.Child("target");
        if (target?.Attribute("type") is { } targetType && targetType is not ("serial" or "isa-serial"))
        {
            throw target.Error($"target type '{targetType}' is not supported; use serial");
        }

        target?.Ignore("model");

        element.Ignore("alias");
        element.Ignore("log");
        return new CharDevice { Type = type, Path = type == CharDeviceType.Pty ? null : path, Port = target?.IntAttribute("port") ?? 0 };
    }

    private static CharDevice ReadConsole(StrictElement element) => ReadCharDevice(element);

    private static ChannelDevice ReadChannel(StrictElement channel)
    {
        var type = channel.RequiredAttribute("type");
        if (type != "unix")
        {
            throw channel.Error($"channel type '{type}' is not supported; use unix");
        }

        var source = channel.Child("source");
        _ = source?.Attribute("mode");
        var target = channel.RequiredChild("target");
        var targetType = target.RequiredAttribute("type");
        if (targetType != "virtio")
        {
            throw target.Error($"target type '{targetType}' is not supported; use virtio");
        }

        channel.Ignore("address");
        channel.Ignore("alias");
        target.Attribute("state");
        return new ChannelDevice { Path = source?.Attribute("path"), TargetName = target.RequiredAttribute("name") };
    }

    private static InputDevice ReadInput(StrictElement input)
    {
        var type = input.EnumAttribute<InputType>("type") ?? throw input.Error("attribute 'type' is missing; use tablet, mouse or keyboard");
        input.Ignore("address");
        input.Ignore("alias");
        return new InputDevice(type, input.EnumAttribute<InputBus>("bus") ?? (type == InputType.Tablet ? InputBus.Usb : InputBus.Ps2));
    }

    private static GraphicsDevice ReadGraphics(StrictElement graphics)
    {
        var type = graphics.RequiredAttribute("type");
        if (type != "vnc")
        {
            throw graphics.Error($"graphics type '{type}' is not supported; use vnc");
        }

        graphics.Ignore("address");
        graphics.Ignore("alias");
        var port = graphics.IntAttribute("port") ?? -1;
        var autoport = graphics.YesNoAttribute("autoport", port == -1);
        var listen = graphics.Attribute("listen");
        // libvirt writes the address twice: as an attribute and as <listen type='address'>; both forms are read.
        foreach (var child in graphics.Children("listen"))
        {
            var listenType = child.Attribute("type") ?? "address";
            if (listenType != "address")
            {
                throw child.Error($"listen type '{listenType}' is not supported; use address");
            }

            var address = child.Attribute("address");
            if (listen is not null && address is not null && address != listen)
            {
                throw child.Error($"address '{address}' differs from the listen='{listen}' of <graphics>; give one address");
            }

            listen ??= address;
        }

        return new GraphicsDevice { Port = autoport ? -1 : port, AutoPort = autoport, Listen = listen ?? "127.0.0.1", Password = graphics.Attribute("passwd") };
    }

    private static MemBalloonDevice ReadBalloon(StrictElement balloon)
    {
        var model = balloon.RequiredAttribute("model");
        balloon.Ignore("address");
        balloon.Ignore("alias");
        balloon.Ignore("stats");
        return model switch
        {
            "virtio" => new MemBalloonDevice(true),
            "none" => new MemBalloonDevice(false),
            _ => throw balloon.Error($"memballoon model '{model}' is not supported; use virtio or none"),
        };
    }

    private static RngDevice ReadRng(StrictElement rng)
    {
        var model = rng.RequiredAttribute("model");
        if (model != "virtio")
        {
            throw rng.Error($"rng model '{model}' is not supported; use virtio");
        }

        var backend = rng.RequiredChild("backend");
        var backendModel = backend.RequiredAttribute("model");
        if (backendModel != "random")
        {
            throw backend.Error($"backend model '{backendModel}' is not supported; use random");
        }

        rng.Ignore("address");
        rng.Ignore("alias");
        var source = backend.Text();
        return new RngDevice { Backend = source.Length == 0 ? "/dev/urandom" : source };
    }

    /// <summary>Writes the canonical XML, as <c>virsh dumpxml</c> would: two-space indents, single quotes.</summary>
    public static string Format(DomainDefinition domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var xml = new LibvirtXmlWriter();
        xml.StartElement("domain").Attribute("type", StrictElement.XmlName(domain.Type))
            .Element("name", domain.Name)
            .Element("uuid", domain.Uuid.ToString("D"))
            .ElementIf("title", domain.Title)
            .ElementIf("description", domain.Description);
        xml.StartElement("memory").Attribute("unit", "KiB").Text(Invariant(domain.MemoryKiB)).EndElement();
        xml.StartElement("currentMemory").Attribute("unit", "KiB").Text(Invariant(domain.CurrentMemoryKiB)).EndElement();
        xml.StartElement("vcpu").Attribute("placement", StrictElement.XmlName(domain.VcpuPlacement))
            .AttributeIf("current", domain.CurrentVcpus is { } current ? Invariant(current) : null)
            .Text(Invariant(domain.Vcpus)).EndElement();
        WriteOs(xml, domain.Os);
        if (domain.Acpi || domain.Apic)
        {
            xml.StartElement("features").EmptyElementIf("acpi", domain.Acpi).EmptyElementIf("apic", domain.Apic).EndElement();
        }

        if (domain.Cpu is { } cpu)
        {
            xml.StartElement("cpu").Attribute("mode", StrictElement.XmlName(cpu.Mode)).ElementIf("model", cpu.Model).EndElement();
        }

        if (domain.Clock is { } clock)
        {
            xml.StartElement("clock").Attribute("offset", StrictElement.XmlName(clock)).EndElement();
        }

        xml.Element("on_poweroff", StrictElement.XmlName(domain.OnPoweroff))
            .Element("on_reboot", StrictElement.XmlName(domain.OnReboot))
            .Element("on_crash", StrictElement.XmlName(domain.OnCrash));
        WriteDevices(xml, domain);
        xml.EndElement();
        return xml.ToString();
    }

    private static void WriteOs(LibvirtXmlWriter xml, OsDefinition os)
    {
        xml.StartElement("os");
        xml.StartElement("type").Attribute("arch", os.Arch).AttributeIf("machine", os.Machine).Text(os.Type).EndElement();
        xml.ElementIf("kernel", os.Kernel).ElementIf("initrd", os.Initrd).ElementIf("cmdline", os.Cmdline);
        foreach (var boot in os.Boot)
        {
            xml.StartElement("boot").Attribute("dev", StrictElement.XmlName(boot)).EndElement();
        }

        xml.EndElement();
    }

    private static void WriteDevices(LibvirtXmlWriter xml, DomainDefinition domain)
    {
        xml.StartElement("devices").ElementIf("emulator", domain.Emulator);
        foreach (var disk in domain.Disks)
        {
            xml.StartElement("disk").Attribute("type", StrictElement.XmlName(disk.Type)).Attribute("device", StrictElement.XmlName(disk.Device));
            xml.StartElement("driver").Attribute("name", "qemu").Attribute("type", StrictElement.XmlName(disk.Format)).EndElement();
            if (disk.Source is not null)
            {
                xml.StartElement("source").Attribute(disk.Type == DiskType.File ? "file" : "dev", disk.Source).EndElement();
            }

            xml.StartElement("target").Attribute("dev", disk.TargetDev).Attribute("bus", StrictElement.XmlName(disk.Bus)).EndElement();
            xml.EmptyElementIf("readonly", disk.ReadOnly).ElementIf("serial", disk.Serial);
            xml.EndElement();
        }

        foreach (var nic in domain.Interfaces)
        {
            xml.StartElement("interface").Attribute("type", StrictElement.XmlName(nic.Type));
            xml.StartElement("mac").Attribute("address", nic.Mac).EndElement();
            if (nic.Source is not null)
            {
                xml.StartElement("source").Attribute(nic.Type == InterfaceType.Network ? "network" : "bridge", nic.Source).EndElement();
            }

            xml.StartElement("model").Attribute("type", StrictElement.XmlName(nic.Model)).EndElement();
            xml.EndElement();
        }

        foreach (var serial in domain.Serials)
        {
            WriteCharDevice(xml, "serial", serial, targetType: null);
        }

        foreach (var console in domain.Consoles)
        {
            WriteCharDevice(xml, "console", console, targetType: "serial");
        }

        foreach (var channel in domain.Channels)
        {
            xml.StartElement("channel").Attribute("type", "unix");
            if (channel.Path is not null)
            {
                xml.StartElement("source").Attribute("mode", "bind").Attribute("path", channel.Path).EndElement();
            }

            xml.StartElement("target").Attribute("type", "virtio").Attribute("name", channel.TargetName).EndElement();
            xml.EndElement();
        }

        foreach (var input in domain.Inputs)
        {
            xml.StartElement("input").Attribute("type", StrictElement.XmlName(input.Type)).Attribute("bus", StrictElement.XmlName(input.Bus)).EndElement();
        }

        foreach (var graphics in domain.Graphics)
        {
            xml.StartElement("graphics").Attribute("type", graphics.Type).Attribute("port", Invariant(graphics.Port))
                .Attribute("autoport", graphics.AutoPort ? "yes" : "no").Attribute("listen", graphics.Listen).AttributeIf("passwd", graphics.Password);
            xml.StartElement("listen").Attribute("type", "address").Attribute("address", graphics.Listen).EndElement();
            xml.EndElement();
        }

        foreach (var video in domain.Videos)
        {
            xml.StartElement("video");
            xml.StartElement("model").Attribute("type", StrictElement.XmlName(video.Model)).EndElement();
            xml.EndElement();
        }

        if (domain.MemBalloon is { } balloon)
        {
            xml.StartElement("memballoon").Attribute("model", balloon.Enabled ? "virtio" : "none").EndElement();
        }

        foreach (var rng in domain.Rngs)
        {
            xml.StartElement("rng").Attribute("model", "virtio");
            xml.StartElement("backend").Attribute("model", "random").Text(rng.Backend).EndElement();
            xml.EndElement();
        }

        xml.EndElement();
    }

    private static void WriteCharDevice(LibvirtXmlWriter xml, string element, CharDevice device, string? targetType)
    {
        xml.StartElement(element).Attribute("type", StrictElement.XmlName(device.Type));
        if (device.Path is not null)
        {
            xml.StartElement("source").AttributeIf("mode", device.Type == CharDeviceType.Unix ? "bind" : null).Attribute("path", device.Path).EndElement();
        }

        xml.StartElement("target").AttributeIf("type", targetType).Attribute("port", Invariant(device.Port)).EndElement();
        xml.EndElement();
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Invariant(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", RegexOptions.CultureInvariant)]
    internal static partial Regex MacAddress();
}

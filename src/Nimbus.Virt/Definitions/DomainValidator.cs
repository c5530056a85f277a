using System.Net;

namespace Nimbus.Virt.Definitions;

/// <summary>The checks a parsed domain must pass before any driver sees it. Pure: no I/O.</summary>
public static class DomainValidator
{
    private static readonly System.Buffers.SearchValues<char> ForbiddenNameCharacters = System.Buffers.SearchValues.Create("/\\\n\r\t\0");

    public static void Validate(DomainDefinition domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (domain.Name.Length == 0 || domain.Name.Length > 200 || domain.Name.AsSpan().ContainsAny(ForbiddenNameCharacters) || domain.Name.StartsWith('.'))
        {
            throw Invalid("domain/name", $"'{domain.Name}' is not a usable domain name: use 1 to 200 characters, no '/' or control characters, not starting with '.'");
        }

        if (domain.Uuid == Guid.Empty)
        {
            throw Invalid("domain/uuid", "the all-zero UUID is reserved; leave <uuid> out to have one generated");
        }

        if (domain.Title is { } title && title.Contains('\n', StringComparison.Ordinal))
        {
            throw Invalid("domain/title", "a title must be a single line; use <description> for more");
        }

        if (domain.MemoryKiB == 0)
        {
            throw Invalid("domain/memory", "memory must be greater than 0");
        }

        if (domain.Vcpus < 1 || domain.Vcpus > DomainXml.MaxVcpus)
        {
            throw Invalid("domain/vcpu", $"{domain.Vcpus} vCPUs is out of range; use 1 to {DomainXml.MaxVcpus}");
        }

        if (domain.CurrentVcpus is { } current && (current < 1 || current > domain.Vcpus))
        {
            throw Invalid("domain/vcpu", $"current='{current}' must be from 1 to the maximum of {domain.Vcpus}");
        }

        if (domain.Os.Arch is not ("x86_64" or "i686"))
        {
            throw Invalid("domain/os/type", $"arch '{domain.Os.Arch}' is not supported; use x86_64 or i686");
        }

        if ((domain.Os.Initrd is not null || domain.Os.Cmdline is not null) && domain.Os.Kernel is null)
        {
            throw Invalid("domain/os", "<initrd> and <cmdline> need a <kernel> for direct boot");
        }

        if (domain.Os.Boot.Distinct().Count() != domain.Os.Boot.Count)
        {
            throw Invalid("domain/os/boot", "a boot device is listed twice");
        }

        if (domain.Cpu is { Mode: CpuMode.Custom, Model: null })
        {
            throw Invalid("domain/cpu", "mode 'custom' needs a <model>, such as qemu64");
        }

        ValidateDisks(domain.Disks);
        ValidateInterfaces(domain.Interfaces);
        ValidatePorts("serial", domain.Serials);
        ValidatePorts("console", domain.Consoles);
        foreach (var graphics in domain.Graphics)
        {
            if (!graphics.AutoPort && graphics.Port is < 5900 or > 65535)
            {
                throw Invalid("domain/devices/graphics", $"port {graphics.Port} is out of range; use 5900 to 65535, or autoport='yes'");
            }

            if (!IPAddress.TryParse(graphics.Listen, out _))
            {
                throw Invalid("domain/devices/graphics", $"listen '{graphics.Listen}' is not an IP address");
            }

            if (graphics.Password is { Length: > 8 })
            {
                throw Invalid("domain/devices/graphics", "a VNC password is at most 8 characters (the VNC protocol ignores the rest)");
            }
        }

        if (domain.Channels.Select(c => c.TargetName).Distinct(StringComparer.Ordinal).Count() != domain.Channels.Count)
        {
            throw Invalid("domain/devices/channel", "two channels have the same target name");
        }
    }

    private static void ValidateDisks(IReadOnlyList<DiskDevice> disks)
    {
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var disk in disks)
        {
            var path = $"domain/devices/disk[target dev='{disk.TargetDev}']";
            if (!targets.Add(disk.TargetDev))
            {
                throw Invalid(path, $"target dev '{disk.TargetDev}' is used by two disks; give each disk its own (vda, vdb, …)");
            }

            if (!IsTargetName(disk.TargetDev))
            {
                throw Invalid(path, $"target dev '{disk.TargetDev}' is not a disk name such as vda, sda or hda");
            }

            if (disk.Source is null && disk.Device == DiskDeviceKind.Disk)
            {
                throw Invalid(path, "a disk needs a <source>; only a cdrom may be empty");
            }

            if (disk.Source is not null && !disk.Source.StartsWith('/'))
            {
                throw Invalid(path, $"source '{disk.Source}' must be an absolute path");
            }

            if (disk.Device == DiskDeviceKind.Cdrom && disk.Bus == DiskBus.Virtio)
            {
                throw Invalid(path, "a cdrom cannot sit on the virtio bus; use sata, ide or scsi");
            }
        }
    }

    private static void ValidateInterfaces(IReadOnlyList<InterfaceDevice> interfaces)
    {
        var macs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var nic in interfaces)
        {
            var path = $"domain/devices/interface[mac address='{nic.Mac}']";
            if (!DomainXml.MacAddress().IsMatch(nic.Mac))
            {
                throw Invalid(path, $"'{nic.Mac}' is not a MAC address such as 52:54:00:12:34:56");
            }

            // Bit 0 of the first octet marks a multicast address, which no NIC may have.
            if ((Convert.ToByte(nic.Mac[..2], 16) & 1) == 1)
            {
                throw Invalid(path, $"'{nic.Mac}' is a multicast address; a NIC needs a unicast one (even first octet)");
            }

            if (!macs.Add(nic.Mac))
            {
                throw Invalid(path, $"MAC address {nic.Mac} is used by two interfaces");
            }
        }
    }

    private static void ValidatePorts(string kind, IReadOnlyList<CharDevice> devices)
    {
        if (devices.Select(d => d.Port).Distinct().Count() != devices.Count)
        {
            throw Invalid($"domain/devices/{kind}", $"two {kind} devices have the same target port");
        }

        if (devices.Any(d => d.Port is < 0 or > 3))
        {
            throw Invalid($"domain/devices/{kind}", $"{kind} target ports go from 0 to 3");
        }
    }

    private static bool IsTargetName(string dev) =>
        dev.Length >= 3 && dev[..2] is "vd" or "sd" or "hd" && dev[2..].All(char.IsAsciiLetterLower);

    private static VirtException Invalid(string path, string problem) => new(VirtErrorCode.XmlError, $"{path}: {problem}");
}

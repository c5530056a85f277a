using Nimbus.Virt.Definitions;

namespace Nimbus.Virt.Drivers;

/// <summary>The checks against the host that every driver runs before it accepts or starts a domain.</summary>
public static class DomainPreflight
{
    /// <summary>Every disk source, kernel and initrd must exist: a domain pointing at nothing is refused up front.</summary>
    public static void CheckSources(DomainDefinition domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        foreach (var disk in domain.Disks)
        {
            if (disk.Source is null)
            {
                continue;
            }

            var exists = disk.Type == DiskType.File ? File.Exists(disk.Source) : File.Exists(disk.Source) || Directory.Exists(disk.Source);
            if (!exists)
            {
                throw new VirtException(VirtErrorCode.XmlError, $"domain/devices/disk[target dev='{disk.TargetDev}']: source '{disk.Source}' does not exist; create the volume first (nimbus virt vol-create-as) or fix the path");
            }
        }

        foreach (var (what, path) in new[] { ("kernel", domain.Os.Kernel), ("initrd", domain.Os.Initrd) })
        {
            if (path is not null && !File.Exists(path))
            {
                throw new VirtException(VirtErrorCode.XmlError, $"domain/os/{what}: '{path}' does not exist");
            }
        }
    }

    /// <summary>
    /// A screenshot needs a screen: a domain without a video device has none, and libvirt refuses
    /// it the same way ("no screens to take screenshot from") before anything is written.
    /// </summary>
    public static void CheckScreen(string name, DomainDefinition domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (!domain.Videos.Any(v => v.Model != VideoModel.None))
        {
            throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: no screens to take screenshot from: domain '{name}' has no video device; define it with one, e.g. <video><model type='vga'/></video>");
        }
    }
}

using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Nimbus.Images.Formats;

/// <summary>
/// Recognises an image's format and virtual size from its first bytes, as Glance's format inspector
/// (oslo.utils imageutils.format_inspector) does, including its safety checks: a qcow2 that names a
/// backing file or an external data file, or a VMDK whose descriptor points at other files, could make
/// a compute host read files that are not the image's, so those are refused. Pure: no I/O.
/// </summary>
internal static class DiskFormatInspector
{
    /// <summary>
    /// How much of the head inspection needs: ISO 9660's primary volume descriptor sits at 32768 and
    /// is 2048 bytes long; a VMDK descriptor follows its header.
    /// </summary>
    public const int HeadLength = 64 * 1024;

    private static ReadOnlySpan<byte> Qcow2Magic => [(byte)'Q', (byte)'F', (byte)'I', 0xfb];

    private const int IsoDescriptorOffset = 32 * 1024;
    private const int IsoDescriptorLength = 2048;
    private const int VmdkDescriptorOffset = 512;

    // qcow2 incompatible feature bits qemu knows: dirty, corrupt, external data file, compression type, extended L2.
    private const ulong Qcow2KnownIncompatibleFeatures = 0b1_1111;
    private const ulong Qcow2DataFileFeature = 1 << 2;

    /// <summary>
    /// Inspects <paramref name="head"/> (the first <see cref="HeadLength"/> bytes, or the whole image
    /// when shorter); <paramref name="totalLength"/> is the image's full length when known, which is
    /// a raw image's virtual size.
    /// </summary>
    public static InspectedFormat Inspect(ReadOnlySpan<byte> head, long? totalLength)
    {
        var found = new List<InspectedFormat>(2);
        AddIfMatched(found, InspectQcow2(head));
        AddIfMatched(found, InspectQed(head));
        AddIfMatched(found, InspectVmdk(head));
        AddIfMatched(found, InspectVhd(head));
        AddIfMatched(found, InspectVhdx(head));
        AddIfMatched(found, InspectVdi(head));
        AddIfMatched(found, InspectIso(head));

        return found.Count switch
        {
            0 => new InspectedFormat(DiskFormats.Raw, totalLength),
            1 => found[0],
            // A qcow2 header with an ISO descriptor at 32K is one file two readers see differently: refuse it.
            _ => new InspectedFormat(found[0].Format, found[0].VirtualSize,
                $"the data matches more than one format ({string.Join(", ", found.Select(f => f.Format))}), so no reader can be trusted with it"),
        };
    }

    private static void AddIfMatched(List<InspectedFormat> found, InspectedFormat? format)
    {
        if (format is not null)
        {
            found.Add(format);
        }
    }

    // qcow2 header (qemu docs/interop/qcow2.txt): magic "QFI\xfb", version at 4, backing file offset at 8,
    // size at 24, all big-endian; version 3 adds incompatible features at 72.
    private static InspectedFormat? InspectQcow2(ReadOnlySpan<byte> head)
    {
        if (!head.StartsWith(Qcow2Magic))
        {
            return null;
        }

        if (head.Length < 32)
        {
            return new InspectedFormat(DiskFormats.Qcow2, null, "the qcow2 header is truncated");
        }

        var version = BinaryPrimitives.ReadUInt32BigEndian(head[4..]);
        var backingFileOffset = BinaryPrimitives.ReadUInt64BigEndian(head[8..]);
        var size = BinaryPrimitives.ReadUInt64BigEndian(head[24..]);
        long? virtualSize = size <= long.MaxValue ? (long)size : null;
        if (version is not (2 or 3))
        {
            return new InspectedFormat(DiskFormats.Qcow2, virtualSize, $"qcow2 version {version.ToString(CultureInfo.InvariantCulture)} is not supported");
        }

        if (backingFileOffset != 0)
        {
            return new InspectedFormat(DiskFormats.Qcow2, virtualSize,
                "the qcow2 image names a backing file; upload a standalone image (qemu-img convert -O qcow2 merges the backing chain)");
        }

        if (version == 3)
        {
            if (head.Length < 80)
            {
                return new InspectedFormat(DiskFormats.Qcow2, virtualSize, "the qcow2 header is truncated");
            }

            var incompatible = BinaryPrimitives.ReadUInt64BigEndian(head[72..]);
            if ((incompatible & Qcow2DataFileFeature) != 0)
            {
                return new InspectedFormat(DiskFormats.Qcow2, virtualSize,
                    "the qcow2 image keeps its data in an external data file; upload a standalone image (qemu-img convert -O qcow2)");
            }

            if ((incompatible & ~Qcow2KnownIncompatibleFeatures) != 0)
            {
                return new InspectedFormat(DiskFormats.Qcow2, virtualSize, "the qcow2 image uses incompatible features Nimbus does not know");
            }
        }

        return new InspectedFormat(DiskFormats.Qcow2, virtualSize);
    }

    private static InspectedFormat? InspectQed(ReadOnlySpan<byte> head) =>
        head.StartsWith("QED\0"u8)
            ? new InspectedFormat(DiskFormats.Qed, null, "QED images are not supported; convert it with qemu-img convert -O qcow2")
            : null;

    // VMDK sparse extent header (VMware "Virtual Disk Format 5.0"), little-endian: magic "KDMV",
    // version at 4, capacity in sectors at 12, descriptor offset and size in sectors at 28 and 36,
    // grain directory offset at 56. The text descriptor after it names the createType and extents.
    private static InspectedFormat? InspectVmdk(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("# Disk DescriptorFile"u8))
        {
            return new InspectedFormat(DiskFormats.Vmdk, null,
                "the VMDK is a descriptor only and its data lives in other files; upload a single-file VMDK (qemu-img convert -O vmdk -o subformat=streamOptimized)");
        }

        if (!head.StartsWith("KDMV"u8))
        {
            return null;
        }

        if (head.Length < 64)
        {
            return new InspectedFormat(DiskFormats.Vmdk, null, "the VMDK header is truncated");
        }

        var version = BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
        var capacity = BinaryPrimitives.ReadUInt64LittleEndian(head[12..]);
        var descriptorSector = BinaryPrimitives.ReadUInt64LittleEndian(head[28..]);
        var descriptorSectors = BinaryPrimitives.ReadUInt64LittleEndian(head[36..]);
        long? virtualSize = capacity <= long.MaxValue / 512 ? (long)capacity * 512 : null;
        if (version is not (1 or 2 or 3))
        {
            return new InspectedFormat(DiskFormats.Vmdk, virtualSize, $"VMDK version {version.ToString(CultureInfo.InvariantCulture)} is not supported");
        }

        // qemu also insists on the descriptor right after the header; anything else is hand-made.
        if (descriptorSector * 512 != VmdkDescriptorOffset || descriptorSectors == 0)
        {
            return new InspectedFormat(DiskFormats.Vmdk, virtualSize, "the VMDK descriptor is not where the format puts it");
        }

        var end = (int)Math.Min((ulong)head.Length, VmdkDescriptorOffset + Math.Min(descriptorSectors * 512, HeadLength));
        if (end <= VmdkDescriptorOffset)
        {
            return new InspectedFormat(DiskFormats.Vmdk, virtualSize, "the VMDK descriptor is missing");
        }

        var problem = CheckVmdkDescriptor(head[VmdkDescriptorOffset..end]);
        return new InspectedFormat(DiskFormats.Vmdk, virtualSize, problem);
    }

    private static string? CheckVmdkDescriptor(ReadOnlySpan<byte> descriptor)
    {
        var nul = descriptor.IndexOf((byte)0);
        if (nul >= 0)
        {
            descriptor = descriptor[..nul];
        }

        foreach (var b in descriptor)
        {
            if (b > 0x7f)
            {
                return "the VMDK descriptor is not ASCII text";
            }
        }

        string? createType = null;
        var extents = 0;
        foreach (var raw in Encoding.ASCII.GetString(descriptor).Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith("ddb", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            var firstWord = line.Split(' ', 2)[0];
            if (equals > 0 && !line[..equals].Trim().Contains(' ', StringComparison.Ordinal))
            {
                if (line[..equals].Trim().Equals("createType", StringComparison.OrdinalIgnoreCase))
                {
                    createType = line[(equals + 1)..].Trim().Trim('"');
                }
            }
            else if (firstWord.ToUpperInvariant() is "RW" or "RDONLY" or "NOACCESS")
            {
                // An extent naming a path could point the reader at any file on the host.
                if (line.Contains('/', StringComparison.Ordinal))
                {
                    return "the VMDK descriptor names an extent in another directory";
                }

                extents++;
            }
            else
            {
                return "the VMDK descriptor holds a line Nimbus does not understand";
            }
        }

        if (extents == 0)
        {
            return "the VMDK descriptor names no extents";
        }

        if (createType is not ("monolithicSparse" or "streamOptimized"))
        {
            return $"VMDK createType \"{createType ?? "(none)"}\" is not supported; only monolithicSparse and streamOptimized are (qemu-img convert -O vmdk -o subformat=streamOptimized)";
        }

        return null;
    }

    // VHD (qemu calls it vpc): a dynamic disk starts with a copy of its big-endian footer, "conectix",
    // current size at 40. A fixed disk has its footer only at the end, so its head looks raw.
    private static InspectedFormat? InspectVhd(ReadOnlySpan<byte> head)
    {
        if (!head.StartsWith("conectix"u8))
        {
            return null;
        }

        if (head.Length < 48)
        {
            return new InspectedFormat(DiskFormats.Vhd, null, "the VHD footer is truncated");
        }

        var size = BinaryPrimitives.ReadUInt64BigEndian(head[40..]);
        return new InspectedFormat(DiskFormats.Vhd, size <= long.MaxValue ? (long)size : null);
    }

    // VHDX: "vhdxfile" at 0; the virtual size sits in a metadata region found through the region table
    // at 192 KiB, beyond the inspected head, so it stays unknown here.
    private static InspectedFormat? InspectVhdx(ReadOnlySpan<byte> head) =>
        head.StartsWith("vhdxfile"u8) ? new InspectedFormat(DiskFormats.Vhdx, null) : null;

    // VDI (VirtualBox): little-endian signature 0xbeda107f at 0x40, disk size at 0x170.
    private static InspectedFormat? InspectVdi(ReadOnlySpan<byte> head)
    {
        if (head.Length < 0x178 || BinaryPrimitives.ReadUInt32LittleEndian(head[0x40..]) != 0xbeda107f)
        {
            return null;
        }

        var size = BinaryPrimitives.ReadUInt64LittleEndian(head[0x170..]);
        return new InspectedFormat(DiskFormats.Vdi, size <= long.MaxValue ? (long)size : null);
    }

    // ISO 9660 (ECMA-119 8.4): the volume descriptor at 32768 reads "CD001" from byte 1; a primary one
    // (type 1) holds the volume space size in blocks at 80 and the logical block size at 128, both
    // both-endian (the little-endian half first). UDF puts "NSR02"/"NSR03" in the same place.
    private static InspectedFormat? InspectIso(ReadOnlySpan<byte> head)
    {
        if (head.Length < IsoDescriptorOffset + IsoDescriptorLength)
        {
            return null;
        }

        var descriptor = head.Slice(IsoDescriptorOffset, IsoDescriptorLength);
        var identifier = descriptor.Slice(1, 5);
        if (!identifier.SequenceEqual("CD001"u8) && !identifier.SequenceEqual("NSR02"u8) && !identifier.SequenceEqual("NSR03"u8))
        {
            return null;
        }

        if (descriptor[0] != 1)
        {
            return new InspectedFormat(DiskFormats.Iso, null);
        }

        var blocks = BinaryPrimitives.ReadUInt32LittleEndian(descriptor[80..]);
        var blockSize = BinaryPrimitives.ReadUInt16LittleEndian(descriptor[128..]);
        return new InspectedFormat(DiskFormats.Iso, (long)blocks * blockSize);
    }
}

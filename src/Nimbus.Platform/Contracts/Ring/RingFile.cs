using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;

namespace Nimbus.Objects.Ring;

/// <summary>
/// The ring file, version 1. All integers little-endian:
/// <code>
/// offset 0     "NIMBUSRING"                 10 ASCII bytes, the magic
/// offset 10    uint16 format version        1
/// offset 12    uint32 H                     length of the header
/// offset 16    H bytes of UTF-8 JSON        part_power, replicas, version, hash_path_prefix, hash_path_suffix, devices
/// 16 + H       replicas × 2^part_power uint16 device ids: all partitions of replica 0, then of replica 1, …
/// end - 32     SHA-256 of every byte before it
/// </code>
/// Not compressed: the table is what a node reads, 6 MiB at part power 20 with 3 replicas, and a
/// plain file is verified by one hash over the bytes as they are, with nothing to inflate first.
/// </summary>
internal static class RingFile
{
    public const ushort FormatVersion = 1;

    private const int FixedHeaderLength = 16;
    private const int ChecksumLength = SHA256.HashSizeInBytes;

    private static ReadOnlySpan<byte> Magic => "NIMBUSRING"u8;

    public static byte[] Write(RingHeader header, ushort[][] replica2Part2Dev)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(header, RingJson.Default.RingHeader);
        var partitions = 1 << header.PartPower;
        var tableStart = FixedHeaderLength + json.Length;
        var bytes = new byte[tableStart + (header.Replicas * partitions * sizeof(ushort)) + ChecksumLength];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(10), FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), (uint)json.Length);
        json.CopyTo(bytes, FixedHeaderLength);
        var offset = tableStart;
        foreach (var row in replica2Part2Dev)
        {
            foreach (var id in row)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(offset), id);
                offset += sizeof(ushort);
            }
        }

        SHA256.HashData(bytes.AsSpan(0, offset), bytes.AsSpan(offset));
        return bytes;
    }

    /// <param name="bytes">The file's content.</param>
    /// <param name="source">What the bytes are, for messages: "the ring file /etc/nimbus/object.ring".</param>
    public static HashRing Read(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length < Magic.Length || !bytes[..Magic.Length].SequenceEqual(Magic))
        {
            throw Invalid(source, "does not start with \"NIMBUSRING\", so it is not a Nimbus ring file (a builder file or a Swift ring.gz?); write one with nimbus ring rebalance");
        }

        if (bytes.Length < FixedHeaderLength + ChecksumLength)
        {
            throw Invalid(source, $"is truncated: {bytes.Length} bytes, less than any ring file; copy it again");
        }

        var format = BinaryPrimitives.ReadUInt16LittleEndian(bytes[10..]);
        if (format != FormatVersion)
        {
            throw Invalid(source, $"is ring format version {format}, and this Nimbus reads version {FormatVersion}; use the matching Nimbus or rewrite the ring with this one's nimbus ring rebalance");
        }

        var headerLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]);
        if (headerLength > (uint)(bytes.Length - FixedHeaderLength - ChecksumLength))
        {
            throw Invalid(source, $"is truncated: {bytes.Length} bytes, too few for its {headerLength}-byte header; copy it again");
        }

        var headerBytes = bytes.Slice(FixedHeaderLength, (int)headerLength);
        RingHeader? header = null;
        string? headerError = null;
        try
        {
            header = JsonSerializer.Deserialize(headerBytes, RingJson.Default.RingHeader);
        }
        catch (JsonException ex)
        {
            headerError = ex.Message;
        }

        // The header is read before the checksum only to tell a short file from a damaged one.
        if (header is { PartPower: >= 1 and <= RingMath.MaxPartPower, Replicas: >= 1 and <= 64 })
        {
            var expected = FixedHeaderLength + (long)headerLength + ((long)header.Replicas * sizeof(ushort) << header.PartPower) + ChecksumLength;
            if (bytes.Length < expected)
            {
                throw Invalid(source, $"is truncated: {bytes.Length} bytes where its header promises {expected}; copy it again");
            }

            if (bytes.Length > expected)
            {
                throw Invalid(source, $"has {bytes.Length - expected} bytes after its checksum that its header does not account for; copy it again");
            }
        }

        Span<byte> checksum = stackalloc byte[ChecksumLength];
        SHA256.HashData(bytes[..^ChecksumLength], checksum);
        if (!checksum.SequenceEqual(bytes[^ChecksumLength..]))
        {
            throw Invalid(source, "does not match its SHA-256 checksum, so it is corrupt; copy it again from the builder's host or rewrite it with nimbus ring rebalance");
        }

        if (header is null)
        {
            throw Invalid(source, $"has a header that is not valid JSON ({headerError ?? "null"})");
        }

        if (header.PartPower is < 1 or > RingMath.MaxPartPower || header.Replicas is < 1 or > 64)
        {
            throw Invalid(source, $"has part power {header.PartPower} and {header.Replicas} replicas; a ring has part power 1 to {RingMath.MaxPartPower} and 1 to 64 replicas");
        }

        if (header.Devices.Any(d => d.Id is < 0 or > RingMath.MaxDeviceId) || header.Devices.Select(d => d.Id).Distinct().Count() != header.Devices.Count)
        {
            throw Invalid(source, $"lists devices with duplicate or out-of-range ids (0 to {RingMath.MaxDeviceId})");
        }

        var partitions = 1 << header.PartPower;
        var known = header.Devices.Select(d => d.Id).ToHashSet();
        var table = new ushort[header.Replicas][];
        var offset = FixedHeaderLength + (int)headerLength;
        for (var r = 0; r < header.Replicas; r++)
        {
            var row = new ushort[partitions];
            for (var p = 0; p < partitions; p++, offset += sizeof(ushort))
            {
                row[p] = BinaryPrimitives.ReadUInt16LittleEndian(bytes[offset..]);
                if (!known.Contains(row[p]))
                {
                    throw Invalid(source, row[p] == RingMath.NoDevice
                        ? $"leaves partition {p} replica {r} without a device; rebalance the builder and write the ring again"
                        : $"assigns partition {p} replica {r} to device id {row[p]}, which its header does not list");
                }
            }

            table[r] = row;
        }

        return new HashRing(header, table);
    }

    private static InvalidDataException Invalid(string source, string problem) => new($"{source} {problem}.");

    /// <summary>True when <paramref name="bytes"/> start like a ring file (rather than a builder's JSON).</summary>
    public static bool LooksLikeRing(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Magic);
}

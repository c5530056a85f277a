using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Nimbus.Objects.Ring;

/// <summary>
/// The runtime ring, Swift's <c>swift.common.ring.Ring</c>: maps an account, container or object
/// name to a partition and a partition to the devices that hold it. Immutable and thread-safe; it
/// does no I/O except <see cref="Load"/>. Built offline by <see cref="RingBuilder"/>.
/// </summary>
public sealed class HashRing
{
    private readonly ushort[][] _replica2Part2Dev;
    private readonly RingDevice?[] _devicesById;
    private readonly byte[] _hashPathPrefix;
    private readonly byte[] _hashPathSuffix;
    private readonly int _partShift;
    private readonly int _regionCount;
    private readonly int _zoneCount;
    private readonly int _serverCount;
    private readonly int _deviceCount;

    internal HashRing(RingHeader header, ushort[][] replica2Part2Dev)
    {
        PartPower = header.PartPower;
        PartitionCount = 1 << header.PartPower;
        ReplicaCount = header.Replicas;
        Version = header.Version;
        HashPathPrefix = header.HashPathPrefix;
        HashPathSuffix = header.HashPathSuffix;
        _hashPathPrefix = Encoding.UTF8.GetBytes(header.HashPathPrefix);
        _hashPathSuffix = Encoding.UTF8.GetBytes(header.HashPathSuffix);
        _partShift = 32 - header.PartPower;
        _replica2Part2Dev = replica2Part2Dev;
        _devicesById = new RingDevice?[header.Devices.Count == 0 ? 0 : header.Devices.Max(d => d.Id) + 1];
        foreach (var device in header.Devices)
        {
            _devicesById[device.Id] = device;
        }

        Devices = header.Devices.OrderBy(d => d.Id).ToList();

        // Handoff search stops early once it has touched every region, zone, server and device that holds partitions (as Swift's get_more_nodes).
        var holding = RingMath.Counts(replica2Part2Dev).Keys.Select(id => _devicesById[id]!).ToList();
        _regionCount = holding.Select(d => d.Region).Distinct().Count();
        _zoneCount = holding.Select(d => (d.Region, d.Zone)).Distinct().Count();
        _serverCount = holding.Select(d => (d.Region, d.Zone, d.Server)).Distinct().Count();
        _deviceCount = holding.Count;
    }

    public int PartPower { get; }

    public int PartitionCount { get; }

    public int ReplicaCount { get; }

    /// <summary>The builder's version when it wrote this ring; a newer ring has a larger one.</summary>
    public long Version { get; }

    /// <summary>The seeds mixed into every path hash, so that names cannot be aimed at one partition.</summary>
    public string HashPathPrefix { get; }

    public string HashPathSuffix { get; }

    /// <summary>The devices of the ring, by id; devices removed from the builder are gone.</summary>
    public IReadOnlyList<RingDevice> Devices { get; }

    /// <summary>Reads and verifies a ring file; see <see cref="RingFile"/> for the format.</summary>
    /// <exception cref="InvalidDataException">The file is not a ring, is truncated, corrupt or of another format version.</exception>
    public static HashRing Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return RingFile.Read(File.ReadAllBytes(path), $"the ring file {path}");
    }

    /// <exception cref="InvalidDataException">The bytes are not a ring, are truncated, corrupt or of another format version.</exception>
    public static HashRing FromBytes(ReadOnlySpan<byte> bytes) => RingFile.Read(bytes, "the ring data");

    /// <summary>The ring file's bytes for this ring, as <see cref="FromBytes"/> reads them.</summary>
    public byte[] ToBytes() =>
        RingFile.Write(new RingHeader(PartPower, ReplicaCount, Version, HashPathPrefix, HashPathSuffix, Devices), _replica2Part2Dev);

    /// <summary>
    /// Swift's hash_path: the MD5, in 32 lower-case hex digits, of prefix + "/" + account
    /// [+ "/" + container [+ "/" + object]] + suffix. Names the object's directory on disk.
    /// </summary>
    public string HashPath(string account, string? container = null, string? obj = null)
    {
        Span<byte> digest = stackalloc byte[MD5.HashSizeInBytes];
        Hash(account, container, obj, digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>Swift's get_part: the top <see cref="PartPower"/> bits of the path hash.</summary>
    public int GetPartition(string account, string? container = null, string? obj = null)
    {
        Span<byte> digest = stackalloc byte[MD5.HashSizeInBytes];
        Hash(account, container, obj, digest);
        return (int)(BinaryPrimitives.ReadUInt32BigEndian(digest) >> _partShift);
    }

    /// <summary>The devices holding a partition, one per replica in replica order.</summary>
    public IReadOnlyList<RingDevice> GetPrimaryNodes(int partition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, PartitionCount);
        var nodes = new RingDevice[ReplicaCount];
        for (var r = 0; r < ReplicaCount; r++)
        {
            nodes[r] = _devicesById[_replica2Part2Dev[r][partition]]!;
        }

        return nodes;
    }

    /// <summary>
    /// Swift's get_more_nodes: where to write when a primary is down, and where else to look. The
    /// other devices, in an order fixed by the partition, taking first one device in each region the
    /// primaries do not use, then in each unused zone, then on each unused server, then the rest;
    /// within each round, devices come from the table starting at a partition derived from this one.
    /// </summary>
    public IEnumerable<RingDevice> GetHandoffNodes(int partition)
    {
        var primaries = GetPrimaryNodes(partition);
        return Handoffs(partition, primaries);
    }

    public IReadOnlyList<RingDeviceUsage> GetUsage() =>
        RingMath.Usage(Devices, RingMath.Counts(_replica2Part2Dev), ReplicaCount, PartitionCount);

    /// <summary>What is wrong with the assignment table; empty when every partition has its replicas on distinct devices with weight.</summary>
    public IReadOnlyList<string> Validate() =>
        RingMath.Problems(_replica2Part2Dev, ReplicaCount, Devices.ToDictionary(d => d.Id), new HashSet<int>());

    private IEnumerable<RingDevice> Handoffs(int partition, IReadOnlyList<RingDevice> primaries)
    {
        var used = primaries.Select(d => d.Id).ToHashSet();
        var regions = primaries.Select(d => d.Region).ToHashSet();
        var zones = primaries.Select(d => (d.Region, d.Zone)).ToHashSet();
        var servers = primaries.Select(d => (d.Region, d.Zone, d.Server)).ToHashSet();

        // Each round walks the same sequence of table columns; a round yields only devices new at its tier.
        var rounds = new Func<RingDevice, bool>[]
        {
            d => !regions.Contains(d.Region),
            d => !zones.Contains((d.Region, d.Zone)),
            d => !servers.Contains((d.Region, d.Zone, d.Server)),
            _ => true,
        };
        var done = new Func<bool>[]
        {
            () => regions.Count >= _regionCount,
            () => zones.Count >= _zoneCount,
            () => servers.Count >= _serverCount,
            () => used.Count >= _deviceCount,
        };

        for (var round = 0; round < rounds.Length; round++)
        {
            if (done[round]())
            {
                continue;
            }

            foreach (var column in HandoffColumns(partition))
            {
                foreach (var row in _replica2Part2Dev)
                {
                    var device = _devicesById[row[column]]!;
                    if (used.Contains(device.Id) || !rounds[round](device))
                    {
                        continue;
                    }

                    used.Add(device.Id);
                    regions.Add(device.Region);
                    zones.Add((device.Region, device.Zone));
                    servers.Add((device.Region, device.Zone, device.Server));
                    yield return device;
                    if (done[round]())
                    {
                        break;
                    }
                }

                if (done[round]())
                {
                    break;
                }
            }
        }
    }

    /// <summary>
    /// The table columns a handoff search visits: from a start derived from the MD5 of the partition
    /// number, in steps that visit at most 65536 columns, wrapping around once.
    /// </summary>
    private IEnumerable<int> HandoffColumns(int partition)
    {
        Span<byte> digest = stackalloc byte[MD5.HashSizeInBytes];
        HashAscii(partition, digest);
        var start = (int)(BinaryPrimitives.ReadUInt32BigEndian(digest) >> _partShift);
        return Columns(start, PartitionCount);
    }

    private static IEnumerable<int> Columns(int start, int partitions)
    {
        var step = Math.Max(partitions / 65536, 1);
        for (var column = start; column < partitions; column += step)
        {
            yield return column;
        }

        for (var column = step - ((partitions - start) % step); column < start; column += step)
        {
            yield return column;
        }
    }

    private static void HashAscii(int partition, Span<byte> digest)
    {
        Span<byte> text = stackalloc byte[11];
        partition.TryFormat(text, out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
        // MD5 here spreads partitions over the table the way Swift does; it is not a security boundary.
#pragma warning disable CA5351
        MD5.HashData(text[..written], digest);
#pragma warning restore CA5351
    }

    private void Hash(string account, string? container, string? obj, Span<byte> digest)
    {
        ArgumentException.ThrowIfNullOrEmpty(account);
        if (string.IsNullOrEmpty(container) && !string.IsNullOrEmpty(obj))
        {
            throw new ArgumentException("an object path needs its container as well as its account", nameof(container));
        }

        var path = string.IsNullOrEmpty(container) ? account
            : string.IsNullOrEmpty(obj) ? $"{account}/{container}"
            : $"{account}/{container}/{obj}";
        var length = _hashPathPrefix.Length + 1 + Encoding.UTF8.GetByteCount(path) + _hashPathSuffix.Length;
        var buffer = length <= 1024 ? stackalloc byte[length] : new byte[length];
        _hashPathPrefix.CopyTo(buffer);
        buffer[_hashPathPrefix.Length] = (byte)'/';
        var written = Encoding.UTF8.GetBytes(path, buffer[(_hashPathPrefix.Length + 1)..]);
        _hashPathSuffix.CopyTo(buffer[(_hashPathPrefix.Length + 1 + written)..]);
        // Swift's placement hash (swift.common.utils.hash_path); the seeds, not MD5, keep names from being aimed.
#pragma warning disable CA5351
        MD5.HashData(buffer, digest);
#pragma warning restore CA5351
    }
}

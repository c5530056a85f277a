using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Nimbus.Platform.Errors;
using Nimbus.Shared;

namespace Nimbus.Objects.Ring;

/// <summary>
/// Swift's RingBuilder, offline: the devices with their weights, the partition → device table and
/// each partition's last move. Changes take effect at <see cref="Rebalance"/>, which places
/// replicas as uniquely as the layout allows (regions, then zones, then servers) in proportion to
/// weight, moving as few as it can and none of a partition moved within <see cref="MinPartHours"/>.
/// Not thread-safe: one operator edits one builder file.
/// </summary>
public sealed partial class RingBuilder
{
    private const int BuilderFormat = 1;

    private readonly SortedDictionary<int, DeviceEntry> _devices = [];
    private ushort[][]? _table;
    private uint[] _lastMoved;
    private int _nextDeviceId;

    private RingBuilder(int partPower, int replicas, double minPartHours, string hashPathPrefix, string hashPathSuffix)
    {
        PartPower = partPower;
        ReplicaCount = replicas;
        MinPartHours = minPartHours;
        HashPathPrefix = hashPathPrefix;
        HashPathSuffix = hashPathSuffix;
        _lastMoved = new uint[PartitionCount];
    }

    public int PartPower { get; }

    public int PartitionCount => 1 << PartPower;

    public int ReplicaCount { get; }

    /// <summary>Hours after moving a replica of a partition before another replica of it may move.</summary>
    public double MinPartHours { get; }

    public string HashPathPrefix { get; }

    public string HashPathSuffix { get; }

    /// <summary>Counts every change: device additions, removals and weights, and rebalances that moved something.</summary>
    public long Version { get; private set; }

    /// <summary>True once a rebalance has assigned every partition replica.</summary>
    public bool IsRebalanced => _table is not null;

    /// <summary>The devices, by id, without those marked for removal.</summary>
    public IReadOnlyList<RingDevice> Devices => _devices.Values.Where(e => !e.Removed).Select(e => e.Device).ToList();

    /// <summary>Devices marked for removal whose partitions the next rebalance moves off.</summary>
    public IReadOnlyList<RingDevice> RemovedDevices => _devices.Values.Where(e => e.Removed).Select(e => e.Device).ToList();

    /// <summary>Partition replicas per device id (removed devices included until the next rebalance).</summary>
    public IReadOnlyDictionary<int, int> PartitionCounts => _table is null ? new Dictionary<int, int>() : RingMath.Counts(_table);

    /// <summary>The largest deviation of a device's partition count from its weighted share, in percent.</summary>
    public double Balance => RingMath.Balance(GetUsage());

    /// <summary>Starts a ring. Without a seed, a random 32-hex-digit one becomes the hash-path suffix.</summary>
    /// <exception cref="InvalidInputException">A parameter is out of range.</exception>
    public static RingBuilder Create(int partPower, int replicas, double minPartHours, string? hashPathSeed = null) =>
        Create(partPower, replicas, minPartHours, string.Empty, hashPathSeed ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));

    /// <summary>Starts a ring with both of Swift's seeds: swift_hash_path_prefix and swift_hash_path_suffix.</summary>
    public static RingBuilder Create(int partPower, int replicas, double minPartHours, string hashPathPrefix, string hashPathSuffix)
    {
        if (partPower is < 1 or > RingMath.MaxPartPower)
        {
            throw new InvalidInputException("ring.invalid_part_power", Invariant($"part power {partPower} is out of range: give 1 to {RingMath.MaxPartPower} (2^part power partitions; about 100 per device at the largest size the cluster will grow to)"));
        }

        if (replicas is < 1 or > 64)
        {
            throw new InvalidInputException("ring.invalid_replicas", Invariant($"{replicas} replicas is out of range: give 1 to 64 (3 is usual)"));
        }

        if (!double.IsFinite(minPartHours) || minPartHours < 0)
        {
            throw new InvalidInputException("ring.invalid_min_part_hours", Invariant($"min part hours {minPartHours} is out of range: give 0 or more (the hours replication needs to copy a moved partition)"));
        }

        ArgumentNullException.ThrowIfNull(hashPathPrefix);
        ArgumentNullException.ThrowIfNull(hashPathSuffix);
        if (hashPathPrefix.Length == 0 && hashPathSuffix.Length == 0)
        {
            throw new InvalidInputException("ring.no_hash_path_seed", "the ring needs a hash-path seed so that names cannot be aimed at one partition; give one or let nimbus choose it");
        }

        return new RingBuilder(partPower, replicas, minPartHours, hashPathPrefix, hashPathSuffix);
    }

    /// <summary>Adds a device with the next free id. It gets partitions at the next rebalance.</summary>
    /// <exception cref="InvalidInputException">A field is out of range.</exception>
    /// <exception cref="ConflictException">The ring already has this ip, port and device.</exception>
    public RingDevice AddDevice(int region, int zone, string ip, int port, string device, double weight, string meta = "")
    {
        ArgumentNullException.ThrowIfNull(meta);
        ValidateDevice(region, zone, ip, port, device);
        ValidateWeight(weight);
        var duplicate = _devices.Values.FirstOrDefault(e => !e.Removed && e.Device.Ip == ip && e.Device.Port == port && e.Device.Device == device);
        if (duplicate is not null)
        {
            throw new ConflictException("ring.duplicate_device", Invariant($"the ring already has {ip}:{port}/{device} as device {duplicate.Device.Id}; change its weight with set-weight instead of adding it again"));
        }

        if (_nextDeviceId > RingMath.MaxDeviceId)
        {
            throw new OverLimitException("ring.too_many_devices", Invariant($"the ring has used all {RingMath.MaxDeviceId + 1} device ids; build a new ring"));
        }

        var added = new RingDevice(_nextDeviceId++, region, zone, ip, port, device, weight, meta);
        _devices[added.Id] = new DeviceEntry(added, Removed: false);
        Version++;
        return added;
    }

    /// <summary>Marks a device for removal: the next rebalance moves all its partitions off, whatever min_part_hours says.</summary>
    /// <exception cref="NotFoundException">No device has this id, or it is already being removed.</exception>
    public void RemoveDevice(int id)
    {
        var entry = Find(id);
        _devices[id] = entry with { Removed = true };
        Version++;
    }

    /// <summary>Changes a device's weight; partitions follow at the next rebalance, within min_part_hours.</summary>
    public void SetWeight(int id, double weight)
    {
        ValidateWeight(weight);
        var entry = Find(id);
        _devices[id] = entry with { Device = entry.Device with { Weight = weight } };
        Version++;
    }

    /// <summary>Partition replicas held by a device; 0 before the first rebalance.</summary>
    public int GetPartitionCount(int deviceId) => PartitionCounts.GetValueOrDefault(deviceId);

    /// <summary>When a replica of the partition last moved; null if never.</summary>
    public DateTimeOffset? GetLastMoved(int partition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, PartitionCount);
        return _lastMoved[partition] == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(_lastMoved[partition]);
    }

    /// <summary>The device ids of a partition's replicas in replica order, -1 where none is assigned.</summary>
    public IReadOnlyList<int> GetAssignment(int partition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, PartitionCount);
        return Enumerable.Range(0, ReplicaCount).Select(r => _table is null || _table[r][partition] == RingMath.NoDevice ? -1 : _table[r][partition]).ToList();
    }

    /// <summary>Each device's partition count against its weighted share; devices marked for removal included.</summary>
    public IReadOnlyList<RingDeviceUsage> GetUsage()
    {
        var counts = PartitionCounts;
        var active = RingMath.Usage(Devices, counts, ReplicaCount, PartitionCount);
        var removed = RemovedDevices.Select(d => new RingDeviceUsage(d, counts.GetValueOrDefault(d.Id), 0, counts.GetValueOrDefault(d.Id) > 0 ? RingMath.MaxBalance : 0));
        return [.. active.Concat(removed).OrderBy(u => u.Device.Id)];
    }

    /// <summary>What stops the builder from making a sound ring; empty when every partition has its replicas on distinct devices with weight.</summary>
    public IReadOnlyList<string> Validate()
    {
        if (_table is null)
        {
            var problems = RingMath.Problems([], ReplicaCount, _devices.ToDictionary(e => e.Key, e => e.Value.Device), RemovedIds());
            problems.Add("the builder has never been rebalanced, so no partition has devices: run nimbus ring rebalance");
            return problems;
        }

        return RingMath.Problems(_table, ReplicaCount, _devices.ToDictionary(e => e.Key, e => e.Value.Device), RemovedIds());
    }

    /// <summary>The ring file's bytes (<see cref="RingFile"/>): devices marked for removal appear only while they still hold partitions.</summary>
    /// <exception cref="InvalidInputException">Some partition replica has no device: rebalance first.</exception>
    public byte[] ToRingBytes() => RingFile.Write(RingHeaderNow(), CompleteTable());

    public HashRing ToRing() => new(RingHeaderNow(), CompleteTable().Select(row => row.ToArray()).ToArray());

    /// <summary>Writes the ring file atomically: nodes reading it see the old ring or the new one.</summary>
    public Task WriteRingAsync(string ringPath, CancellationToken ct) => AtomicFile.WriteAllBytesAsync(ringPath, ToRingBytes(), ct);

    /// <summary>Writes the builder file (JSON) atomically.</summary>
    public Task SaveAsync(string builderPath, CancellationToken ct)
    {
        var file = new BuilderFile(
            BuilderFormat,
            PartPower,
            ReplicaCount,
            MinPartHours,
            HashPathPrefix,
            HashPathSuffix,
            Version,
            _nextDeviceId,
            [.. _devices.Values.Select(e => new BuilderDevice(e.Device.Id, e.Device.Region, e.Device.Zone, e.Device.Ip, e.Device.Port, e.Device.Device, e.Device.Weight, e.Device.Meta, e.Removed))],
            _table?.Select(row => Convert.ToBase64String(ToBytes(row))).ToList(),
            Convert.ToBase64String(ToBytes(_lastMoved)));
        return AtomicFile.WriteAllTextAsync(builderPath, JsonSerializer.Serialize(file, RingJson.Default.BuilderFile) + "\n", ct);
    }

    /// <summary>Reads a builder file written by <see cref="SaveAsync"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a builder file or is inconsistent; the message names it.</exception>
    public static async Task<RingBuilder> LoadAsync(string builderPath, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(builderPath);
        var bytes = await File.ReadAllBytesAsync(builderPath, ct);
        if (RingFile.LooksLikeRing(bytes))
        {
            throw Invalid(builderPath, "is a ring file, not a builder: give the .builder file it was written from");
        }

        BuilderFile? file;
        try
        {
            file = JsonSerializer.Deserialize(bytes, RingJson.Default.BuilderFile);
        }
        catch (JsonException ex)
        {
            throw Invalid(builderPath, $"is not a ring builder file ({ex.Message})");
        }

        if (file is null || file.Format != BuilderFormat)
        {
            throw Invalid(builderPath, $"is builder format {file?.Format}, and this Nimbus reads format {BuilderFormat}");
        }

        if (file.PartPower is < 1 or > RingMath.MaxPartPower || file.Replicas is < 1 or > 64 || !double.IsFinite(file.MinPartHours) || file.MinPartHours < 0)
        {
            throw Invalid(builderPath, Invariant($"has part power {file.PartPower}, {file.Replicas} replicas and min part hours {file.MinPartHours}, which are out of range"));
        }

        var builder = new RingBuilder(file.PartPower, file.Replicas, file.MinPartHours, file.HashPathPrefix, file.HashPathSuffix)
        {
            Version = file.Version,
            _nextDeviceId = file.NextDeviceId,
        };
        foreach (var d in file.Devices)
        {
            if (d.Id is < 0 or > RingMath.MaxDeviceId || d.Id >= file.NextDeviceId || !builder._devices.TryAdd(d.Id, new DeviceEntry(new RingDevice(d.Id, d.Region, d.Zone, d.Ip, d.Port, d.Device, d.Weight, d.Meta), d.Removed)))
            {
                throw Invalid(builderPath, Invariant($"lists device id {d.Id} twice or out of range"));
            }
        }

        if (file.Replica2Part2Dev is not null)
        {
            if (file.Replica2Part2Dev.Count != file.Replicas)
            {
                throw Invalid(builderPath, Invariant($"has {file.Replica2Part2Dev.Count} replica rows for {file.Replicas} replicas"));
            }

            builder._table = [.. file.Replica2Part2Dev.Select(row => ReadUInt16s(builderPath, row, builder.PartitionCount))];
            foreach (var id in builder._table.SelectMany(row => row).Distinct().Where(id => id != RingMath.NoDevice && !builder._devices.ContainsKey(id)))
            {
                throw Invalid(builderPath, Invariant($"assigns partitions to device id {id}, which it does not list"));
            }
        }

        if (file.LastMoved is not null)
        {
            builder._lastMoved = ReadUInt32s(builderPath, file.LastMoved, builder.PartitionCount);
        }

        return builder;
    }

    private DeviceEntry Find(int id)
    {
        if (!_devices.TryGetValue(id, out var entry) || entry.Removed)
        {
            throw new NotFoundException("ring.device_not_found", Invariant($"the ring has no device with id {id}{(entry is { Removed: true } ? " (it is marked for removal)" : string.Empty)}; list the devices with nimbus ring show"));
        }

        return entry;
    }

    private HashSet<int> RemovedIds() => [.. _devices.Values.Where(e => e.Removed).Select(e => e.Device.Id)];

    private RingHeader RingHeaderNow()
    {
        var table = CompleteTable();
        var held = RingMath.Counts(table);
        var devices = _devices.Values.Where(e => !e.Removed || held.ContainsKey(e.Device.Id)).Select(e => e.Device).ToList();
        return new RingHeader(PartPower, ReplicaCount, Version, HashPathPrefix, HashPathSuffix, devices);
    }

    private ushort[][] CompleteTable()
    {
        if (_table is null || _table.Any(row => row.Contains(RingMath.NoDevice)))
        {
            throw new InvalidInputException("ring.not_rebalanced", "the builder has partitions without devices: run nimbus ring rebalance before writing the ring");
        }

        return _table;
    }

    private static void ValidateDevice(int region, int zone, string ip, int port, string device)
    {
        if (region < 0 || zone < 0)
        {
            throw new InvalidInputException("ring.invalid_device", Invariant($"region {region} and zone {zone} must be 0 or more"));
        }

        if (string.IsNullOrWhiteSpace(ip) || (!IPAddress.TryParse(ip, out _) && Uri.CheckHostName(ip) != UriHostNameType.Dns))
        {
            throw new InvalidInputException("ring.invalid_device", $"'{ip}' is not an IP address or host name: give the storage server's replication address, e.g. 10.0.0.1");
        }

        if (port is < 1 or > 65535)
        {
            throw new InvalidInputException("ring.invalid_device", Invariant($"port {port} is out of range: give the object server's port, 1 to 65535 (6200 is usual)"));
        }

        if (string.IsNullOrWhiteSpace(device) || device.Any(c => c == '/' || char.IsWhiteSpace(c) || char.IsControl(c)) || device is "." or "..")
        {
            throw new InvalidInputException("ring.invalid_device", $"device name '{device}' is not a directory name: give the disk's mount directory under the devices root, e.g. d1");
        }
    }

    private static void ValidateWeight(double weight)
    {
        if (!double.IsFinite(weight) || weight < 0)
        {
            throw new InvalidInputException("ring.invalid_weight", Invariant($"weight {weight} is out of range: give 0 or more, in proportion to the disk's size (e.g. its size in GiB)"));
        }
    }

    private static byte[] ToBytes(ushort[] values)
    {
        var bytes = new byte[values.Length * sizeof(ushort)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * sizeof(ushort)), values[i]);
        }

        return bytes;
    }

    private static byte[] ToBytes(uint[] values)
    {
        var bytes = new byte[values.Length * sizeof(uint)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * sizeof(uint)), values[i]);
        }

        return bytes;
    }

    private static ushort[] ReadUInt16s(string path, string base64, int count)
    {
        var bytes = Decode(path, base64, count, sizeof(ushort));
        var values = new ushort[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * sizeof(ushort)));
        }

        return values;
    }

    private static uint[] ReadUInt32s(string path, string base64, int count)
    {
        var bytes = Decode(path, base64, count, sizeof(uint));
        var values = new uint[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i * sizeof(uint)));
        }

        return values;
    }

    private static byte[] Decode(string path, string base64, int count, int size)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw Invalid(path, "has a table that is not base64");
        }

        if (bytes.Length != count * size)
        {
            throw Invalid(path, Invariant($"has a table of {bytes.Length} bytes where {count} partitions need {count * size}"));
        }

        return bytes;
    }

    private static InvalidDataException Invalid(string path, string problem) => new($"the ring builder {path} {problem}.");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record DeviceEntry(RingDevice Device, bool Removed);
}

using System.Text.Json.Serialization;

namespace Nimbus.Objects.Ring;

/// <summary>
/// One disk in the ring, as swift-ring-builder knows it: where it is (region, zone, server
/// <c>Ip:Port</c>), its directory name under the node's devices root, and how much of the data it
/// should hold relative to the others.
/// </summary>
public sealed record RingDevice(int Id, int Region, int Zone, string Ip, int Port, string Device, double Weight, string Meta = "")
{
    /// <summary>The server the device is on: replicas avoid sharing one when they can.</summary>
    [JsonIgnore]
    public string Server => Ip.Contains(':', StringComparison.Ordinal) ? $"[{Ip}]:{Port}" : $"{Ip}:{Port}";

    /// <summary>Swift's device notation, <c>r1z2-10.0.0.1:6200/d1</c>.</summary>
    public override string ToString() => $"r{Region}z{Zone}-{Server}/{Device}";
}

/// <summary>What a rebalance did.</summary>
/// <param name="PartitionsMoved">Partition replicas placed on a device other than the one they were on (all of them on the first rebalance).</param>
/// <param name="Balance">The largest deviation, in percent, of a device's partition count from its weighted share.</param>
/// <param name="Version">The builder's version after the rebalance; the ring written from it carries it.</param>
public sealed record RebalanceResult(int PartitionsMoved, double Balance, long Version);

/// <summary>How many partition replicas a device holds against its weighted share.</summary>
/// <param name="Device">The device.</param>
/// <param name="Partitions">Partition replicas assigned to it.</param>
/// <param name="Target">Its weighted share of all partition replicas (at most one replica of each partition).</param>
/// <param name="Balance">
/// Percent above (positive) or below (negative) <paramref name="Target"/>; 999.99 for a device
/// without weight that still holds partitions, as swift-ring-builder shows it.
/// </param>
public sealed record RingDeviceUsage(RingDevice Device, int Partitions, double Target, double Balance);

using System.Globalization;

namespace Nimbus.Objects.Ring;

/// <summary>What the builder and the runtime ring both compute: weighted shares, balance and the table's soundness.</summary>
internal static class RingMath
{
    /// <summary>The table's "no device" entry; device ids are therefore below it.</summary>
    public const ushort NoDevice = 0xFFFF;

    public const int MaxDeviceId = NoDevice - 1;

    /// <summary>Swift's limit too: 2^23 partitions keep a 3-replica table at 48 MiB.</summary>
    public const int MaxPartPower = 23;

    /// <summary>swift-ring-builder's balance for a device that should hold nothing and holds something.</summary>
    public const double MaxBalance = 999.99;

    /// <summary>
    /// Each device's share of a partition's replicas, in proportion to weight but at most one,
    /// since a device holds at most one replica of a partition: a device too heavy for that keeps
    /// one and the rest is shared out among the others by weight. Devices without weight get none.
    /// </summary>
    public static Dictionary<int, double> Shares(IEnumerable<RingDevice> devices, int replicas)
    {
        var weighted = devices.Where(d => d.Weight > 0).OrderByDescending(d => d.Weight).ThenBy(d => d.Id).ToList();
        var shares = weighted.ToDictionary(d => d.Id, _ => 0.0);
        double remainingReplicas = Math.Min(replicas, weighted.Count);
        var remainingWeight = weighted.Sum(d => d.Weight);
        var i = 0;
        for (; i < weighted.Count && remainingReplicas * weighted[i].Weight / remainingWeight >= 1; i++)
        {
            shares[weighted[i].Id] = 1;
            remainingReplicas--;
            remainingWeight -= weighted[i].Weight;
        }

        for (; i < weighted.Count; i++)
        {
            shares[weighted[i].Id] = remainingReplicas * weighted[i].Weight / remainingWeight;
        }

        return shares;
    }

    public static IReadOnlyList<RingDeviceUsage> Usage(IEnumerable<RingDevice> devices, IReadOnlyDictionary<int, int> counts, int replicas, int partitions)
    {
        var list = devices.ToList();
        var shares = Shares(list, replicas);
        return list.Select(d =>
        {
            var count = counts.GetValueOrDefault(d.Id);
            var target = shares.GetValueOrDefault(d.Id) * partitions;
            var balance = target > 0 ? 100.0 * (count - target) / target : count > 0 ? MaxBalance : 0;
            return new RingDeviceUsage(d, count, target, balance);
        }).ToList();
    }

    /// <summary>The largest deviation from a weighted share, in percent: swift-ring-builder's "balance".</summary>
    public static double Balance(IEnumerable<RingDeviceUsage> usage) => usage.Select(u => Math.Abs(u.Balance)).DefaultIfEmpty(0).Max();

    public static Dictionary<int, int> Counts(ushort[][] table)
    {
        var counts = new Dictionary<int, int>();
        foreach (var row in table)
        {
            foreach (var id in row)
            {
                if (id != NoDevice)
                {
                    counts[id] = counts.GetValueOrDefault(id) + 1;
                }
            }
        }

        return counts;
    }

    /// <summary>
    /// What is wrong with an assignment table, one line per kind of problem with the first partition
    /// it was seen in: unassigned replicas, unknown or removed devices, two replicas on one device,
    /// partitions held only by devices without weight.
    /// </summary>
    public static List<string> Problems(ushort[][] table, int replicas, IReadOnlyDictionary<int, RingDevice> devices, IReadOnlySet<int> removed)
    {
        var problems = new List<string>();
        var weighted = devices.Values.Count(d => d.Weight > 0 && !removed.Contains(d.Id));
        if (weighted < replicas)
        {
            problems.Add(Invariant($"the ring has {replicas} replicas but only {weighted} devices with weight: add devices (nimbus ring add) so that every replica has its own device"));
        }

        var found = new Dictionary<string, (int Count, string First)>();
        void Found(string kind, string first)
        {
            var (count, existing) = found.GetValueOrDefault(kind);
            found[kind] = (count + 1, existing ?? first);
        }

        var partitions = table.Length == 0 ? 0 : table[0].Length;
        Span<int> ids = stackalloc int[Math.Min(replicas, 64)];
        for (var p = 0; p < partitions; p++)
        {
            var withWeight = false;
            var assigned = 0;
            for (var r = 0; r < table.Length; r++)
            {
                int id = table[r][p];
                if (id == NoDevice)
                {
                    Found("unassigned", Invariant($"partition {p} replica {r}"));
                    continue;
                }

                if (!devices.TryGetValue(id, out var device))
                {
                    Found("unknown", Invariant($"partition {p} replica {r} on device id {id}"));
                    continue;
                }

                if (removed.Contains(id))
                {
                    Found("removed", Invariant($"partition {p} on device {id} ({device})"));
                }
                else if (device.Weight > 0)
                {
                    withWeight = true;
                }

                if (ids[..Math.Min(assigned, ids.Length)].Contains(id))
                {
                    Found("shared", Invariant($"partition {p} on device {id} ({device})"));
                }
                else if (assigned < ids.Length)
                {
                    ids[assigned++] = id;
                }
            }

            if (!withWeight && assigned > 0)
            {
                Found("weightless", Invariant($"partition {p}"));
            }
        }

        foreach (var (kind, (count, first)) in found)
        {
            problems.Add(kind switch
            {
                "unassigned" => Invariant($"{count} partition replicas are not assigned to a device (first: {first}): run nimbus ring rebalance"),
                "unknown" => Invariant($"{count} partition replicas are assigned to devices the ring does not have (first: {first}): the file is inconsistent; rebuild it with nimbus ring rebalance"),
                "removed" => Invariant($"{count} partition replicas are on devices marked for removal (first: {first}): run nimbus ring rebalance to move them off"),
                "shared" => Invariant($"{count} partitions have two replicas on one device (first: {first}): run nimbus ring rebalance"),
                _ => Invariant($"{count} partitions have all their replicas on devices without weight (first: {first}): give those devices weight or add devices, then rebalance"),
            });
        }

        return problems;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

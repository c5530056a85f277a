using Nimbus.Platform.Errors;

namespace Nimbus.Objects.Ring;

public sealed partial class RingBuilder
{
    /// <summary>Rounds of gather-and-place per rebalance; each may only move replicas the previous ones left alone.</summary>
    private const int MaxRounds = 8;

    /// <summary>
    /// Moves partition replicas so that every device holds its weighted share, as uniquely placed as
    /// the layout allows. Gathers, in order: replicas without a device or on removed devices (always),
    /// replicas crowding a region, zone or server beyond its weighted share of a partition, and
    /// replicas from devices over their share; then places each in the region, zone and server
    /// most below its share among those with room for another replica of the partition. Apart from removed devices, at most one replica of a partition moves per rebalance and
    /// none of a partition moved less than <see cref="MinPartHours"/> before <paramref name="now"/>
    /// (Swift's builder.py does the same).
    /// </summary>
    /// <exception cref="InvalidInputException">Fewer devices with weight than replicas.</exception>
    public RebalanceResult Rebalance(DateTimeOffset now)
    {
        var active = Devices;
        var weighted = active.Count(d => d.Weight > 0);
        if (weighted < ReplicaCount)
        {
            throw new InvalidInputException("ring.too_few_devices", Invariant($"the ring has {ReplicaCount} replicas but {weighted} devices with weight: add at least {ReplicaCount - weighted} more (nimbus ring add), or give existing ones weight, so that each replica of a partition has its own device"));
        }

        var fresh = _table is null;
        var table = _table ?? [.. Enumerable.Range(0, ReplicaCount).Select(_ => Enumerable.Repeat(RingMath.NoDevice, PartitionCount).ToArray())];
        var maxId = _devices.Keys.DefaultIfEmpty(0).Max();
        var placement = new Placement(table, active, maxId, ReplicaCount);
        var moved = placement.Run(_lastMoved, now, MinPartHours);
        var purged = _devices.Values.Count(e => e.Removed);
        foreach (var id in RemovedIds())
        {
            _devices.Remove(id);
        }

        _table = table;
        if (moved > 0 || purged > 0 || fresh)
        {
            Version++;
        }

        return new RebalanceResult(moved, Balance, Version);
    }

    /// <summary>One rebalance's bookkeeping over the table: counts per device and per tier, targets and allowances.</summary>
    private sealed class Placement
    {
        // Tier levels: 0 region, 1 zone, 2 server. A device is its own last tier, allowed one replica of a partition.
        private const int Levels = 3;
        private const double Epsilon = 1e-9;

        /// <summary>
        /// A replica moves for balance only between devices whose excesses differ by more than two:
        /// after the move the giver is still no further under its share than the taker, so moves
        /// never overshoot and a balanced ring has none left to make.
        /// </summary>
        private const double MinGap = 2 + Epsilon;

        private readonly ushort[][] _table;
        private readonly int _partitions;
        private readonly int _replicas;
        private readonly int[] _candidates;
        private readonly bool[] _active;
        private readonly double[] _target;
        private readonly int[] _count;
        private readonly int[][] _tierOf = new int[Levels][];
        private readonly double[][] _tierTarget = new double[Levels][];
        private readonly int[][] _tierCount = new int[Levels][];
        private readonly int[][] _tierAllow = new int[Levels][];

        public Placement(ushort[][] table, IReadOnlyList<RingDevice> active, int maxId, int replicas)
        {
            _table = table;
            _replicas = replicas;
            _partitions = table[0].Length;
            var size = maxId + 1;
            _active = new bool[size];
            _target = new double[size];
            _count = new int[size];
            var shares = RingMath.Shares(active, replicas);
            _candidates = [.. active.Where(d => d.Weight > 0).Select(d => d.Id).Order()];

            var keys = new Func<RingDevice, object>[] { d => d.Region, d => (d.Region, d.Zone), d => (d.Region, d.Zone, d.Server) };
            for (var level = 0; level < Levels; level++)
            {
                _tierOf[level] = Enumerable.Repeat(-1, size).ToArray();
                var index = new Dictionary<object, int>();
                foreach (var device in active)
                {
                    var key = keys[level](device);
                    if (!index.TryGetValue(key, out var tier))
                    {
                        tier = index[key] = index.Count;
                    }

                    _tierOf[level][device.Id] = tier;
                }

                _tierTarget[level] = new double[index.Count];
                _tierCount[level] = new int[index.Count];
                var tierShare = new double[index.Count];
                foreach (var device in active)
                {
                    tierShare[_tierOf[level][device.Id]] += shares.GetValueOrDefault(device.Id);
                }

                // A tier may hold as many replicas of one partition as its weighted share, rounded up.
                _tierAllow[level] = [.. tierShare.Select(s => (int)Math.Ceiling(s - Epsilon))];
                for (var t = 0; t < index.Count; t++)
                {
                    _tierTarget[level][t] = tierShare[t] * _partitions;
                }
            }

            foreach (var device in active)
            {
                _active[device.Id] = true;
                _target[device.Id] = shares.GetValueOrDefault(device.Id) * _partitions;
            }

            foreach (var row in table)
            {
                foreach (var id in row)
                {
                    if (id != RingMath.NoDevice && id < size && _active[id])
                    {
                        Count(id, +1);
                    }
                }
            }
        }

        /// <summary>Rebalances the table in place; returns the replicas placed on a device they were not on.</summary>
        public int Run(uint[] lastMoved, DateTimeOffset now, double minPartHours)
        {
            var nowSeconds = (uint)Math.Clamp(now.ToUnixTimeSeconds(), 1, uint.MaxValue);
            var lockSeconds = minPartHours * 3600;
            var touched = new bool[_partitions];

            // A partition placed from nothing in this rebalance holds no data yet: later rounds may place it again freely.
            var fresh = new bool[_partitions];
            bool Movable(int p) => !touched[p] && (fresh[p] || lastMoved[p] == 0 || nowSeconds - (double)lastMoved[p] >= lockSeconds);

            var moved = 0;
            for (var round = 0; round < MaxRounds; round++)
            {
                var gathered = new List<(int Partition, int Replica, int From)>();
                if (round == 0)
                {
                    GatherUnplaced(gathered, touched, fresh);
                }

                GatherForDispersion(gathered, touched, Movable);
                GatherForBalance(gathered, touched, Movable);

                var changed = 0;
                foreach (var (p, r, from) in gathered)
                {
                    var to = Choose(p);
                    _table[r][p] = (ushort)to;
                    Count(to, +1);
                    if (to != from)
                    {
                        changed++;
                        lastMoved[p] = nowSeconds;
                        moved += fresh[p] && from != RingMath.NoDevice ? 0 : 1;
                    }

                    if (fresh[p] || (to == from && from != RingMath.NoDevice && _active[from]))
                    {
                        // Put back where it was (or never held data): the partition may still give up a replica in a later round.
                        touched[p] = false;
                    }
                }

                if (changed == 0)
                {
                    break;
                }
            }

            return moved;
        }

        /// <summary>Replicas without a device, on a device being removed, or sharing a device with another replica.</summary>
        private void GatherUnplaced(List<(int, int, int)> gathered, bool[] touched, bool[] fresh)
        {
            for (var p = 0; p < _partitions; p++)
            {
                var empty = true;
                for (var r = 0; r < _replicas; r++)
                {
                    empty &= _table[r][p] == RingMath.NoDevice;
                }

                fresh[p] = empty;
                for (var r = 0; r < _replicas; r++)
                {
                    int id = _table[r][p];
                    var shared = false;
                    for (var other = 0; other < r && !shared; other++)
                    {
                        shared = _table[other][p] == id;
                    }

                    if (id == RingMath.NoDevice || id >= _active.Length || !_active[id] || shared)
                    {
                        Unassign(p, r);
                        gathered.Add((p, r, id));
                        touched[p] = true;
                    }
                }
            }
        }

        /// <summary>One replica of each partition that crowds a region, zone or server beyond its allowance.</summary>
        private void GatherForDispersion(List<(int, int, int)> gathered, bool[] touched, Func<int, bool> movable)
        {
            for (var p = 0; p < _partitions; p++)
            {
                if (!movable(p))
                {
                    continue;
                }

                var worst = -1;
                for (var r = 0; r < _replicas; r++)
                {
                    int id = _table[r][p];
                    var crowded = false;
                    for (var level = 0; level < Levels && !crowded; level++)
                    {
                        var tier = _tierOf[level][id];
                        crowded = InPartition(p, level, tier) > _tierAllow[level][tier];
                    }

                    if (crowded && (worst < 0 || Excess(id) > Excess(_table[worst][p])))
                    {
                        worst = r;
                    }
                }

                if (worst >= 0)
                {
                    gathered.Add((p, worst, _table[worst][p]));
                    Unassign(p, worst);
                    touched[p] = true;
                }
            }
        }

        /// <summary>
        /// Replicas whose move to another device would narrow the gap between the two devices' counts
        /// and their shares (<see cref="MinGap"/>): a device over its share gives to one under it that has room in its tiers
        /// for the partition, and a device at its share gives to one far under it (a device over its
        /// share then refills it in a later round, where the two have no partition in common that
        /// the one under could take). Partitions are taken in a scattered order so that no device
        /// gives up a run of neighbours.
        /// </summary>
        private void GatherForBalance(List<(int, int, int)> gathered, bool[] touched, Func<int, bool> movable)
        {
            var pending = new int[_count.Length];
            var lowest = _candidates.Min(Excess);
            if (_candidates.Max(Excess) - lowest <= MinGap)
            {
                return;
            }

            // An odd multiplier makes p ↦ a·p mod 2^k a permutation of the partitions.
            const ulong Multiplier = 2654435761;
            var mask = (ulong)_partitions - 1;
            for (ulong i = 0; i <= mask; i++)
            {
                var p = (int)((i * Multiplier) & mask);
                if (!movable(p))
                {
                    continue;
                }

                var give = -1;
                var home = -1;
                for (var r = 0; r < _replicas; r++)
                {
                    int id = _table[r][p];
                    if (Excess(id) - lowest <= MinGap || (give >= 0 && Excess(id) <= Excess(_table[give][p])))
                    {
                        continue;
                    }

                    var found = FindHome(p, r, pending);
                    if (found >= 0)
                    {
                        (give, home) = (r, found);
                    }
                }

                if (give >= 0)
                {
                    pending[home]++;
                    gathered.Add((p, give, _table[give][p]));
                    Unassign(p, give);
                    touched[p] = true;
                }
            }
        }

        /// <summary>
        /// The device furthest under its share (counting replicas already promised to it) that could
        /// take replica <paramref name="r"/> of partition <paramref name="p"/> with room in its tiers,
        /// if the move narrows the gap without overshooting it (<see cref="MinGap"/>); -1 if none.
        /// </summary>
        private int FindHome(int p, int r, int[] pending)
        {
            int source = _table[r][p];
            var best = -1;
            var bestExcess = double.MaxValue;
            foreach (var id in _candidates)
            {
                var excess = Excess(id) + pending[id];
                if (Excess(source) - excess <= MinGap || excess >= bestExcess)
                {
                    continue;
                }

                var home = true;
                for (var level = 0; level < Levels && home; level++)
                {
                    var crowd = 0;
                    for (var other = 0; other < _replicas; other++)
                    {
                        int held = _table[other][p];
                        if (held == id)
                        {
                            home = false;
                        }
                        else if (other != r && held != RingMath.NoDevice && _tierOf[level][held] == _tierOf[level][id])
                        {
                            crowd++;
                        }
                    }

                    home &= crowd < _tierAllow[level][_tierOf[level][id]];
                }

                if (home)
                {
                    (best, bestExcess) = (id, excess);
                }
            }

            return best;
        }

        /// <summary>
        /// The device for one more replica of partition <paramref name="p"/>. Candidates are devices
        /// with weight not holding the partition; first those whose tiers have room for it and that
        /// are below their share, then those with room, then those below their share, then any. The
        /// best is in the region that most wants partitions for its share (the fewest replicas of this
        /// one breaking a tie), then likewise the zone and the server, then is itself the most wanted.
        /// The room keeps replicas apart; wanting first keeps the fill even, so that the last
        /// partitions do not find only crowded tiers with room (Swift's _reassign_parts also takes
        /// the roomiest tier under its replica limit).
        /// </summary>
        private int Choose(int p)
        {
            Span<int> used = stackalloc int[_replicas];
            var usedCount = 0;
            for (var r = 0; r < _replicas; r++)
            {
                if (_table[r][p] != RingMath.NoDevice)
                {
                    used[usedCount++] = _table[r][p];
                }
            }

            used = used[..usedCount];
            Span<int> crowd = stackalloc int[Levels];
            Span<int> bestCrowd = stackalloc int[Levels];
            for (var pass = 0; pass < 4; pass++)
            {
                var best = -1;
                foreach (var id in _candidates)
                {
                    if (used.Contains(id))
                    {
                        continue;
                    }

                    var roomy = true;
                    for (var level = 0; level < Levels; level++)
                    {
                        crowd[level] = 0;
                        foreach (var other in used)
                        {
                            if (_tierOf[level][other] == _tierOf[level][id])
                            {
                                crowd[level]++;
                            }
                        }

                        roomy &= crowd[level] < _tierAllow[level][_tierOf[level][id]];
                    }

                    var wanting = -Excess(id) > Epsilon;
                    var eligible = pass switch
                    {
                        0 => roomy && wanting,
                        1 => roomy,
                        2 => wanting,
                        _ => true,
                    };
                    if (eligible && (best < 0 || Better(p, id, crowd, best, bestCrowd)))
                    {
                        best = id;
                        crowd.CopyTo(bestCrowd);
                    }
                }

                if (best >= 0)
                {
                    return best;
                }
            }

            throw new InvalidOperationException("no device with weight is free for a replica; the device count was checked before placing");
        }

        private bool Better(int p, int a, ReadOnlySpan<int> aCrowd, int b, ReadOnlySpan<int> bCrowd)
        {
            for (var level = 0; level < Levels; level++)
            {
                var aWanted = Wanted(_tierTarget[level][_tierOf[level][a]], _tierCount[level][_tierOf[level][a]]);
                var bWanted = Wanted(_tierTarget[level][_tierOf[level][b]], _tierCount[level][_tierOf[level][b]]);
                if (Math.Abs(aWanted - bWanted) > Epsilon)
                {
                    return aWanted > bWanted;
                }

                // Equally short of their shares: the bigger tier first, as it has more to fill (a device whose share is a replica of every partition must never be passed over).
                var aAbsolute = _tierTarget[level][_tierOf[level][a]] - _tierCount[level][_tierOf[level][a]];
                var bAbsolute = _tierTarget[level][_tierOf[level][b]] - _tierCount[level][_tierOf[level][b]];
                if (Math.Abs(aAbsolute - bAbsolute) > Epsilon)
                {
                    return aAbsolute > bAbsolute;
                }

                if (aCrowd[level] != bCrowd[level])
                {
                    return aCrowd[level] < bCrowd[level];
                }
            }

            var aDevice = Wanted(_target[a], _count[a]);
            var bDevice = Wanted(_target[b], _count[b]);
            if (Math.Abs(aDevice - bDevice) > Epsilon)
            {
                return aDevice > bDevice;
            }

            if (Math.Abs(Excess(a) - Excess(b)) > Epsilon)
            {
                return Excess(a) < Excess(b);
            }

            // Ties go to a device picked by the partition, so equal devices share first replicas evenly.
            return Mix(p, a) < Mix(p, b);
        }

        /// <summary>
        /// The part of its share a tier or device still wants, relative to the share: comparing
        /// absolute counts would fill big tiers first and leave small ones for the last partitions,
        /// whose replicas could then not all be placed apart.
        /// </summary>
        private static double Wanted(double target, int count) => target > 0 ? (target - count) / target : double.NegativeInfinity;

        private static uint Mix(int p, int id)
        {
            var x = ((uint)p * 0x9E3779B1u) ^ ((uint)id * 0x85EBCA77u);
            x ^= x >> 15;
            x *= 0x2C1B3C6Du;
            return x ^ (x >> 12);
        }

        private double Excess(int id) => _count[id] - _target[id];

        private int InPartition(int p, int level, int tier)
        {
            var n = 0;
            for (var r = 0; r < _replicas; r++)
            {
                int id = _table[r][p];
                if (id != RingMath.NoDevice && _tierOf[level][id] == tier)
                {
                    n++;
                }
            }

            return n;
        }

        private void Unassign(int p, int r)
        {
            int id = _table[r][p];
            if (id != RingMath.NoDevice && id < _active.Length && _active[id])
            {
                Count(id, -1);
            }

            _table[r][p] = RingMath.NoDevice;
        }

        private void Count(int id, int delta)
        {
            _count[id] += delta;
            for (var level = 0; level < Levels; level++)
            {
                _tierCount[level][_tierOf[level][id]] += delta;
            }
        }
    }
}

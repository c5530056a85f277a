using Nimbus.Objects.Ring;

namespace Nimbus.Objects.Tests.Ring;

public sealed class HashRingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Hash_path_is_the_md5_of_prefix_path_and_suffix()
    {
        var plain = RingWith(prefix: "", suffix: "changeme");
        var prefixed = RingWith(prefix: "pre", suffix: "changeme");

        // Computed independently: md5(b"/AUTH_test/photos/cat.jpg" + b"changeme") and so on.
        Assert.Equal("8b4260ec308084d1df5dcd9b53f979d7", plain.HashPath("AUTH_test", "photos", "cat.jpg"));
        Assert.Equal("3238a228f75402222f1fcd2aa573b2a2", prefixed.HashPath("AUTH_test", "photos", "cat.jpg"));
        Assert.Equal("9d00c9d091fea9ea855f29c22714dc83", plain.HashPath("AUTH_test"));
    }

    [Fact]
    public void Partition_is_the_top_part_power_bits_of_the_md5()
    {
        var ring = RingWith(prefix: "", suffix: "changeme");

        // 0x8b4260ec >> (32 - 10)
        Assert.Equal(557, ring.GetPartition("AUTH_test", "photos", "cat.jpg"));
        Assert.Equal(0x9d00c9d0u >> 22, (uint)ring.GetPartition("AUTH_test"));
    }

    [Fact]
    public void An_object_path_needs_a_container() =>
        Assert.Throws<ArgumentException>(() => RingWith("", "s").HashPath("AUTH_test", null, "o"));

    [Fact]
    public void Every_node_with_the_ring_agrees_because_the_seeds_travel_with_it()
    {
        var builder = RingBuilderTests.Build("1/1/a:100 1/2/b:100 1/3/c:100 1/4/d:100");
        builder.Rebalance(T0);

        var elsewhere = HashRing.FromBytes(builder.ToRingBytes());

        Assert.Equal(builder.HashPathSuffix, elsewhere.HashPathSuffix);
        Assert.Equal(builder.ToRing().GetPartition("a", "c", "o"), elsewhere.GetPartition("a", "c", "o"));
        Assert.Equal(builder.ToRing().HashPath("a", "c", "o"), elsewhere.HashPath("a", "c", "o"));
    }

    [Fact]
    public void Primary_nodes_are_the_partitions_replicas_in_order()
    {
        var builder = RingBuilderTests.Build("1/1/a:100 1/2/b:100 1/3/c:100 1/4/d:100");
        builder.Rebalance(T0);
        var ring = builder.ToRing();

        for (var p = 0; p < ring.PartitionCount; p++)
        {
            Assert.Equal(builder.GetAssignment(p), ring.GetPrimaryNodes(p).Select(d => d.Id));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => ring.GetPrimaryNodes(ring.PartitionCount));
    }

    [Fact]
    public void Handoffs_are_the_other_devices_unused_zones_first_in_a_fixed_order()
    {
        var builder = RingBuilderTests.Build("1/1/a:100 1/1/a:100 1/2/b:100 1/2/b:100 1/3/c:100 1/3/c:100 1/4/d:100 1/4/d:100");
        builder.Rebalance(T0);
        var ring = builder.ToRing();

        for (var p = 0; p < ring.PartitionCount; p += 37)
        {
            var primaries = ring.GetPrimaryNodes(p);
            var handoffs = ring.GetHandoffNodes(p).ToList();

            Assert.Equal(ring.Devices.Select(d => d.Id).Order(), primaries.Concat(handoffs).Select(d => d.Id).Order());
            Assert.DoesNotContain(handoffs[0].Zone, primaries.Select(d => d.Zone));
            Assert.Equal(handoffs, ring.GetHandoffNodes(p).ToList());
        }
    }

    [Fact]
    public void Handoffs_prefer_another_region_then_another_server()
    {
        var builder = RingBuilderTests.Build("1/1/a:100 1/1/a:100 1/1/b:100 1/1/b:100 1/1/c:100 1/1/c:100 2/1/d:100");
        builder.Rebalance(T0);
        var ring = builder.ToRing();

        for (var p = 0; p < ring.PartitionCount; p += 11)
        {
            var primaries = ring.GetPrimaryNodes(p);
            var handoffs = ring.GetHandoffNodes(p).ToList();
            if (primaries.All(d => d.Region == 1))
            {
                Assert.Equal(2, handoffs[0].Region);
            }

            var unusedServers = ring.Devices.Select(d => d.Server).Except(primaries.Select(d => d.Server)).Count();
            Assert.Equal(unusedServers, handoffs.Take(unusedServers).Select(d => d.Server).Distinct().Count());
        }
    }

    [Fact]
    public void Ring_lists_active_devices_with_their_usage()
    {
        var builder = RingBuilderTests.Build("1/1/a:100 1/2/b:100 1/3/c:100 1/4/d:100");
        builder.Rebalance(T0);

        var ring = HashRing.FromBytes(builder.ToRingBytes());

        Assert.Equal(builder.Devices, ring.Devices);
        Assert.All(ring.GetUsage(), u => Assert.Equal(768, u.Partitions));
        Assert.Empty(ring.Validate());
        Assert.Equal((10, 1024, 3, builder.Version), (ring.PartPower, ring.PartitionCount, ring.ReplicaCount, ring.Version));
    }

    private static HashRing RingWith(string prefix, string suffix)
    {
        var builder = RingBuilder.Create(10, 1, 0, prefix, suffix);
        builder.AddDevice(1, 1, "10.0.0.1", 6200, "d1", 1);
        builder.Rebalance(T0);
        return builder.ToRing();
    }
}

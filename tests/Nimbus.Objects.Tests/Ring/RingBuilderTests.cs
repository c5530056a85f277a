using Nimbus.Objects.Ring;
using Nimbus.Platform.Errors;
using Nimbus.TestSupport;

namespace Nimbus.Objects.Tests.Ring;

public sealed class RingBuilderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Layouts as "region/zone/server:weight" per device, with their part powers.</summary>
    public static TheoryData<string> Layouts => new()
    {
        "1/1/a:100 1/2/b:100 1/3/c:100 1/4/d:100",
        "1/1/a:100 1/2/b:100 1/3/c:100 1/4/d:100 1/5/e:100",
        "1/1/a:100 1/1/a:100 1/2/b:100 1/2/b:100 1/3/c:100 1/3/c:100",
        "1/1/a:100 1/1/b:100 1/2/c:100 1/2/d:100 2/1/e:100 2/1/f:100 2/2/g:100 2/2/h:100",
        "1/1/a:100 1/2/b:100 1/3/c:200 1/4/d:200 1/5/e:300 1/6/f:300",
        "1/1/a:100 1/1/a:200 1/2/b:100 1/2/b:200 1/3/c:100 1/3/c:200 1/4/d:150",
        "1/1/a:1000 1/2/b:1000 1/3/c:1000 1/4/d:4000",
        "1/1/a:100 1/1/a:100 1/1/b:100 1/1/b:100 1/1/c:100",
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Rebalance_never_puts_two_replicas_of_a_partition_on_one_device(string layout)
    {
        var builder = Build(layout);

        builder.Rebalance(T0);

        for (var p = 0; p < builder.PartitionCount; p++)
        {
            var devices = builder.GetAssignment(p);
            Assert.Equal(builder.ReplicaCount, devices.Distinct().Count());
            Assert.DoesNotContain(-1, devices);
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Rebalance_gives_every_device_its_weighted_share_within_one_percent(string layout)
    {
        var builder = Build(layout);

        var result = builder.Rebalance(T0);

        Assert.Equal(3 * 1024, result.PartitionsMoved);
        Assert.True(result.Balance <= 1, $"balance {result.Balance:0.00}%: {string.Join(", ", builder.GetUsage().Select(u => $"{u.Device.Id}={u.Partitions}/{u.Target:0.0}"))}");
        Assert.Empty(builder.Validate());
    }

    [Fact]
    public void Weighted_share_follows_weight()
    {
        var builder = Build("1/1/a:100 1/2/b:100 1/3/c:200 1/4/d:200 1/5/e:300 1/6/f:300");

        builder.Rebalance(T0);

        Assert.Equal([256, 256, 512, 512, 768, 768], builder.Devices.Select(d => builder.GetPartitionCount(d.Id)));
    }

    [Fact]
    public void A_device_too_heavy_for_its_weight_holds_one_replica_of_every_partition()
    {
        var builder = Build("1/1/a:1000 1/2/b:1000 1/3/c:1000 1/4/d:4000");

        builder.Rebalance(T0);

        Assert.Equal(1024, builder.GetPartitionCount(3));
        Assert.All(builder.Devices.Take(3), d => Assert.InRange(builder.GetPartitionCount(d.Id), 682, 683));
    }

    [Fact]
    public void Replicas_spread_over_regions_before_zones()
    {
        // Region 1 has three zones, regions 2 and 3 one device each, all three the same weight: every partition touches each region.
        var builder = Build("1/1/a:100 1/2/b:100 1/3/c:100 2/1/d:300 3/1/e:300");

        builder.Rebalance(T0);

        var ring = builder.ToRing();
        for (var p = 0; p < ring.PartitionCount; p++)
        {
            Assert.Equal(3, ring.GetPrimaryNodes(p).Select(d => d.Region).Distinct().Count());
        }
    }

    [Fact]
    public void Replicas_spread_over_zones_then_servers()
    {
        var zones = Build("1/1/a:100 1/1/a:100 1/2/b:100 1/2/b:100 1/3/c:100 1/3/c:100");
        var servers = Build("1/1/a:100 1/1/a:100 1/1/b:100 1/1/b:100 1/1/c:100 1/1/c:100");

        zones.Rebalance(T0);
        servers.Rebalance(T0);

        var byZone = zones.ToRing();
        var byServer = servers.ToRing();
        for (var p = 0; p < byZone.PartitionCount; p++)
        {
            Assert.Equal(3, byZone.GetPrimaryNodes(p).Select(d => d.Zone).Distinct().Count());
            Assert.Equal(3, byServer.GetPrimaryNodes(p).Select(d => d.Server).Distinct().Count());
        }
    }

    [Fact]
    public void A_second_rebalance_with_no_change_moves_nothing()
    {
        var builder = Build("1/1/a:100 1/2/b:100 1/3/c:200 1/4/d:200 1/5/e:300", minPartHours: 0);
        var first = builder.Rebalance(T0);

        var second = builder.Rebalance(T0.AddHours(5));

        Assert.Equal(0, second.PartitionsMoved);
        Assert.Equal(first.Version, second.Version);
    }

    [Fact]
    public void Adding_a_fifth_device_moves_about_a_fifth_of_the_replicas()
    {
        var builder = Build("1/1/a:100 1/2/b:100 1/3/c:100 1/4/d:100");
        builder.Rebalance(T0);
        var before = Snapshot(builder);
        var added = builder.AddDevice(1, 5, "10.0.0.5", 6200, "d1", 100);

        var result = builder.Rebalance(T0.AddHours(2));

        Assert.InRange(result.PartitionsMoved, 600, 630);
        Assert.Equal(result.PartitionsMoved, Changed(before, Snapshot(builder)).Count());
        Assert.All(Changed(before, Snapshot(builder)), change => Assert.Equal(added.Id, change.To));
        Assert.True(result.Balance <= 1, $"balance {result.Balance}");
    }

    [Fact]
    public void Removing_a_device_moves_only_its_replicas()
    {
        var builder = Build("1/1/a:100 1/2/b:100 1/3/c:100 1/4/d:100 1/5/e:100");
        builder.Rebalance(T0);
        var before = Snapshot(builder);
        var held = builder.GetPartitionCount(2);

        builder.RemoveDevice(2);
        var result = builder.Rebalance(T0.AddHours(2));

        Assert.Equal(held, result.PartitionsMoved);
        Assert.All(Changed(before, Snapshot(builder)), change => Assert.Equal(2, change.From));
        Assert.DoesNotContain(builder.ToRing().Devices, d => d.Id == 2);
        Assert.Equal(0, builder.GetPartitionCount(2));
        Assert.True(result.Balance <= 1, $"balance {result.Balance}");
    }

    [Fact]
    public void Min_part_hours_keeps_a_recently_moved_partition_in_place()
    {
        var builder = Build("1/1/a:100 1/2/b:100 1/3/c:100 1/4/d:100");
        builder.Rebalance(T0);
        builder.AddDevice(1, 5, "10.0.0.5", 6200, "d1", 100);

        var tooSoon = builder.Rebalance(T0.AddMinutes(30));
        var before = Snapshot(builder);
        var later = builder.Rebalance(T0.AddHours(2));
        var movedAtTwoHours = Changed(before, Snapshot(builder)).Select(c => c.Partition).ToHashSet();
        builder.AddDevice(1, 6, "10.0.0.6", 6200, "d1", 100);
        var beforeThird = Snapshot(builder);
        var third = builder.Rebalance(T0.AddHours(2).AddMinutes(10));

        Assert.Equal(0, tooSoon.PartitionsMoved);
        Assert.True(later.PartitionsMoved > 0);
        Assert.True(third.PartitionsMoved > 0);
        Assert.All(Changed(beforeThird, Snapshot(builder)), change => Assert.DoesNotContain(change.Partition, movedAtTwoHours));
        Assert.Equal(T0.AddHours(2), builder.GetLastMoved(movedAtTwoHours.First()));
    }

    [Fact]
    public void A_removed_device_is_emptied_even_within_min_part_hours()
    {
        var builder = Build("1/1/a:100 1/2/b:100 1/3/c:100 1/4/d:100", minPartHours: 24);
        builder.Rebalance(T0);

        builder.RemoveDevice(0);
        var result = builder.Rebalance(T0.AddMinutes(1));

        Assert.Equal(768, result.PartitionsMoved);
        Assert.Equal(0, builder.GetPartitionCount(0));
        Assert.Empty(builder.Validate());
    }

    [Fact]
    public void A_device_set_to_zero_weight_drains_and_removal_then_moves_nothing()
    {
        var builder = Build("1/1/a:100 1/2/b:100 1/3/c:100 1/4/d:100 1/5/e:100");
        builder.Rebalance(T0);

        builder.SetWeight(4, 0);
        var drained = builder.Rebalance(T0.AddHours(2));
        builder.RemoveDevice(4);
        var removed = builder.Rebalance(T0.AddHours(4));

        Assert.Equal(0, builder.GetPartitionCount(4));
        Assert.True(drained.PartitionsMoved > 0);
        Assert.Equal(0, removed.PartitionsMoved);
    }

    [Fact]
    public void Rebalance_refuses_fewer_devices_with_weight_than_replicas()
    {
        var builder = RingBuilder.Create(8, 3, 1, "seed");
        builder.AddDevice(1, 1, "10.0.0.1", 6200, "d1", 100);
        builder.AddDevice(1, 2, "10.0.0.2", 6200, "d1", 100);
        builder.AddDevice(1, 3, "10.0.0.3", 6200, "d1", 0);

        var error = Assert.Throws<InvalidInputException>(() => builder.Rebalance(T0));

        Assert.Equal("ring.too_few_devices", error.Code);
        Assert.Contains("3 replicas but 2 devices with weight", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 3, 1, "ring.invalid_part_power")]
    [InlineData(24, 3, 1, "ring.invalid_part_power")]
    [InlineData(10, 0, 1, "ring.invalid_replicas")]
    [InlineData(10, 3, -1, "ring.invalid_min_part_hours")]
    public void Create_refuses_out_of_range_parameters(int partPower, int replicas, double minPartHours, string code) =>
        Assert.Equal(code, Assert.Throws<InvalidInputException>(() => RingBuilder.Create(partPower, replicas, minPartHours)).Code);

    [Fact]
    public void Create_without_a_seed_chooses_a_random_one()
    {
        var one = RingBuilder.Create(4, 1, 0);
        var other = RingBuilder.Create(4, 1, 0);

        Assert.Matches("^[0-9a-f]{32}$", one.HashPathSuffix);
        Assert.NotEqual(one.HashPathSuffix, other.HashPathSuffix);
    }

    [Theory]
    [InlineData("10.0.0.1", 6200, "d1", -1, "ring.invalid_weight")]
    [InlineData("10.0.0.1", 0, "d1", 1, "ring.invalid_device")]
    [InlineData("10.0.0.1", 70000, "d1", 1, "ring.invalid_device")]
    [InlineData("not an ip", 6200, "d1", 1, "ring.invalid_device")]
    [InlineData("10.0.0.1", 6200, "a/b", 1, "ring.invalid_device")]
    public void Add_device_refuses_bad_fields(string ip, int port, string device, double weight, string code)
    {
        var builder = RingBuilder.Create(4, 1, 0, "seed");

        Assert.Equal(code, Assert.Throws<InvalidInputException>(() => builder.AddDevice(1, 1, ip, port, device, weight)).Code);
        Assert.Empty(builder.Devices);
    }

    [Fact]
    public void Add_device_refuses_the_same_ip_port_and_device_twice_and_assigns_ids_in_order()
    {
        var builder = RingBuilder.Create(4, 1, 0, "seed");
        var first = builder.AddDevice(1, 1, "10.0.0.1", 6200, "d1", 100);
        var second = builder.AddDevice(1, 1, "10.0.0.1", 6200, "d2", 100);

        var error = Assert.Throws<ConflictException>(() => builder.AddDevice(1, 2, "10.0.0.1", 6200, "d1", 50));

        Assert.Equal((0, 1), (first.Id, second.Id));
        Assert.Contains("10.0.0.1:6200/d1 as device 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Changes_to_unknown_devices_are_refused()
    {
        var builder = RingBuilder.Create(4, 1, 0, "seed");

        Assert.Equal("ring.device_not_found", Assert.Throws<NotFoundException>(() => builder.RemoveDevice(7)).Code);
        Assert.Equal("ring.device_not_found", Assert.Throws<NotFoundException>(() => builder.SetWeight(7, 1)).Code);
    }

    [Fact]
    public void Every_change_and_every_moving_rebalance_raises_the_version()
    {
        var builder = Build("1/1/a:100 1/2/b:100 1/3/c:100");
        var afterAdds = builder.Version;

        var first = builder.Rebalance(T0);
        builder.SetWeight(0, 50);

        Assert.Equal(3, afterAdds);
        Assert.Equal(4, first.Version);
        Assert.Equal(5, builder.Version);
    }

    [Fact]
    public void Validate_names_what_a_builder_lacks_before_its_first_rebalance()
    {
        var builder = Build("1/1/a:100 1/2/b:100");

        var problems = builder.Validate();

        Assert.Contains(problems, p => p.Contains("3 replicas but only 2 devices with weight", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("never been rebalanced", StringComparison.Ordinal));
        Assert.Equal("ring.not_rebalanced", Assert.Throws<InvalidInputException>(builder.ToRingBytes).Code);
    }

    [Fact]
    public async Task Save_and_load_keep_devices_assignments_last_moves_and_seeds()
    {
        using var directory = new TempDirectory();
        var path = directory.Combine("object.builder");
        var builder = Build("1/1/a:100 1/2/b:100 1/3/c:100 1/4/d:100");
        builder.Rebalance(T0);
        builder.RemoveDevice(3);

        await builder.SaveAsync(path, CancellationToken.None);
        var loaded = await RingBuilder.LoadAsync(path, CancellationToken.None);

        Assert.Equal(builder.Devices, loaded.Devices);
        Assert.Equal(builder.RemovedDevices, loaded.RemovedDevices);
        Assert.Equal((builder.Version, builder.MinPartHours, builder.HashPathSuffix), (loaded.Version, loaded.MinPartHours, loaded.HashPathSuffix));
        Assert.Equal(Snapshot(builder), Snapshot(loaded));
        Assert.Equal(T0, loaded.GetLastMoved(5));
        Assert.Equal(builder.Rebalance(T0.AddHours(2)), loaded.Rebalance(T0.AddHours(2)));
        Assert.Equal(4, loaded.AddDevice(1, 9, "10.0.0.9", 6200, "d1", 1).Id);
    }

    [Fact]
    public async Task Load_refuses_a_file_that_is_not_a_builder_naming_it()
    {
        using var directory = new TempDirectory();
        var path = directory.Combine("object.builder");
        await File.WriteAllTextAsync(path, "{\"format\": 1}");
        var ring = directory.Combine("object.ring");
        var builder = Build("1/1/a:100 1/2/b:100 1/3/c:100");
        builder.Rebalance(T0);
        await builder.WriteRingAsync(ring, CancellationToken.None);

        var notJson = await Assert.ThrowsAsync<InvalidDataException>(() => RingBuilder.LoadAsync(path, CancellationToken.None));
        var aRing = await Assert.ThrowsAsync<InvalidDataException>(() => RingBuilder.LoadAsync(ring, CancellationToken.None));

        Assert.Contains(path, notJson.Message, StringComparison.Ordinal);
        Assert.Contains("is not a ring builder file", notJson.Message, StringComparison.Ordinal);
        Assert.Contains("is a ring file, not a builder", aRing.Message, StringComparison.Ordinal);
    }

    /// <summary>A part power 10, 3-replica builder with one device per "region/zone/server:weight" entry.</summary>
    internal static RingBuilder Build(string layout, double minPartHours = 1)
    {
        var builder = RingBuilder.Create(10, 3, minPartHours, "seed");
        var devicesPerServer = new Dictionary<string, int>();
        foreach (var entry in layout.Split(' '))
        {
            var parts = entry.Split('/', ':');
            var server = parts[2];
            var n = devicesPerServer[server] = devicesPerServer.GetValueOrDefault(server) + 1;
            builder.AddDevice(int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), $"10.0.{parts[0]}.{server[0] - 'a' + 1}", 6200, $"d{n}", double.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture));
        }

        return builder;
    }

    private static int[][] Snapshot(RingBuilder builder) =>
        [.. Enumerable.Range(0, builder.PartitionCount).Select(p => builder.GetAssignment(p).ToArray())];

    private static IEnumerable<(int Partition, int From, int To)> Changed(int[][] before, int[][] after) =>
        from p in Enumerable.Range(0, before.Length)
        from r in Enumerable.Range(0, before[p].Length)
        where before[p][r] != after[p][r]
        select (p, before[p][r], after[p][r]);
}

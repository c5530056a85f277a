using Microsoft.Extensions.Time.Testing;
using Nimbus.Virt.Drivers;
using Nimbus.Virt.TestDriver;

namespace Nimbus.Virt.Tests;

public sealed class TestDriverConformanceTests : HypervisorDriverConformance
{
    protected override Task<IHypervisorDriver> CreateDriverAsync(string stateDirectory) =>
        Task.FromResult<IHypervisorDriver>(new TestHypervisorDriver());

    protected override string BootableDomainXml(string name) => $"""
        <domain type='qemu'>
          <name>{name}</name>
          <memory unit='MiB'>128</memory>
          <vcpu>1</vcpu>
          <os><type>hvm</type></os>
          <devices>
            <interface type='user'/>
            <serial type='pty'/>
          </devices>
        </domain>
        """;
}

public sealed class TestDriverTests
{
    [Fact]
    public async Task Default_uri_offers_a_running_domain_named_test_as_libvirt_does()
    {
        await using var connection = await new DriverRegistry().OpenAsync("test:///default", default);

        var domains = await connection.Hypervisor.ListDomainsAsync(ListFilter.All, default);

        var test = Assert.Single(domains);
        Assert.Equal("test", test.Name);
        Assert.Equal(DomainStatus.Booted, test.Status);
    }

    [Theory]
    [InlineData("xen:///system", "no driver for 'xen:///system'")]
    [InlineData("qemu+ssh://host/system", "remote connections")]
    [InlineData("not a uri", "is not a connection URI")]
    [InlineData("test:///other", "test driver paths are /default and /empty")]
    public async Task Unknown_uris_are_refused_with_the_choices(string uri, string expected)
    {
        var error = await Assert.ThrowsAsync<VirtException>(() => new DriverRegistry().OpenAsync(uri, default));

        Assert.Equal(VirtErrorCode.NoConnect, error.Code);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cpu_time_accrues_per_vcpu_only_while_running()
    {
        var clock = new FakeTimeProvider();
        await using var driver = new TestHypervisorDriver(clock);
        await driver.DefineDomainAsync("<domain type='qemu'><name>c</name><memory>65536</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>", default);
        await driver.StartDomainAsync("c", default);

        clock.Advance(TimeSpan.FromSeconds(10));
        await driver.SuspendDomainAsync("c", default);
        clock.Advance(TimeSpan.FromSeconds(100));
        var info = await driver.GetDomainInfoAsync("c", default);

        Assert.Equal(TimeSpan.FromSeconds(20), info.CpuTime);
    }

    [Fact]
    public async Task List_orders_active_domains_by_id_then_inactive_ones_by_name()
    {
        await using var driver = new TestHypervisorDriver();
        foreach (var name in new[] { "zulu", "alpha", "mike", "bravo" })
        {
            await driver.DefineDomainAsync($"<domain type='qemu'><name>{name}</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>", default);
        }

        await driver.StartDomainAsync("zulu", default);
        await driver.StartDomainAsync("mike", default);

        var names = (await driver.ListDomainsAsync(ListFilter.All, default)).Select(d => d.Name);

        Assert.Equal(["zulu", "mike", "alpha", "bravo"], names);
    }
}

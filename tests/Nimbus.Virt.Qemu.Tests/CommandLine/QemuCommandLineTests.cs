using Nimbus.TestSupport;
using Nimbus.Virt.Definitions;
using Nimbus.Virt.Qemu.CommandLine;

namespace Nimbus.Virt.Qemu.Tests.CommandLine;

/// <summary>
/// Domain XML in, exact QEMU argv out, pinned by golden files in Golden/argv (one argument per
/// line). Run with NIMBUS_REGENERATE_GOLDEN=1 to rewrite them, then review the diff.
/// </summary>
public sealed class QemuCommandLineTests
{
    private static readonly string GoldenDirectory = Path.Combine(LocalMachine.RepositoryRoot, "tests", "Nimbus.Virt.Qemu.Tests", "Golden", "argv");

    private static readonly QemuLaunchPlan Plan = new()
    {
        Emulator = "/usr/bin/qemu-system-x86_64",
        Accelerator = "tcg",
        MonitorSocket = "/run/nimbus/qemu/DOMAIN.qmp",
        PidFile = "/run/nimbus/qemu/DOMAIN.pid",
        ConsoleLog = "/var/log/nimbus/DOMAIN.console.log",
        VncDisplay = 3,
        TapByMac = new Dictionary<string, string> { ["52:54:00:ab:cd:01"] = "nimbus-tap0", ["52:54:00:ab:cd:02"] = "nimbus-tap1" },
    };

    public static TheoryData<string> Domains() =>
        new(Directory.GetFiles(GoldenDirectory, "*.input.xml").Select(f => Path.GetFileName(f)[..^".input.xml".Length]).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Domains))]
    public void Domain_xml_becomes_the_golden_qemu_argv(string name)
    {
        var domain = DomainXml.Parse(File.ReadAllText(Path.Combine(GoldenDirectory, name + ".input.xml")));

        var argv = string.Join('\n', QemuCommandLine.Build(domain, Plan)) + "\n";

        var golden = Path.Combine(GoldenDirectory, name + ".args");
        if (Environment.GetEnvironmentVariable("NIMBUS_REGENERATE_GOLDEN") == "1")
        {
            File.WriteAllText(golden, argv);
            return;
        }

        Assert.True(File.Exists(golden), $"{golden} is missing; run the tests with NIMBUS_REGENERATE_GOLDEN=1");
        Assert.Equal(File.ReadAllText(golden), argv);
    }

    [Fact]
    public void Kvm_domains_use_the_host_cpu_only_when_the_plan_runs_kvm()
    {
        var domain = DomainXml.Parse("<domain type='kvm'><name>k</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os><cpu mode='host-passthrough'/></domain>");

        var underKvm = QemuCommandLine.Build(domain, Plan with { Accelerator = "kvm" });
        var underTcg = QemuCommandLine.Build(domain, Plan);

        Assert.Equal("host", underKvm[underKvm.ToList().IndexOf("-cpu") + 1]);
        Assert.Equal("max", underTcg[underTcg.ToList().IndexOf("-cpu") + 1]);
    }

    [Fact]
    public void Restoring_domain_waits_for_its_state_as_a_descriptor_and_names_no_file_or_command()
    {
        var domain = DomainXml.Parse("<domain type='qemu'><name>r</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>");

        var argv = QemuCommandLine.Build(domain, Plan with { Incoming = true });

        Assert.Equal("defer", argv[argv.ToList().IndexOf("-incoming") + 1]);
        Assert.DoesNotContain(argv, a => a.Contains("exec:", StringComparison.Ordinal));
        Assert.DoesNotContain("-incoming", QemuCommandLine.Build(domain, Plan));
    }

    [Fact]
    public void Commas_in_paths_are_doubled_as_qemu_requires()
    {
        var domain = DomainXml.Parse("<domain type='qemu'><name>c</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices><disk type='file'><source file='/a,b.img'/><target dev='vda'/></disk></devices></domain>");

        var argv = QemuCommandLine.Build(domain, Plan);

        Assert.Contains("file=/a,,b.img,if=none,id=drive-vda,format=raw", argv);
    }

    [Fact]
    public void Bridge_interface_without_a_prepared_tap_is_an_internal_error()
    {
        var domain = DomainXml.Parse("<domain type='qemu'><name>t</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices><interface type='bridge'><mac address='52:54:00:00:00:09'/><source bridge='br0'/></interface></devices></domain>");

        var error = Assert.Throws<VirtException>(() => QemuCommandLine.Build(domain, Plan));

        Assert.Equal(VirtErrorCode.InternalError, error.Code);
    }
}

using Nimbus.TestSupport;
using Nimbus.Virt.Definitions;

namespace Nimbus.Virt.Tests;

/// <summary>libvirt's own schema is the judge of what we write: virt-xml-validate from libvirt-clients.</summary>
public sealed class LibvirtSchemaTests
{
    public static TheoryData<string> GoldenDomains() => new(Golden.Names("domains", ".input.xml"));

    [Theory]
    [MemberData(nameof(GoldenDomains))]
    public async Task Formatted_domain_xml_validates_against_libvirts_schema(string name)
    {
        using var directory = new TempDirectory();
        var file = directory.Combine(name + ".xml");
        await File.WriteAllTextAsync(file, DomainXml.Format(DomainXml.Parse(Golden.Read($"domains/{name}.input.xml"))));

        var (exitCode, output) = await RunAsync("virt-xml-validate", file, "domain");

        Assert.True(exitCode == 0, output);
        Assert.Contains("validates", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pools/default.expected.xml", "storagepool")]
    [InlineData("volumes/overlay.expected.xml", "storagevol")]
    public async Task Formatted_storage_xml_validates_against_libvirts_schema(string golden, string schema)
    {
        var (exitCode, output) = await RunAsync("virt-xml-validate", Path.Combine(Golden.SourceDirectory, golden), schema);

        Assert.True(exitCode == 0, output);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] args)
    {
        var result = await HostProcess.RunAsync(program, args);
        return (result.ExitCode, result.Output + result.Error);
    }
}

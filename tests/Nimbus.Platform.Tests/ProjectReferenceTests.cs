using System.Xml.Linq;
using Nimbus.TestSupport;

namespace Nimbus.Platform.Tests;

/// <summary>The project table of ARCHITECTURE.md ("may depend on"), checked against every src/ project's references.</summary>
public sealed class ProjectReferenceTests
{
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["Nimbus.Platform"] = [],
        ["Nimbus.Virt"] = [],
        ["Nimbus.Virt.Qemu"] = ["Nimbus.Virt"],
        ["Nimbus.Objects"] = ["Nimbus.Platform"],
        ["Nimbus.Identity"] = ["Nimbus.Platform"],
        ["Nimbus.Images"] = ["Nimbus.Platform"],
        ["Nimbus.Compute"] = ["Nimbus.Platform", "Nimbus.Virt"],
        ["Nimbus.Networking"] = ["Nimbus.Platform", "Nimbus.Virt"],
        ["Nimbus.Volumes"] = ["Nimbus.Platform", "Nimbus.Virt"],
        ["Nimbus.Client"] = ["Nimbus.Platform"],
        ["Nimbus.Cli"] = ["Nimbus.Virt", "Nimbus.Client"],
        ["Nimbus.Dashboard"] = ["Nimbus.Client"],
    };

    [Fact]
    public void Every_project_references_only_what_the_architecture_allows()
    {
        var problems = new List<string>();
        foreach (var project in Directory.GetFiles(Path.Combine(LocalMachine.RepositoryRoot, "src"), "*.csproj", SearchOption.AllDirectories))
        {
            var name = Path.GetFileNameWithoutExtension(project);
            if (name == "Nimbus.Daemon")
            {
                // nimbusd composes the services: it may reference any of them.
                continue;
            }

            if (!Allowed.TryGetValue(name, out var allowed))
            {
                problems.Add($"{name} is not in the architecture's project table");
                continue;
            }

            var references = XDocument.Load(project).Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')));
            problems.AddRange(references.Where(r => !allowed.Contains(r)).Select(r => $"{name} references {r}; it may depend on {(allowed.Length == 0 ? "nothing of Nimbus" : string.Join(", ", allowed))}"));
        }

        Assert.Empty(problems);
    }
}

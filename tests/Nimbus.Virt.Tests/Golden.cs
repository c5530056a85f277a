namespace Nimbus.Virt.Tests;

/// <summary>
/// Golden files under Golden/: tests compare output with the checked-in expectation. Run the tests
/// with NIMBUS_REGENERATE_GOLDEN=1 to rewrite the expectations in the source tree, then review the diff.
/// </summary>
internal static class Golden
{
    public static string SourceDirectory { get; } = Path.Combine(Nimbus.TestSupport.LocalMachine.RepositoryRoot, "tests", "Nimbus.Virt.Tests", "Golden");

    public static bool Regenerating => Environment.GetEnvironmentVariable("NIMBUS_REGENERATE_GOLDEN") == "1";

    public static string Read(string relativePath) => File.ReadAllText(Path.Combine(SourceDirectory, relativePath));

    public static IEnumerable<string> Names(string directory, string suffix) =>
        Directory.GetFiles(Path.Combine(SourceDirectory, directory), "*" + suffix).Select(f => Path.GetFileName(f)[..^suffix.Length]).Order(StringComparer.Ordinal);

    /// <summary>Asserts <paramref name="actual"/> equals the golden file, or rewrites the file when regenerating.</summary>
    public static void AssertMatches(string relativePath, string actual)
    {
        var path = Path.Combine(SourceDirectory, relativePath);
        if (Regenerating)
        {
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"golden file {path} is missing; run the tests with NIMBUS_REGENERATE_GOLDEN=1 to create it");
        Assert.Equal(File.ReadAllText(path), actual);
    }
}

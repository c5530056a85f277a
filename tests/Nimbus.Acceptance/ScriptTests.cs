using Nimbus.TestSupport;

namespace Nimbus.Acceptance;

/// <summary>The shell scripts tests and users run: progress on stderr, results on stdout, and nothing installed from a test.</summary>
public sealed class ScriptTests
{
    [Fact]
    public async Task Ensure_packages_with_installs_forbidden_names_the_missing_package_on_stderr_and_installs_nothing()
    {
        var (exit, output, error) = await SourceCommonAsync("ensure_packages nimbus-no-such-package", new Dictionary<string, string> { ["NIMBUS_NO_INSTALL"] = "1" });

        Assert.NotEqual(0, exit);
        Assert.Equal("", output);
        Assert.Contains("nimbus-no-such-package", error, StringComparison.Ordinal);
        Assert.Contains("NIMBUS_NO_INSTALL", error, StringComparison.Ordinal);
        Assert.DoesNotContain("==> installing", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ensure_packages_prints_nothing_when_every_package_is_installed()
    {
        var (exit, output, error) = await SourceCommonAsync("ensure_packages bash coreutils", new Dictionary<string, string> { ["NIMBUS_NO_INSTALL"] = "1" });

        Assert.True(exit == 0, error);
        Assert.Equal("", output + error);
    }

    [Fact]
    public async Task Image_build_with_no_install_prints_only_the_image_path_on_stdout()
    {
        var (exit, output, error) = await Executables.RunAsync(Path.Combine(LocalMachine.RepositoryRoot, "images", "build.sh"), ["--no-install"]);

        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.True(File.Exists(lines[0]), $"stdout was '{output}'");
    }

    private static Task<(int ExitCode, string Output, string Error)> SourceCommonAsync(string command, IReadOnlyDictionary<string, string> environment) =>
        Executables.RunAsync("/bin/bash", ["-c", $"cd '{LocalMachine.RepositoryRoot}' && . scripts/common.sh && {command}"], environment);
}

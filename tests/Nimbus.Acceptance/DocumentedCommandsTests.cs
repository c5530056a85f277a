using System.Text;
using Nimbus.TestSupport;

namespace Nimbus.Acceptance;

/// <summary>
/// The command sequences the README and docs/ give, taken from the Markdown itself and run as written,
/// one after the other in one bash shell, with the real openstack and swift clients against bin/nimbusd.
/// </summary>
public sealed class DocumentedCommandsTests
{
    [Fact]
    public async Task Readme_commands_run_as_written_in_one_shell()
    {
        using var work = new TempDirectory();
        using var daemon = DaemonProcess.Start(work.Combine(".nimbus"), LocalMachine.FreePort());
        await daemon.WaitUntilReadyAsync();
        await PrepareWorkDirectoryAsync(work.Path);
        await File.WriteAllTextAsync(work.Combine("file"), "backed up\n");

        // The README's order: openrc first, then swiftrc in the same shell; swift must still reach tempauth.
        var script = CommandsOf(await File.ReadAllTextAsync(Path.Combine(LocalMachine.RepositoryRoot, "README.md")), "## Once it runs");
        var (exitCode, output, error) = await RunInOneShellAsync(work.Path, script + "swift list backups\n");

        Assert.True(exitCode == 0, $"the README's commands failed ({exitCode}):\n{error}");
        Assert.Contains("\"status\"", output, StringComparison.Ordinal);
        Assert.Equal("file", output.TrimEnd('\n').Split('\n')[^1]);
    }

    [Fact]
    public async Task Images_quick_start_runs_as_written_in_one_shell()
    {
        using var work = new TempDirectory();
        using var daemon = DaemonProcess.Start(work.Combine(".nimbus"), LocalMachine.FreePort());
        await daemon.WaitUntilReadyAsync();
        await PrepareWorkDirectoryAsync(work.Path);

        // The page starts the all-in-one itself; here it already runs.
        // Its first block holds the commands; the next one shows a refusal's output.
        var script = string.Join('\n', CommandsOf(await File.ReadAllTextAsync(Path.Combine(LocalMachine.RepositoryRoot, "docs", "images.md")), "## Quick start", blocks: 1)
            .Split('\n')
            .Where(line => !line.StartsWith("./run.sh", StringComparison.Ordinal)));
        var (exitCode, _, error) = await RunInOneShellAsync(work.Path, script);

        Assert.True(exitCode == 0, $"docs/images.md's quick start failed ({exitCode}):\n{error}");
    }

    [Fact]
    public async Task Sourcing_the_env_file_of_another_home_points_nimbus_at_its_daemon()
    {
        using var work = new TempDirectory();
        using var other = new TempDirectory();
        using var daemon = DaemonProcess.Start(other.Path, LocalMachine.FreePort());
        await daemon.WaitUntilReadyAsync();
        await PrepareWorkDirectoryAsync(work.Path);

        // ./.nimbus here holds no daemon: only the sourced variables can lead nimbus to the other one.
        var (exitCode, output, error) = await RunInOneShellAsync(work.Path, $"source {other.Path}/nimbus.env\n./bin/nimbus status\n");

        Assert.True(exitCode == 0, $"nimbus status after sourcing {daemon.EnvFile} failed ({exitCode}):\n{error}");
        Assert.Contains($"at {daemon.Url} is running", output, StringComparison.Ordinal);
        Assert.Contains("found by NIMBUS_URL", output, StringComparison.Ordinal);
    }

    /// <summary>The lines of the code blocks of one section (its first <paramref name="blocks"/>), comments and all, as a reader would paste them.</summary>
    internal static string CommandsOf(string markdown, string heading, int blocks = int.MaxValue)
    {
        var start = markdown.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no section '{heading}'");
        var end = markdown.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        var section = markdown[start..(end < 0 ? markdown.Length : end)];
        var script = new StringBuilder();
        var inBlock = false;
        foreach (var line in section.Split('\n'))
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock;
                if (!inBlock && --blocks == 0)
                {
                    break;
                }
            }
            else if (inBlock)
            {
                script.Append(line).Append('\n');
            }
        }

        Assert.True(script.Length > 0, $"section '{heading}' has no commands");
        return script.ToString();
    }

    /// <summary>A directory laid out as a checkout the README speaks of: ./bin and a small disk.qcow2.</summary>
    private static async Task PrepareWorkDirectoryAsync(string work)
    {
        File.CreateSymbolicLink(Path.Combine(work, "bin"), Path.Combine(LocalMachine.RepositoryRoot, "bin"));
        var qemuImg = await HostProcess.RunAsync("qemu-img", "create", "-q", "-f", "qcow2", Path.Combine(work, "disk.qcow2"), "16M");
        Assert.True(qemuImg.ExitCode == 0, qemuImg.Error);
    }

    /// <summary>Runs <paramref name="script"/> in one bash in <paramref name="work"/>; the first failing command ends it.</summary>
    private static Task<(int ExitCode, string Output, string Error)> RunInOneShellAsync(string work, string script) =>
        Executables.RunAsync("/bin/bash", ["-c", "set -eu -x\ncd \"$1\"\n" + script, "bash", work]);
}

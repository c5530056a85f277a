using Nimbus.Platform.Errors;
using Nimbus.Platform.Storage;
using Nimbus.Shared;
using Nimbus.TestSupport;

namespace Nimbus.Platform.Tests;

public sealed class StorageTests
{
    [Fact]
    public async Task Atomic_write_replaces_the_whole_file_and_leaves_no_temporary_behind()
    {
        using var directory = new TempDirectory();
        var file = directory.Combine("state.txt");

        await AtomicFile.WriteAllTextAsync(file, "first", CancellationToken.None);
        await AtomicFile.WriteAllTextAsync(file, "second", CancellationToken.None);

        Assert.Equal("second", await File.ReadAllTextAsync(file));
        Assert.Equal(["state.txt"], Directory.GetFiles(directory.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Atomic_write_that_fails_keeps_the_old_content()
    {
        using var directory = new TempDirectory();
        var file = directory.Combine("state.txt");
        await AtomicFile.WriteAllTextAsync(file, "kept", CancellationToken.None);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => AtomicFile.WriteAllTextAsync(file, "lost", cancelled.Token));

        Assert.Equal("kept", await File.ReadAllTextAsync(file));
        Assert.Single(Directory.GetFiles(directory.Path));
    }

    [Fact]
    public async Task Owner_only_write_creates_the_file_0600_before_its_first_byte()
    {
        using var directory = new TempDirectory();
        var file = directory.Combine("secret");
        UnixFileMode? modeAtFirstByte = null;

        await AtomicFile.WriteAsync(
            file,
            AtomicFile.OwnerOnly,
            async (stream, ct) =>
            {
                modeAtFirstByte = File.GetUnixFileMode(((FileStream)stream).Name);
                await stream.WriteAsync("key"u8.ToArray(), ct);
            },
            CancellationToken.None);

        Assert.Equal(AtomicFile.OwnerOnly, modeAtFirstByte);
        Assert.Equal(AtomicFile.OwnerOnly, File.GetUnixFileMode(file));
        Assert.Equal("key", await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task Owner_only_write_over_a_world_readable_file_leaves_it_owner_only()
    {
        using var directory = new TempDirectory();
        var file = directory.Combine("secret");
        await File.WriteAllTextAsync(file, "old");
        File.SetUnixFileMode(file, AtomicFile.OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        await AtomicFile.WriteAllTextAsync(file, "new", AtomicFile.OwnerOnly, CancellationToken.None);

        Assert.Equal(AtomicFile.OwnerOnly, File.GetUnixFileMode(file));
        Assert.Equal("new", await File.ReadAllTextAsync(file));
    }

    [Fact]
    public void State_directory_is_created_owner_only()
    {
        using var directory = new TempDirectory();
        var home = directory.Combine("a", "home");

        StateDirectory.EnsureWritable(home);

        Assert.Equal(AtomicFile.OwnerOnlyDirectory, File.GetUnixFileMode(home));
    }

    [Fact]
    public void State_directory_that_exists_keeps_the_mode_its_owner_gave_it()
    {
        using var directory = new TempDirectory();
        var home = directory.Combine("shared");
        Directory.CreateDirectory(home, AtomicFile.OwnerOnlyDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);

        StateDirectory.EnsureWritable(home);

        Assert.Equal(AtomicFile.OwnerOnlyDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute, File.GetUnixFileMode(home));
    }

    [Fact]
    public void State_directory_is_created_when_missing()
    {
        using var directory = new TempDirectory();
        var home = directory.Combine("a", "b");

        StateDirectory.EnsureWritable(home);

        Assert.True(Directory.Exists(home));
        Assert.Empty(Directory.GetFileSystemEntries(home));
    }

    [Fact]
    public void State_directory_under_a_regular_file_is_refused_with_the_fix()
    {
        using var directory = new TempDirectory();
        var file = directory.Combine("file");
        File.WriteAllText(file, "x");

        var error = Assert.Throws<ConfigurationException>(() => StateDirectory.EnsureWritable(Path.Combine(file, "home")));

        Assert.Equal("config.state_dir_unwritable", error.Code);
        Assert.Contains("NIMBUS_HOME", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void State_directory_can_be_held_by_one_owner_at_a_time()
    {
        using var directory = new TempDirectory();

        using (StateDirectory.Acquire(directory.Path))
        {
            var error = Assert.Throws<ConflictException>(() => StateDirectory.Acquire(directory.Path));
            Assert.Equal("daemon.state_dir_in_use", error.Code);
        }

        using var again = StateDirectory.Acquire(directory.Path);
    }

    [Fact]
    public void Home_resolves_from_the_explicit_path_then_the_environment_then_the_default()
    {
        Assert.Equal("/srv/a", StateDirectory.Resolve("/srv/a", "/srv/b"));
        Assert.Equal("/srv/b", StateDirectory.Resolve(null, "/srv/b"));
        Assert.Equal(Path.GetFullPath(".nimbus"), StateDirectory.Resolve(null, null));
    }

    [Fact]
    public async Task Runtime_env_file_round_trips_the_url()
    {
        using var directory = new TempDirectory();

        await RuntimeEnvFile.WriteAsync(directory.Path, new Uri("http://127.0.0.1:8700/"), CancellationToken.None);

        Assert.Equal("http://127.0.0.1:8700", RuntimeEnvFile.ReadUrl(RuntimeEnvFile.PathIn(directory.Path)));
        RuntimeEnvFile.Remove(directory.Path);
        Assert.False(File.Exists(RuntimeEnvFile.PathIn(directory.Path)));
    }

    [Fact]
    public async Task Runtime_env_file_exports_its_variables_to_the_programs_a_shell_starts_after_sourcing_it()
    {
        using var directory = new TempDirectory();
        var home = directory.Combine("it's home");
        Directory.CreateDirectory(home);
        await RuntimeEnvFile.WriteAsync(home, new Uri("http://127.0.0.1:8700/"), CancellationToken.None);

        // As a user does: source it, then run a program (here a child shell) that reads the variables.
        var result = await HostProcess.RunAsync(
            "bash", "-c", "source \"$1\"; bash -c 'echo \"$NIMBUS_URL|$NIMBUS_HOME|$NIMBUS_PID\"'", "bash", RuntimeEnvFile.PathIn(home));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal($"http://127.0.0.1:8700|{home}|{Environment.ProcessId}", result.Output.TrimEnd('\n'));
    }

    [Fact]
    public async Task Runtime_env_file_url_is_read_with_or_without_export()
    {
        using var directory = new TempDirectory();
        var file = directory.Combine("nimbus.env");

        await File.WriteAllTextAsync(file, "NIMBUS_URL=http://127.0.0.1:1\n");
        Assert.Equal("http://127.0.0.1:1", RuntimeEnvFile.ReadUrl(file));
        await File.WriteAllTextAsync(file, "export NIMBUS_URL=http://127.0.0.1:2\nexport NIMBUS_HOME='/x'\n");
        Assert.Equal("http://127.0.0.1:2", RuntimeEnvFile.ReadUrl(file));
    }
}

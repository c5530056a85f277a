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
}

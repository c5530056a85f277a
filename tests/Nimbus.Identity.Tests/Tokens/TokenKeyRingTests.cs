using Microsoft.Extensions.Logging.Abstractions;
using Nimbus.Identity.Tokens;
using Nimbus.Platform.Errors;
using Nimbus.TestSupport;

namespace Nimbus.Identity.Tests.Tokens;

public sealed class TokenKeyRingTests : IAsyncLifetime
{
    private TokenTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await TokenTestBed.CreateAsync();

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public void New_directory_gets_a_staged_key_and_a_primary()
    {
        Assert.Equal([0, 1], _bed.Keys.KeyIndexes);
        Assert.Equal(1, _bed.Keys.PrimaryIndex);
        Assert.Equal(["0", "1"], KeyFiles(_bed.KeyDirectory));
        Assert.All(KeyFiles(_bed.KeyDirectory), name => Assert.Equal(32, new FileInfo(Path.Combine(_bed.KeyDirectory, name)).Length));
    }

    [Fact]
    public async Task Key_files_and_their_directory_are_readable_by_the_owner_only()
    {
        await _bed.Keys.RotateAsync(CancellationToken.None);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_bed.KeyDirectory));
        Assert.All(KeyFiles(_bed.KeyDirectory), name => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_bed.KeyDirectory, name))));
    }

    [Fact]
    public async Task Existing_directory_open_to_other_users_is_made_private()
    {
        using var directory = new TempDirectory();
        File.SetUnixFileMode(directory.Path, File.GetUnixFileMode(directory.Path) | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        using var keys = await TokenKeyRing.LoadOrCreateAsync(directory.Path);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory.Path));
    }

    [Fact]
    public async Task Loading_an_existing_directory_keeps_its_keys()
    {
        var token = _bed.Tokens.Issue(_bed.ProjectToken());

        var (keys, _, tokens) = await _bed.SecondNodeAsync();

        Assert.Equal([0, 1], keys.KeyIndexes);
        Assert.NotNull(tokens.Validate(token));
        keys.Dispose();
    }

    [Fact]
    public async Task Rotation_promotes_the_staged_key_so_nodes_that_have_not_reloaded_still_validate_new_tokens()
    {
        var (otherKeys, _, otherTokens) = await _bed.SecondNodeAsync();

        await _bed.Keys.RotateAsync(CancellationToken.None);
        var token = _bed.Tokens.Issue(_bed.ProjectToken());

        Assert.Equal(2, _bed.Keys.PrimaryIndex);
        Assert.Equal([0, 1, 2], _bed.Keys.KeyIndexes);
        Assert.NotNull(otherTokens.Validate(token));
        otherKeys.Dispose();
    }

    [Fact]
    public async Task Token_from_the_previous_primary_still_validates_after_one_rotation()
    {
        var token = _bed.Tokens.Issue(_bed.ProjectToken());

        await _bed.Keys.RotateAsync(CancellationToken.None);

        Assert.NotNull(_bed.Tokens.Validate(token));
    }

    [Fact]
    public async Task Token_from_a_key_rotated_out_is_invalid()
    {
        var token = _bed.Tokens.Issue(_bed.ProjectToken());

        await _bed.Keys.RotateAsync(CancellationToken.None);
        await _bed.Keys.RotateAsync(CancellationToken.None);

        Assert.Equal([0, 2, 3], _bed.Keys.KeyIndexes);
        Assert.Equal(["0", "2", "3"], KeyFiles(_bed.KeyDirectory));
        Assert.Null(_bed.Tokens.Validate(token));
    }

    [Fact]
    public async Task More_active_keys_keep_older_tokens_valid_longer()
    {
        using var wide = await TokenKeyRing.LoadOrCreateAsync(_bed.Directory.Combine("wide"), 5, _bed.Time, NullLogger.Instance, CancellationToken.None);
        var service = new TokenService(wide, _bed.Revocations, _bed.Time);
        var token = service.Issue(_bed.ProjectToken());

        for (var i = 0; i < 3; i++)
        {
            await wide.RotateAsync(CancellationToken.None);
        }

        Assert.Equal([0, 1, 2, 3, 4], wide.KeyIndexes);
        Assert.NotNull(service.Validate(token));
        await wide.RotateAsync(CancellationToken.None);
        Assert.Null(service.Validate(token));
    }

    [Fact]
    public async Task Second_ring_on_the_same_directory_sees_a_rotation_after_its_next_check()
    {
        var (otherKeys, _, otherTokens) = await _bed.SecondNodeAsync();
        var old = _bed.Tokens.Issue(_bed.ProjectToken());
        await _bed.Keys.RotateAsync(CancellationToken.None);
        await _bed.Keys.RotateAsync(CancellationToken.None);

        // Checked at most once a second: nothing is read before then.
        Assert.False(await otherKeys.ReloadIfChangedAsync(CancellationToken.None));
        Assert.Equal(1, otherKeys.PrimaryIndex);
        Assert.NotNull(otherTokens.Validate(old));

        _bed.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await otherKeys.ReloadIfChangedAsync(CancellationToken.None));

        Assert.Equal(3, otherKeys.PrimaryIndex);
        Assert.Equal([0, 2, 3], otherKeys.KeyIndexes);
        Assert.Null(otherTokens.Validate(old));
        Assert.NotNull(otherTokens.Validate(_bed.Tokens.Issue(_bed.ProjectToken())));
        _bed.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(await otherKeys.ReloadIfChangedAsync(CancellationToken.None));
        otherKeys.Dispose();
    }

    [Fact]
    public async Task Keys_copied_in_from_another_node_are_noticed_without_a_rotation_marker()
    {
        var (source, _, sourceTokens) = await _bed.SecondNodeAsync();
        using var copy = new TempDirectory();
        foreach (var name in KeyFiles(_bed.KeyDirectory))
        {
            File.Copy(Path.Combine(_bed.KeyDirectory, name), copy.Combine(name));
        }

        using var keys = await TokenKeyRing.LoadOrCreateAsync(copy.Path, TokenKeyRing.MinActiveKeys, _bed.Time, NullLogger.Instance, CancellationToken.None);
        var tokens = new TokenService(keys, _bed.Revocations, _bed.Time);
        await _bed.Keys.RotateAsync(CancellationToken.None);
        var token = _bed.Tokens.Issue(_bed.ProjectToken());
        File.Copy(Path.Combine(_bed.KeyDirectory, "2"), copy.Combine("2"));

        _bed.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await keys.ReloadIfChangedAsync(CancellationToken.None));

        Assert.Equal(2, keys.PrimaryIndex);
        Assert.NotNull(tokens.Validate(token));
        Assert.NotNull(sourceTokens.Validate(tokens.Issue(_bed.ProjectToken())));
        source.Dispose();
    }

    [Fact]
    public async Task Ring_refuses_fewer_than_three_active_keys()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => TokenKeyRing.LoadOrCreateAsync(_bed.Directory.Combine("few"), 2));
    }

    [Fact]
    public async Task Key_file_of_the_wrong_size_stops_loading_with_a_clear_error()
    {
        using var directory = new TempDirectory();
        File.WriteAllBytes(directory.Combine("0"), new byte[32]);
        File.WriteAllBytes(directory.Combine("1"), new byte[31]);

        var error = await Assert.ThrowsAsync<ServiceUnavailableException>(() => TokenKeyRing.LoadOrCreateAsync(directory.Path));

        Assert.Equal("identity.token_key_invalid", error.Code);
        Assert.Contains(directory.Combine("1"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Files_that_are_not_keys_are_ignored()
    {
        File.WriteAllText(Path.Combine(_bed.KeyDirectory, "README"), "token keys");
        File.WriteAllText(Path.Combine(_bed.KeyDirectory, "01"), "not a key name");

        using var keys = await TokenKeyRing.LoadOrCreateAsync(_bed.KeyDirectory);

        Assert.Equal([0, 1], keys.KeyIndexes);
    }

    private static string[] KeyFiles(string directory) =>
        [.. Directory.EnumerateFiles(directory).Select(Path.GetFileName).OfType<string>().Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal)];
}

using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Nimbus.Platform.Errors;
using Nimbus.Shared;

namespace Nimbus.Objects.Middleware;

/// <summary>
/// tempauth's users and token-signing key, kept in one JSON file readable by its owner only
/// (<c>$NIMBUS_HOME/objects/tempauth.json</c> in the all-in-one): what Swift keeps as
/// <c>user_&lt;account&gt;_&lt;user&gt; = key groups</c> lines in proxy-server.conf. Changes go
/// through <see cref="AddUserAsync"/>, <see cref="SetKeyAsync"/> and <see cref="RemoveUserAsync"/>:
/// each rereads the file, rewrites it whole (0600, atomically) and hands the new users to
/// <see cref="Changed"/>, so a running proxy uses them at once.
/// </summary>
public sealed class TempAuthStore : IDisposable
{
    /// <summary>The user the all-in-one creates on first start: "admin:admin", a reseller admin.</summary>
    public const string AdminAccount = "admin";
    public const string AdminUser = "admin";

    /// <summary>The groups tempauth gives meaning to: owner of its account, and owner of every account.</summary>
    public const string AdminGroup = ".admin";
    public const string ResellerAdminGroup = ".reseller_admin";

    private const int MaxNameLength = 64;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private TempAuthSettings _current;

    private TempAuthStore(string path, TempAuthSettings current)
    {
        Path = path;
        _current = current;
    }

    /// <summary>Raised after each change is on disk, with the settings the proxy should use from now on.</summary>
    public event Action<TempAuthSettings>? Changed;

    public string Path { get; }

    public TempAuthSettings Current => Volatile.Read(ref _current);

    /// <summary>Opens the file at <paramref name="path"/>, creating it with the admin user and a new signing key when missing.</summary>
    public static async Task<TempAuthStore> OpenAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            var created = new TempAuthFile(
                Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                [new TempAuthFileUser(AdminAccount, AdminUser, NewKey(), [AdminGroup, ResellerAdminGroup])]);
            AtomicFile.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
            await WriteAsync(path, created, cancellationToken);
        }

        return new TempAuthStore(path, ToSettings(await ReadAsync(path, cancellationToken)));
    }

    /// <summary>The settings of the file at <paramref name="path"/>, created as <see cref="OpenAsync"/> does.</summary>
    public static async Task<TempAuthSettings> LoadOrCreateAsync(string path, CancellationToken cancellationToken)
    {
        using var store = await OpenAsync(path, cancellationToken);
        return store.Current;
    }

    /// <summary>Adds a user; <paramref name="key"/> null makes one up. Returns the user, key included (shown once).</summary>
    public Task<TempAuthUser> AddUserAsync(string account, string user, string? key, IReadOnlyList<string> groups, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(groups);
        CheckName("account", account);
        CheckName("user", user);
        foreach (var group in groups)
        {
            CheckGroup(group);
        }

        var added = new TempAuthFileUser(account, user, CheckKey(key) ?? NewKey(), [.. groups.Distinct(StringComparer.Ordinal)]);
        return ChangeAsync(
            file =>
            {
                if (Find(file, account, user) is not null)
                {
                    throw new ConflictException("objects.tempauth_user_exists", $"tempauth user {account}:{user} already exists; change its key with `nimbus objects user set-key {account}:{user}`, or remove it first.");
                }

                return (file with { Users = [.. file.Users, added] }, added);
            },
            cancellationToken);
    }

    /// <summary>Gives a user a new key (<paramref name="key"/> null makes one up). Tokens issued before stay valid until they expire, as in Swift.</summary>
    public Task<TempAuthUser> SetKeyAsync(string account, string user, string? key, CancellationToken cancellationToken)
    {
        var newKey = CheckKey(key) ?? NewKey();
        return ChangeAsync(
            file =>
            {
                var existing = Find(file, account, user) ?? throw NoSuchUser(account, user);
                var changed = existing with { Key = newKey };
                return (file with { Users = [.. file.Users.Select(u => ReferenceEquals(u, existing) ? changed : u)] }, changed);
            },
            cancellationToken);
    }

    /// <summary>Removes a user; its tokens stop working at once. The all-in-one's own admin:admin cannot be removed.</summary>
    public Task RemoveUserAsync(string account, string user, CancellationToken cancellationToken)
    {
        if (account == AdminAccount && user == AdminUser)
        {
            throw new ConflictException(
                "objects.tempauth_admin_required",
                $"{AdminAccount}:{AdminUser} is the all-in-one's own user (swiftrc and the swift image store log in with it) and cannot be removed; give it a new key with `nimbus objects user set-key {AdminAccount}:{AdminUser}` instead.");
        }

        return ChangeAsync(
            file =>
            {
                var existing = Find(file, account, user) ?? throw NoSuchUser(account, user);
                return (file with { Users = [.. file.Users.Where(u => !ReferenceEquals(u, existing))] }, existing);
            },
            cancellationToken);
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>Rereads the file (hand edits are kept), applies one change, rewrites it and publishes the result.</summary>
    private async Task<TempAuthUser> ChangeAsync(Func<TempAuthFile, (TempAuthFile File, TempAuthFileUser User)> change, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var (file, user) = change(await ReadAsync(Path, cancellationToken));
            await WriteAsync(Path, file, cancellationToken);
            var settings = ToSettings(file);
            Volatile.Write(ref _current, settings);
            Changed?.Invoke(settings);
            return ToUser(user);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static TempAuthFileUser? Find(TempAuthFile file, string account, string user) =>
        file.Users.FirstOrDefault(u => u.Account == account && u.User == user);

    private static NotFoundException NoSuchUser(string account, string user) =>
        new("objects.no_such_tempauth_user", $"there is no tempauth user {account}:{user}; `nimbus objects user list` shows them.");

    /// <summary>
    /// Names become the account in every storage URL (<c>/v1/AUTH_&lt;account&gt;</c>) and half of
    /// <c>account:user</c>: letters, digits, '.', '_' and '-' only, so no name needs quoting anywhere.
    /// </summary>
    private static void CheckName(string what, string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || name is "." or ".."
            || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw new InvalidInputException(
                "objects.bad_tempauth_user",
                $"'{name}' is not a valid tempauth {what} name: use 1 to {MaxNameLength} letters, digits, '.', '_' or '-' (as in demo:alice).");
        }
    }

    private static void CheckGroup(string group)
    {
        if (string.IsNullOrEmpty(group) || group.Length > 256 || group.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c == ','))
        {
            throw new InvalidInputException(
                "objects.bad_tempauth_user",
                $"'{group}' is not a valid group: a group is one word without commas (.admin, .reseller_admin, or a name container ACLs use).");
        }
    }

    private static string? CheckKey(string? key)
    {
        if (key is not null && (key.Length is 0 or > 256 || key.Any(c => char.IsControl(c) || c > '~')))
        {
            throw new InvalidInputException(
                "objects.bad_tempauth_key",
                "a tempauth key is 1 to 256 printable ASCII characters (it travels in the X-Auth-Key header); leave --key out to have one made up.");
        }

        return key;
    }

    private static string NewKey() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    private static async Task<TempAuthFile> ReadAsync(string path, CancellationToken cancellationToken)
    {
        TempAuthFile? file;
        try
        {
            file = JsonSerializer.Deserialize(await File.ReadAllTextAsync(path, cancellationToken), TempAuthJson.Default.TempAuthFile);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is not valid tempauth JSON ({ex.Message}); fix it or remove it to have a new admin user created.", ex);
        }

        if (file is null || file.Users is null || file.SigningKey is null)
        {
            throw new InvalidDataException($"{path} lacks \"signing_key\" or \"users\"; fix it or remove it to have a new admin user created.");
        }

        return file;
    }

    // Created 0600 before the first key is written into it, then renamed over the old file.
    private static Task WriteAsync(string path, TempAuthFile file, CancellationToken cancellationToken) =>
        AtomicFile.WriteAllTextAsync(path, JsonSerializer.Serialize(file, TempAuthJson.Default.TempAuthFile) + "\n", AtomicFile.OwnerOnly, cancellationToken);

    private static TempAuthSettings ToSettings(TempAuthFile file) =>
        new([.. file.Users.Select(ToUser)], Convert.FromBase64String(file.SigningKey));

    private static TempAuthUser ToUser(TempAuthFileUser user) => new(user.Account, user.User, user.Key, user.Groups ?? []);

    internal sealed record TempAuthFile(
        [property: JsonPropertyName("signing_key")] string SigningKey,
        [property: JsonPropertyName("users")] IReadOnlyList<TempAuthFileUser> Users);

    internal sealed record TempAuthFileUser(
        [property: JsonPropertyName("account")] string Account,
        [property: JsonPropertyName("user")] string User,
        [property: JsonPropertyName("key")] string Key,
        [property: JsonPropertyName("groups")] IReadOnlyList<string>? Groups);
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(TempAuthStore.TempAuthFile))]
internal sealed partial class TempAuthJson : JsonSerializerContext;

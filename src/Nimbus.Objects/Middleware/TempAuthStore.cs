using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Nimbus.Shared;

namespace Nimbus.Objects.Middleware;

/// <summary>
/// tempauth's users and token-signing key, kept in one JSON file readable by its owner only
/// (<c>$NIMBUS_HOME/objects/tempauth.json</c> in the all-in-one): what Swift keeps as
/// <c>user_&lt;account&gt;_&lt;user&gt; = key groups</c> lines in proxy-server.conf.
/// </summary>
public static class TempAuthStore
{
    /// <summary>The user the all-in-one creates on first start: "admin:admin", a reseller admin.</summary>
    public const string AdminAccount = "admin";
    public const string AdminUser = "admin";

    public static async Task<TempAuthSettings> LoadOrCreateAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            var created = new TempAuthFile(
                Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                [new TempAuthFileUser(AdminAccount, AdminUser, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)), [".admin", ".reseller_admin"])]);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await AtomicFile.WriteAllTextAsync(path, JsonSerializer.Serialize(created, TempAuthJson.Default.TempAuthFile), cancellationToken);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

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

        return new TempAuthSettings(
            [.. file.Users.Select(u => new TempAuthUser(u.Account, u.User, u.Key, u.Groups ?? []))],
            Convert.FromBase64String(file.SigningKey));
    }

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

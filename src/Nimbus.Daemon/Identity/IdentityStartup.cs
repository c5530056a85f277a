using Nimbus.Identity;
using Nimbus.Identity.Bootstrap;
using Nimbus.Platform.Errors;

namespace Nimbus.Daemon.Identity;

/// <summary>
/// Identity in nimbusd: its settings from <see cref="IdentityOptions"/>, and the bootstrap that runs
/// once the API host knows its address (the catalog and openrc name it).
/// </summary>
internal static class IdentityStartup
{
    public static IdentitySettings Settings(IdentityOptions options, string home) => new()
    {
        TokenLifetime = TimeSpan.FromSeconds(options.TokenExpirationSeconds),
        PasswordHashIterations = options.PasswordHashIterations,
        KeyDirectory = KeyDirectory(home),
        MaxActiveKeys = options.MaxActiveKeys,
    };

    public static string KeyDirectory(string home) => Path.Combine(home, "identity", "token-keys");

    /// <summary>
    /// Bootstraps Identity for <paramref name="apiUrl"/> and rewrites openrc and clouds.yaml for it.
    /// Returns the admin password when this start made it up, to be shown once.
    /// </summary>
    public static async Task<string?> BootstrapAsync(IServiceProvider services, IdentityOptions options, string home, Uri apiUrl, CancellationToken cancellationToken)
    {
        var publicUrl = options.PublicUrl.Length > 0 ? new Uri(options.PublicUrl) : apiUrl;
        var settings = new BootstrapSettings
        {
            PublicBaseUrl = publicUrl,
            RegionId = options.Region,
            AdminPassword = options.BootstrapPassword.Length > 0 ? options.BootstrapPassword : null,
        };
        var result = await services.BootstrapIdentityAsync(settings, cancellationToken);

        // The admin's password is stored only hashed; a later start carries it over from the openrc it wrote.
        var password = result.GeneratedPassword ?? settings.AdminPassword ?? ClientConfigFiles.ReadPassword(home);
        if (password is null)
        {
            throw new ConfigurationException(
                "identity.openrc_missing",
                "Identity:BootstrapPassword",
                $"{Path.Combine(home, ClientConfigFiles.OpenRcFileName)} is missing, and the admin password is kept only hashed; set Identity:BootstrapPassword (NIMBUS__Identity__BootstrapPassword) to the admin's password so nimbusd can write it again.");
        }

        await ClientConfigFiles.WriteAsync(home, settings, password, cancellationToken);
        return result.CreatedAdmin ? result.GeneratedPassword : null;
    }
}

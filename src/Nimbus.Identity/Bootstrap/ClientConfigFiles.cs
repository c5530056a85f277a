using System.Globalization;
using System.Text;
using Nimbus.Shared;

namespace Nimbus.Identity.Bootstrap;

/// <summary>
/// The files that point the openstack client at this cloud as admin: $NIMBUS_HOME/openrc (for
/// <c>source</c>) and $NIMBUS_HOME/clouds.yaml (for <c>--os-cloud nimbus</c>). Both hold the
/// password, so they are written whole, owner-only (0600), and atomically.
/// </summary>
public static class ClientConfigFiles
{
    public const string OpenRcFileName = "openrc";
    public const string CloudsFileName = "clouds.yaml";
    public const string CloudName = "nimbus";

    public static string OpenRc(BootstrapSettings settings, string password)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(password);
        var text = new StringBuilder();
        // A swiftrc sourced earlier in the same shell must not steer the clients away from Identity.
        text.Append("unset ").AppendJoin(' ', SwiftRcVariables).Append('\n');
        void Export(string name, string value) => text.Append(CultureInfo.InvariantCulture, $"export {name}={ShellQuote(value)}\n");
        Export("OS_AUTH_URL", AuthUrl(settings));
        Export("OS_USERNAME", settings.AdminUserName);
        Export("OS_PASSWORD", password);
        Export("OS_PROJECT_NAME", settings.AdminProjectName);
        Export("OS_USER_DOMAIN_NAME", "Default");
        Export("OS_PROJECT_DOMAIN_NAME", "Default");
        Export("OS_IDENTITY_API_VERSION", "3");
        Export("OS_REGION_NAME", settings.RegionId);
        Export("OS_INTERFACE", "public");
        return text.ToString();
    }

    /// <summary>The swift client's tempauth variables, which a swiftrc exports and this openrc clears.</summary>
    public static IReadOnlyList<string> SwiftRcVariables { get; } = ["ST_AUTH", "ST_USER", "ST_KEY", "ST_AUTH_VERSION"];

    public static string CloudsYaml(BootstrapSettings settings, string password)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(password);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"""
            clouds:
              {CloudName}:
                auth:
                  auth_url: {YamlQuote(AuthUrl(settings))}
                  username: {YamlQuote(settings.AdminUserName)}
                  password: {YamlQuote(password)}
                  project_name: {YamlQuote(settings.AdminProjectName)}
                  user_domain_name: Default
                  project_domain_name: Default
                region_name: {YamlQuote(settings.RegionId)}
                interface: public
                identity_api_version: 3

            """);
    }

    /// <summary>Writes both files into <paramref name="home"/>, replacing older ones.</summary>
    public static async Task WriteAsync(string home, BootstrapSettings settings, string password, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(home);
        // Created 0600 before a byte of the password is in them, then renamed over the old ones.
        await AtomicFile.WriteAllTextAsync(Path.Combine(home, OpenRcFileName), OpenRc(settings, password), AtomicFile.OwnerOnly, cancellationToken);
        await AtomicFile.WriteAllTextAsync(Path.Combine(home, CloudsFileName), CloudsYaml(settings, password), AtomicFile.OwnerOnly, cancellationToken);
    }

    /// <summary>The variables an openrc this class wrote into <paramref name="home"/> exports, or null when there is none.</summary>
    public static IReadOnlyDictionary<string, string>? ReadOpenRc(string home)
    {
        var path = Path.Combine(home, OpenRcFileName);
        if (!File.Exists(path))
        {
            return null;
        }

        const string Export = "export ";
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (line.StartsWith(Export, StringComparison.Ordinal) && equals > Export.Length)
            {
                variables[line[Export.Length..equals]] = ShellUnquote(line[(equals + 1)..]);
            }
        }

        return variables;
    }

    /// <summary>The OS_PASSWORD of an openrc this class wrote into <paramref name="home"/>, or null when there is none.</summary>
    public static string? ReadPassword(string home) =>
        ReadOpenRc(home)?.GetValueOrDefault("OS_PASSWORD");

    internal static string AuthUrl(BootstrapSettings settings) =>
        settings.PublicBaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/identity";

    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    // The inverse of ShellQuote: '…' runs joined by \' for each quote.
    private static string ShellUnquote(string quoted) =>
        quoted.Length >= 2 && quoted[0] == '\'' && quoted[^1] == '\''
            ? quoted[1..^1].Replace("'\\''", "'", StringComparison.Ordinal)
            : quoted;

    private static string YamlQuote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}

using Nimbus.Platform.Errors;
using Nimbus.Platform.Storage;

namespace Nimbus.Client;

/// <summary>Where a running nimbusd was found, and how, so messages can say which setting to change.</summary>
public sealed record DaemonLocation(Uri Url, string Source);

/// <summary>
/// Finds the daemon to talk to: an explicit URL, else <c>$NIMBUS_URL</c>, else the
/// <c>nimbus.env</c> that a running nimbusd writes into its state directory.
/// </summary>
public static class DaemonLocator
{
    public static DaemonLocation Locate(string? explicitUrl, IReadOnlyDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (!string.IsNullOrWhiteSpace(explicitUrl))
        {
            return new DaemonLocation(ParseUrl(explicitUrl, "--url"), "--url");
        }

        if (environment.GetValueOrDefault(RuntimeEnvFile.UrlVariable) is { Length: > 0 } fromVariable)
        {
            return new DaemonLocation(ParseUrl(fromVariable, RuntimeEnvFile.UrlVariable), RuntimeEnvFile.UrlVariable);
        }

        var homeVariable = environment.GetValueOrDefault(StateDirectory.EnvironmentVariable);
        var home = StateDirectory.Resolve(null, homeVariable);
        var envFile = RuntimeEnvFile.PathIn(home);
        if (!File.Exists(envFile))
        {
            // Say what was looked at and why: a variable set in the shell but not exported never reaches nimbus.
            var homeFrom = string.IsNullOrWhiteSpace(homeVariable) ? $"NIMBUS_HOME is not set, so {StateDirectory.DefaultPath} in {Environment.CurrentDirectory}" : "from NIMBUS_HOME";
            throw new ServiceUnavailableException(
                "client.no_daemon",
                $"no nimbusd is running for state directory {home} ({homeFrom}): tried {envFile}, which does not exist (nimbusd writes it once it serves), and NIMBUS_URL is not set in nimbus's environment. Start one with ./run.sh, or point at one with --url, an exported NIMBUS_URL, or NIMBUS_HOME set to its state directory.");
        }

        var url = RuntimeEnvFile.ReadUrl(envFile);
        if (string.IsNullOrEmpty(url))
        {
            throw new ServiceUnavailableException(
                "client.bad_env_file",
                $"{envFile} has no NIMBUS_URL line; restart nimbusd to rewrite it, or pass --url.");
        }

        return new DaemonLocation(ParseUrl(url, envFile), envFile);
    }

    /// <summary>The local API socket of the daemon of <c>$NIMBUS_HOME</c> (or ./.nimbus), which must exist.</summary>
    public static string LocateSocket(IReadOnlyDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var home = StateDirectory.Resolve(null, environment.GetValueOrDefault(StateDirectory.EnvironmentVariable));
        var socket = LocalApiSocket.PathIn(home);
        if (!File.Exists(socket))
        {
            throw new ServiceUnavailableException(
                "client.no_daemon",
                $"no nimbusd is running for state directory {home}: its socket {socket} does not exist. Start one with ./run.sh, or set NIMBUS_HOME to the state directory of a running one.");
        }

        return socket;
    }

    private static Uri ParseUrl(string value, string source)
    {
        if (Uri.TryCreate(value.Trim(), UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
        {
            return url;
        }

        throw new InvalidInputException(
            "client.bad_url",
            $"'{value}' (from {source}) is not an http:// or https:// URL; give one such as http://127.0.0.1:8700.");
    }
}

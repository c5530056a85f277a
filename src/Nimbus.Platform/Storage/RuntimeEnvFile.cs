using System.Globalization;
using System.Text;
using Nimbus.Shared;

namespace Nimbus.Platform.Storage;

/// <summary>
/// <c>$NIMBUS_HOME/nimbus.env</c>: how scripts and the CLI find the running daemon. Written only once
/// the daemon serves, removed when it stops; shell syntax, so <c>source</c> works.
/// </summary>
public static class RuntimeEnvFile
{
    public const string FileName = "nimbus.env";
    public const string UrlVariable = "NIMBUS_URL";

    public static string PathIn(string home) => Path.Combine(home, FileName);

    public static Task WriteAsync(string home, Uri url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"{UrlVariable}={url.GetLeftPart(UriPartial.Authority)}\n")
            .Append(CultureInfo.InvariantCulture, $"NIMBUS_HOME={home}\n")
            .Append(CultureInfo.InvariantCulture, $"NIMBUS_PID={Environment.ProcessId}\n")
            .ToString();
        return AtomicFile.WriteAllTextAsync(PathIn(home), text, cancellationToken);
    }

    public static void Remove(string home)
    {
        File.Delete(PathIn(home));
        AtomicFile.SyncDirectory(home);
    }

    /// <summary>The URL recorded in <paramref name="envFile"/>, or null when it has none.</summary>
    public static string? ReadUrl(string envFile) =>
        File.ReadLines(envFile)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2 && parts[0].Trim() == UrlVariable)
            .Select(parts => parts[1].Trim())
            .LastOrDefault();
}

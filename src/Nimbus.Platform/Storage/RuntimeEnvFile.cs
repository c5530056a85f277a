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

    /// <summary>
    /// Writes <c>export</c> lines, so that after <c>source nimbus.env</c> the programs the shell starts
    /// (<c>nimbus</c>, <c>curl</c> in a script) see the variables too, not only the shell itself.
    /// </summary>
    public static Task WriteAsync(string home, Uri url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"export {UrlVariable}={url.GetLeftPart(UriPartial.Authority)}\n")
            .Append(CultureInfo.InvariantCulture, $"export NIMBUS_HOME={ShellQuote(home)}\n")
            .Append(CultureInfo.InvariantCulture, $"export NIMBUS_PID={Environment.ProcessId}\n")
            .ToString();
        return AtomicFile.WriteAllTextAsync(PathIn(home), text, cancellationToken);
    }

    public static void Remove(string home)
    {
        File.Delete(PathIn(home));
        AtomicFile.SyncDirectory(home);
    }

    /// <summary>The URL recorded in <paramref name="envFile"/>, or null when it has none (with or without <c>export</c>).</summary>
    public static string? ReadUrl(string envFile) =>
        File.ReadLines(envFile)
            .Select(line => line.Trim())
            .Select(line => line.StartsWith("export ", StringComparison.Ordinal) ? line["export ".Length..] : line)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2 && parts[0].Trim() == UrlVariable)
            .Select(parts => parts[1].Trim().Trim('\''))
            .LastOrDefault();

    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

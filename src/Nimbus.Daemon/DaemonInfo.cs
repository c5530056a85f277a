using System.Reflection;

namespace Nimbus.Daemon;

/// <summary>Facts about this daemon process that do not change while it runs.</summary>
internal sealed record DaemonInfo(string Version, DaemonRole Role, string Home, DateTimeOffset StartedAt)
{
    public string RoleName => Role.ToString().ToLowerInvariant();

    /// <summary>The product version without the build metadata (<c>0.1.0+commit</c> → <c>0.1.0</c>).</summary>
    public static string ProductVersion()
    {
        var informational = typeof(DaemonInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}

namespace Nimbus.Platform.Logging;

/// <summary>A block of log event ids owned by the <c>[LoggerMessage]</c> methods of one namespace (and its children without a block of their own).</summary>
public sealed record LogEventRange(string Subsystem, string Namespace, int First, int Last)
{
    public bool Contains(int id) => id >= First && id <= Last;
}

/// <summary>
/// The one registry of log event ids: every subsystem logs inside its own block, so an id names one
/// event across all of Nimbus and a log query by id never mixes two. Each service owns a thousand;
/// a subsystem inside it takes a hundred. A test checks every <c>[LoggerMessage]</c> against this
/// table; a new subsystem adds its row here first.
/// </summary>
public static class LogEventIds
{
    public static IReadOnlyList<LogEventRange> Ranges { get; } =
    [
        new("platform (configuration, data, HTTP middleware)", "Nimbus.Platform", 1000, 1099),
        new("nimbusd", "Nimbus.Daemon", 2000, 2099),
        new("nimbusd's virt layer (autostart, KVM probe)", "Nimbus.Daemon.Virt", 2100, 2199),
        new("object storage", "Nimbus.Objects", 3000, 3999),
        new("images", "Nimbus.Images", 4000, 4099),
        new("image data stores and uploads", "Nimbus.Images.Stores", 4100, 4199),
        new("identity (directory, API, bootstrap)", "Nimbus.Identity", 5000, 5099),
        new("identity tokens (keys, revocations)", "Nimbus.Identity.Tokens", 5100, 5199),
        new("compute (reserved)", "Nimbus.Compute", 6000, 6999),
        new("networking (reserved)", "Nimbus.Networking", 7000, 7999),
        new("volumes (reserved)", "Nimbus.Volumes", 8000, 8999),
        new("virtualization library (reserved)", "Nimbus.Virt", 9000, 9999),
    ];

    /// <summary>The block that <paramref name="typeNamespace"/> logs in: the one of its longest registered prefix, or null.</summary>
    public static LogEventRange? RangeOf(string? typeNamespace) =>
        Ranges
            .Where(r => typeNamespace is not null && (typeNamespace == r.Namespace || typeNamespace.StartsWith(r.Namespace + ".", StringComparison.Ordinal)))
            .MaxBy(r => r.Namespace.Length);
}

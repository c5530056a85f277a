namespace Nimbus.Daemon;

/// <summary>What a start of nimbusd was asked for, before any configuration is read.</summary>
/// <param name="Home">The state directory given with --home, or null for $NIMBUS_HOME / ./.nimbus.</param>
/// <param name="ConfigFile">The JSON file given with --config, or null for $NIMBUS_HOME/nimbus.json if it exists.</param>
/// <param name="Settings">Configuration keys set on the command line (<c>Daemon:Port</c> → value).</param>
/// <param name="Environment">The process environment, read for NIMBUS_HOME and NIMBUS__* settings.</param>
public sealed record DaemonLaunch(
    string? Home,
    string? ConfigFile,
    IReadOnlyDictionary<string, string?> Settings,
    IReadOnlyDictionary<string, string?> Environment);

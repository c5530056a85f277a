namespace Nimbus.Virt.Qemu.CommandLine;

/// <summary>
/// What the driver decided for one start, beyond the definition: where the process keeps its
/// sockets and files, which accelerator really runs, and host resources picked at start.
/// </summary>
public sealed record QemuLaunchPlan
{
    public required string Emulator { get; init; }

    /// <summary>"kvm" or "tcg": the domain type asks, the node's probe decides.</summary>
    public required string Accelerator { get; init; }

    public required string MonitorSocket { get; init; }

    public required string PidFile { get; init; }

    /// <summary>Every byte the guest writes to serial port 0 is appended here too (the console log).</summary>
    public string? ConsoleLog { get; init; }

    /// <summary>The VNC display number picked for an autoport graphics device (port − 5900).</summary>
    public int? VncDisplay { get; init; }

    /// <summary>Host tap devices for bridge and network interfaces, by MAC.</summary>
    public IReadOnlyDictionary<string, string> TapByMac { get; init; } = new Dictionary<string, string>();

    /// <summary>Where a channel without a host path gets its socket, by target name.</summary>
    public IReadOnlyDictionary<string, string> ChannelSockets { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Whether the guest's state comes from a save image: QEMU waits (<c>-incoming defer</c>) until the
    /// driver hands it the open file with <c>getfd</c> and <c>migrate-incoming fd:NAME</c>.
    /// </summary>
    public bool Incoming { get; init; }
}

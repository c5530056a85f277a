namespace Nimbus.Virt.Definitions;

/// <summary>Which accelerator runs the guest: <c>kvm</c> (hardware) or <c>qemu</c> (TCG emulation).</summary>
public enum DomainType
{
    Kvm,
    Qemu,
}

/// <summary>What happens when the guest powers off, reboots or crashes (formatdomain "Events configuration").</summary>
public enum LifecycleAction
{
    Destroy,
    Restart,
    Preserve,
    RenameRestart,
    CoredumpDestroy,
    CoredumpRestart,
}

public enum VcpuPlacement
{
    Static,
    Auto,
}

public enum BootDevice
{
    Hd,
    Cdrom,
    Network,
    Fd,
}

public enum CpuMode
{
    HostPassthrough,
    HostModel,
    Custom,
}

public enum ClockOffset
{
    Utc,
    Localtime,
}

/// <summary>A virtual machine as libvirt's domain XML describes it: a documented subset, see docs/virt.md.</summary>
public sealed record DomainDefinition
{
    public DomainType Type { get; init; } = DomainType.Kvm;

    public required string Name { get; init; }

    public required Guid Uuid { get; init; }

    public string? Title { get; init; }

    public string? Description { get; init; }

    /// <summary>Maximum memory of the guest, in KiB as libvirt stores it.</summary>
    public required ulong MemoryKiB { get; init; }

    /// <summary>Memory at boot (the balloon target), in KiB; never above <see cref="MemoryKiB"/>.</summary>
    public required ulong CurrentMemoryKiB { get; init; }

    public required int Vcpus { get; init; }

    /// <summary>vCPUs online at boot when fewer than <see cref="Vcpus"/>; null means all.</summary>
    public int? CurrentVcpus { get; init; }

    public VcpuPlacement VcpuPlacement { get; init; } = VcpuPlacement.Static;

    public required OsDefinition Os { get; init; }

    public bool Acpi { get; init; }

    public bool Apic { get; init; }

    public CpuDefinition? Cpu { get; init; }

    public ClockOffset? Clock { get; init; }

    public LifecycleAction OnPoweroff { get; init; } = LifecycleAction.Destroy;

    public LifecycleAction OnReboot { get; init; } = LifecycleAction.Restart;

    public LifecycleAction OnCrash { get; init; } = LifecycleAction.Destroy;

    /// <summary>The emulator binary; null lets the driver choose.</summary>
    public string? Emulator { get; init; }

    public IReadOnlyList<DiskDevice> Disks { get; init; } = [];

    public IReadOnlyList<InterfaceDevice> Interfaces { get; init; } = [];

    public IReadOnlyList<CharDevice> Serials { get; init; } = [];

    public IReadOnlyList<CharDevice> Consoles { get; init; } = [];

    public IReadOnlyList<ChannelDevice> Channels { get; init; } = [];

    public IReadOnlyList<InputDevice> Inputs { get; init; } = [];

    public IReadOnlyList<GraphicsDevice> Graphics { get; init; } = [];

    public IReadOnlyList<VideoDevice> Videos { get; init; } = [];

    public MemBalloonDevice? MemBalloon { get; init; }

    public IReadOnlyList<RngDevice> Rngs { get; init; } = [];
}

public sealed record OsDefinition
{
    /// <summary>Always <c>hvm</c>: fully virtualized guests.</summary>
    public string Type { get; init; } = "hvm";

    public string Arch { get; init; } = "x86_64";

    /// <summary>QEMU machine type such as <c>pc</c> or <c>q35</c>; null lets the driver choose.</summary>
    public string? Machine { get; init; }

    public IReadOnlyList<BootDevice> Boot { get; init; } = [];

    /// <summary>Direct kernel boot: the host path of the kernel, with optional initrd and command line.</summary>
    public string? Kernel { get; init; }

    public string? Initrd { get; init; }

    public string? Cmdline { get; init; }
}

public sealed record CpuDefinition(CpuMode Mode, string? Model);

public enum DiskType
{
    File,
    Block,
}

public enum DiskDeviceKind
{
    Disk,
    Cdrom,
}

public enum DiskFormat
{
    Raw,
    Qcow2,
    Vmdk,
}

public enum DiskBus
{
    Virtio,
    Sata,
    Ide,
    Scsi,
}

public sealed record DiskDevice
{
    public DiskType Type { get; init; } = DiskType.File;

    public DiskDeviceKind Device { get; init; } = DiskDeviceKind.Disk;

    public DiskFormat Format { get; init; } = DiskFormat.Raw;

    /// <summary>The host file (type file) or block device (type block); a cdrom may have none (empty tray).</summary>
    public string? Source { get; init; }

    public required string TargetDev { get; init; }

    public DiskBus Bus { get; init; } = DiskBus.Virtio;

    public bool ReadOnly { get; init; }

    public string? Serial { get; init; }
}

public enum InterfaceType
{
    User,
    Network,
    Bridge,
}

public enum NicModel
{
    Virtio,
    E1000,
    Rtl8139,
}

public sealed record InterfaceDevice
{
    public InterfaceType Type { get; init; } = InterfaceType.User;

    /// <summary>Lower-case colon-separated MAC; generated in QEMU's 52:54:00 range when not given.</summary>
    public required string Mac { get; init; }

    /// <summary>The network name (type network) or host bridge (type bridge).</summary>
    public string? Source { get; init; }

    public NicModel Model { get; init; } = NicModel.Virtio;
}

public enum CharDeviceType
{
    Pty,
    File,
    Unix,
}

/// <summary>A serial port or console: where its bytes go on the host.</summary>
public sealed record CharDevice
{
    public CharDeviceType Type { get; init; } = CharDeviceType.Pty;

    /// <summary>The host path for type file and unix.</summary>
    public string? Path { get; init; }

    public int Port { get; init; }
}

/// <summary>A virtio-serial channel, such as the one the QEMU guest agent uses.</summary>
public sealed record ChannelDevice
{
    /// <summary>The unix socket on the host; null lets the driver place it.</summary>
    public string? Path { get; init; }

    public required string TargetName { get; init; }
}

public enum InputType
{
    Tablet,
    Mouse,
    Keyboard,
}

public enum InputBus
{
    Usb,
    Ps2,
    Virtio,
}

public sealed record InputDevice(InputType Type, InputBus Bus);

public sealed record GraphicsDevice
{
    /// <summary>Only VNC is offered.</summary>
    public string Type { get; init; } = "vnc";

    /// <summary>The TCP port; -1 with <see cref="AutoPort"/> lets the driver pick one from 5900 up.</summary>
    public int Port { get; init; } = -1;

    public bool AutoPort { get; init; } = true;

    public string Listen { get; init; } = "127.0.0.1";

    public string? Password { get; init; }
}

public enum VideoModel
{
    Virtio,
    Vga,
    Cirrus,
    Qxl,
    None,
}

public sealed record VideoDevice(VideoModel Model);

public sealed record MemBalloonDevice(bool Enabled);

public sealed record RngDevice
{
    /// <summary>The host entropy source; libvirt's default is /dev/urandom.</summary>
    public string Backend { get; init; } = "/dev/urandom";
}

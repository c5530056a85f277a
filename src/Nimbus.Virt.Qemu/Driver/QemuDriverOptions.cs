namespace Nimbus.Virt.Qemu.Driver;

/// <summary>How the QEMU driver runs on this node.</summary>
public sealed record QemuDriverOptions
{
    /// <summary>Where definitions, run files, save images and logs live (e.g. $NIMBUS_HOME/virt/qemu).</summary>
    public required string StateDirectory { get; init; }

    public string Emulator { get; init; } = "/usr/bin/qemu-system-x86_64";

    /// <summary>
    /// Whether <c>&lt;domain type='kvm'&gt;</c> may run. Only a probe boot that succeeded (or the
    /// operator) sets it: /dev/kvm can exist while nested guests hang.
    /// </summary>
    public KvmAvailability Kvm { get; init; } = new();

    /// <summary>How long QEMU may take to set a guest up before the start is abandoned.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(1);

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>How the driver's QMP connections behave (tests record the commands sent through it).</summary>
    internal Qmp.QmpClientOptions Qmp { get; init; } = Nimbus.Virt.Qemu.Qmp.QmpClientOptions.Default;
}

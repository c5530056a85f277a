using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Nimbus.Platform.Configuration;

namespace Nimbus.Daemon.Virt;

public enum KvmMode
{
    /// <summary>Probe: boot the tiny guest under KVM and use KVM only if it comes up.</summary>
    Auto,

    /// <summary>The operator vouches for KVM; no probe.</summary>
    On,

    /// <summary>Never use KVM; type='kvm' domains are refused.</summary>
    Off,
}

/// <summary>The virtualization layer of nimbusd. Section <c>Virt</c>; see docs/configuration.md.</summary>
[OptionsSection("Virt")]
public sealed class VirtOptions
{
    [Description("Whether guests of type kvm may run: auto (a probe boot decides), on, off.")]
    public KvmMode Kvm { get; set; } = KvmMode.Auto;

    [Description("How long the KVM probe guest may take to boot before KVM is judged unusable.")]
    [Range(5, 600, ErrorMessage = "must be from 5 to 600 seconds.")]
    public int KvmProbeTimeoutSeconds { get; set; } = 60;
}

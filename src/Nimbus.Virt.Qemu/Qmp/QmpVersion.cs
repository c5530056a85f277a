namespace Nimbus.Virt.Qemu.Qmp;

/// <summary>The QEMU version from the QMP greeting; <see cref="Package"/> is the distribution's build string.</summary>
internal sealed record QmpVersion(int Major, int Minor, int Micro, string Package)
{
    public override string ToString() => $"{Major}.{Minor}.{Micro}";
}

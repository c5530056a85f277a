namespace Nimbus.TestSupport;

/// <summary>The domain every QEMU test and benchmark boots: the tiny guest (images/build.sh) from a qcow2 overlay, under TCG.</summary>
public static class TinyGuest
{
    /// <summary>128 MiB, one vCPU, ACPI (so it powers off on request), user-mode NIC, serial console on a pty.</summary>
    public static string DomainXml(string name, string disk) => $"""
        <domain type='qemu'>
          <name>{name}</name>
          <memory unit='MiB'>128</memory>
          <vcpu>1</vcpu>
          <os><type>hvm</type><boot dev='hd'/></os>
          <features><acpi/></features>
          <devices>
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2'/>
              <source file='{disk}'/>
              <target dev='vda' bus='virtio'/>
            </disk>
            <interface type='user'><model type='virtio'/></interface>
            <serial type='pty'><target port='0'/></serial>
          </devices>
        </domain>

        """;
}

namespace Nimbus.Virt.Qemu.Driver;

/// <summary>
/// The driver's files, as libvirtd lays out /etc/libvirt/qemu and /run/libvirt/qemu: persistent
/// definitions in config/, what a running guest needs in run/ (found again after a restart), save
/// images in save/, console logs in log/. Run files are named by UUID so socket paths stay short.
/// </summary>
internal sealed class QemuPaths(string root)
{
    public string Root { get; } = root;

    public string ConfigDirectory => Path.Combine(Root, "config");

    public string RunDirectory => Path.Combine(Root, "run");

    public string SaveDirectory => Path.Combine(Root, "save");

    public string LogDirectory => Path.Combine(Root, "log");

    public string Config(string name) => Path.Combine(ConfigDirectory, name + ".xml");

    public string AutostartMarker(string name) => Path.Combine(ConfigDirectory, name + ".autostart");

    public string LiveDefinition(Guid uuid) => Path.Combine(RunDirectory, $"{uuid:N}.xml");

    public string PidFile(Guid uuid) => Path.Combine(RunDirectory, $"{uuid:N}.pid");

    public string Monitor(Guid uuid) => Path.Combine(RunDirectory, $"{uuid:N}.qmp");

    public string ManagedSave(string name) => Path.Combine(SaveDirectory, name + ".save");

    public string ConsoleLog(string name) => Path.Combine(LogDirectory, name + ".console.log");

    public void Create()
    {
        foreach (var directory in new[] { ConfigDirectory, RunDirectory, SaveDirectory, LogDirectory })
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public void RemoveRunFiles(Guid uuid)
    {
        File.Delete(LiveDefinition(uuid));
        File.Delete(PidFile(uuid));
        File.Delete(Monitor(uuid));
    }
}

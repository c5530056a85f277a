namespace Nimbus.Virt.Qemu.Tests.Qmp;

/// <summary>
/// A temporary directory with a short path: a unix socket path must fit in sun_path (108 bytes),
/// which a deep temp path can exceed.
/// </summary>
internal sealed class ShortTempDirectory : IDisposable
{
    public ShortTempDirectory()
    {
        Path = System.IO.Path.Combine("/tmp", "nqmp-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a process that still holds a file here must not fail the test.
        }
    }
}

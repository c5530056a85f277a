using Nimbus.TestSupport;

namespace Nimbus.Virt.Qemu.Tests.Driver;

/// <summary>
/// The tiny guest image (images/build.sh), built once per test run and reused while its inputs are unchanged
/// (./test.sh builds it before any test runs). --no-install: a test never installs packages.
/// </summary>
public sealed class GuestImage
{
    public GuestImage()
    {
        var (exitCode, output, error) = HostProcess.Run(System.IO.Path.Combine(LocalMachine.RepositoryRoot, "images", "build.sh"), "--no-install");
        Assert.True(exitCode == 0, "images/build.sh failed: " + error);
        Path = output.Trim();
        Assert.True(File.Exists(Path), $"images/build.sh printed '{output}' on stdout, which is not the image's path");
    }

    public string Path { get; }

    /// <summary>A copy-on-write overlay on the image: how a cloud boots many guests from one image.</summary>
    public string Overlay(string directory, string name)
    {
        var overlay = System.IO.Path.Combine(directory, name + ".qcow2");
        var (exitCode, _, error) = HostProcess.Run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", Path, overlay);
        Assert.True(exitCode == 0, "qemu-img create failed: " + error);
        return overlay;
    }
}

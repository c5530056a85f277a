using System.Diagnostics;
using Nimbus.TestSupport;

namespace Nimbus.Virt.Qemu.Tests.Driver;

/// <summary>The tiny guest image (images/build.sh), built once per test run and reused while its inputs are unchanged.</summary>
public sealed class GuestImage
{
    public GuestImage()
    {
        var (exitCode, output, error) = Run(System.IO.Path.Combine(LocalMachine.RepositoryRoot, "images", "build.sh"));
        Assert.True(exitCode == 0, "images/build.sh failed: " + error);
        Path = output.Trim();
    }

    public string Path { get; }

    /// <summary>A copy-on-write overlay on the image: how a cloud boots many guests from one image.</summary>
    public string Overlay(string directory, string name)
    {
        var overlay = System.IO.Path.Combine(directory, name + ".qcow2");
        var (exitCode, _, error) = Run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", Path, overlay);
        Assert.True(exitCode == 0, "qemu-img create failed: " + error);
        return overlay;
    }

    private static (int ExitCode, string Output, string Error) Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(10)), $"{program} did not finish in 10 minutes");
        return (process.ExitCode, output.Result, error.Result);
    }
}

using System.Diagnostics;
using Nimbus.TestSupport;

namespace Nimbus.Images.Tests.Formats;

/// <summary>Real images made by qemu-img and genisoimage in a temp directory, as users make them.</summary>
internal sealed class QemuImages : IDisposable
{
    private readonly TempDirectory _root = new();

    public string PathOf(string name) => _root.Combine(name);

    /// <summary>Runs <c>qemu-img create</c> with <paramref name="arguments"/> (file name relative to the temp directory) and returns the file's path.</summary>
    public async Task<string> CreateAsync(string name, params string[] arguments)
    {
        await RunAsync("qemu-img", ["create", "-q", .. arguments]);
        return PathOf(name);
    }

    public async Task<string> IsoAsync(string name)
    {
        var content = PathOf("iso-content.txt");
        await File.WriteAllTextAsync(content, "hello from an ISO\n");
        await RunAsync("genisoimage", ["-quiet", "-V", "NIMBUS", "-o", name, content]);
        return PathOf(name);
    }

    /// <summary>The first bytes the uploader would inspect.</summary>
    public static async Task<byte[]> HeadAsync(string path)
    {
        await using var file = File.OpenRead(path);
        var head = new byte[Math.Min(file.Length, Images.Formats.DiskFormatInspector.HeadLength)];
        await file.ReadExactlyAsync(head);
        return head;
    }

    private async Task RunAsync(string tool, string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { WorkingDirectory = _root.Path, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed: {error}");
        }
    }

    public void Dispose() => _root.Dispose();
}

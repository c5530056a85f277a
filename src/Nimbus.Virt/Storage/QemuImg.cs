using System.Globalization;
using System.Text.Json;
using Nimbus.Virt.Definitions;

namespace Nimbus.Virt.Storage;

/// <summary>
/// qemu-img, the tool that knows disk image formats, driven with argument arrays and read through
/// its JSON output only (<c>qemu-img info --output=json</c>), never its human text.
/// </summary>
internal static class QemuImg
{
    private const string Program = "qemu-img";

    public sealed record ImageInfo(string Format, ulong VirtualSize, ulong ActualSize, IReadOnlyList<string> BackingChain);

    /// <summary>Reads an image; with <paramref name="format"/> null, qemu-img probes the header.</summary>
    public static async Task<ImageInfo> InfoAsync(string path, string? format, CancellationToken cancellationToken)
    {
        List<string> args = ["info", "--output=json", "--backing-chain", "-U"];
        if (format is not null)
        {
            args.AddRange(["-f", format]);
        }

        args.Add(path);
        var json = await RunAsync(args, cancellationToken);
        using var document = JsonDocument.Parse(json);
        var images = document.RootElement.EnumerateArray().ToList();
        var top = images[0];
        return new ImageInfo(
            top.GetProperty("format").GetString()!,
            top.GetProperty("virtual-size").GetUInt64(),
            top.TryGetProperty("actual-size", out var actual) ? actual.GetUInt64() : 0,
            images.Skip(1).Select(i => i.GetProperty("filename").GetString()!).ToList());
    }

    public static Task CreateAsync(string path, VolumeFormat format, ulong capacity, string? backing, VolumeFormat? backingFormat, CancellationToken cancellationToken)
    {
        List<string> args = ["create", "-q", "-f", Name(format)];
        if (backing is not null)
        {
            args.AddRange(["-b", backing, "-F", Name(backingFormat ?? VolumeFormat.Qcow2)]);
        }

        args.Add(path);
        args.Add(capacity.ToString(CultureInfo.InvariantCulture));
        return RunAsync(args, cancellationToken);
    }

    public static Task ConvertAsync(string source, VolumeFormat sourceFormat, string destination, VolumeFormat destinationFormat, CancellationToken cancellationToken) =>
        RunAsync(["convert", "-q", "-f", Name(sourceFormat), "-O", Name(destinationFormat), source, destination], cancellationToken);

    public static Task ResizeAsync(string path, VolumeFormat format, ulong capacity, bool shrink, CancellationToken cancellationToken)
    {
        List<string> args = ["resize", "-q", "-f", Name(format)];
        if (shrink)
        {
            args.Add("--shrink");
        }

        args.AddRange([path, capacity.ToString(CultureInfo.InvariantCulture)]);
        return RunAsync(args, cancellationToken);
    }

    public static string Name(VolumeFormat format) => format.ToString().ToLowerInvariant();

    public static VolumeFormat? Parse(string name) => name switch
    {
        "raw" => VolumeFormat.Raw,
        "qcow2" => VolumeFormat.Qcow2,
        "vmdk" => VolumeFormat.Vmdk,
        _ => null,
    };

    private static Task<string> RunAsync(List<string> args, CancellationToken cancellationToken) =>
        HostCommand.RunCheckedAsync(Program, args, "qemu-utils", cancellationToken);
}

using System.Globalization;
using System.Text;
using Nimbus.Virt.Qemu.Qmp;

namespace Nimbus.Virt.Qemu.Driver;

/// <summary>
/// A saved domain: a header line, the length of the domain XML, the XML, then QEMU's migration
/// stream. Restore needs only the file, as with virsh save/restore.
/// </summary>
internal static class SaveImage
{
    private const string Magic = "NimbusQemuSave1\n";

    /// <summary>
    /// Creates <paramref name="file"/> (0600: it holds the guest's memory) with the header written and
    /// the descriptor's offset just after it, where QEMU, given the descriptor, appends the migration stream.
    /// </summary>
    public static async Task<FileStream> CreateAsync(string file, string xml, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(xml);
        var stream = new FileStream(file, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        try
        {
            var head = Encoding.ASCII.GetBytes(Magic + bytes.Length.ToString(CultureInfo.InvariantCulture) + "\n");
            await stream.WriteAsync(head, cancellationToken);
            await stream.WriteAsync(bytes, cancellationToken);
            await stream.FlushAsync(cancellationToken);

            // The stream keeps its own position; the descriptor QEMU gets shares the kernel's offset.
            UnixFd.Seek(stream.SafeFileHandle, head.Length + bytes.Length);
            return stream;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>The domain XML and the offset of the migration stream; refuses a file that is no save image.</summary>
    public static async Task<(string Xml, long StreamOffset)> ReadHeaderAsync(string file, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read);
            var head = new byte[64];
            var read = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
            var text = Encoding.ASCII.GetString(head, 0, read);
            if (!text.StartsWith(Magic, StringComparison.Ordinal))
            {
                throw new VirtException(VirtErrorCode.OperationFailed, $"operation failed: '{file}' is not a saved domain image");
            }

            var lengthEnd = text.IndexOf('\n', Magic.Length);
            if (lengthEnd < 0 || !int.TryParse(text.AsSpan(Magic.Length, lengthEnd - Magic.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length <= 0)
            {
                throw new VirtException(VirtErrorCode.OperationFailed, $"operation failed: the header of save image '{file}' is damaged");
            }

            var xmlStart = lengthEnd + 1;
            var xml = new byte[length];
            stream.Position = xmlStart;
            await stream.ReadExactlyAsync(xml, cancellationToken);
            return (Encoding.UTF8.GetString(xml), xmlStart + length);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VirtException(VirtErrorCode.OperationFailed, $"operation failed: cannot read save image '{file}': {ex.Message}", ex);
        }
    }
}

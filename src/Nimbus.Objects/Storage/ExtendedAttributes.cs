using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Nimbus.Objects.Storage;

/// <summary>User extended attributes on an open file (fsetxattr(2), fgetxattr(2)).</summary>
internal static partial class ExtendedAttributes
{
    public enum SetResult
    {
        Stored,

        /// <summary>The filesystem has no user xattrs, or none this large (ext4 keeps them in one block).</summary>
        DoesNotFit,
    }

    private const int E2Big = 7;
    private const int ENoSpc = 28;
    private const int ERange = 34;
    private const int ENoData = 61;
    private const int EOpNotSupp = 95;

    public static SetResult Set(SafeFileHandle file, string name, ReadOnlySpan<byte> value)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            if (FSetXAttr((int)file.DangerousGetHandle(), name, value, (nuint)value.Length, 0) == 0)
            {
                return SetResult.Stored;
            }

            var errno = Marshal.GetLastPInvokeError();
            return errno is E2Big or ENoSpc or ERange or EOpNotSupp
                ? SetResult.DoesNotFit
                : throw new IOException($"fsetxattr {name} failed (errno {errno}).");
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    /// <summary>The attribute's value, or null when the file has none (or the filesystem no xattrs).</summary>
    public static byte[]? Get(SafeFileHandle file, string name, int maxLength)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            var buffer = new byte[maxLength];
            var length = FGetXAttr((int)file.DangerousGetHandle(), name, buffer, (nuint)buffer.Length);
            if (length >= 0)
            {
                return buffer.AsSpan(0, (int)length).ToArray();
            }

            var errno = Marshal.GetLastPInvokeError();
            return errno is ENoData or EOpNotSupp
                ? null
                : throw new IOException($"fgetxattr {name} failed (errno {errno}).");
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "fsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FSetXAttr(int fd, string name, ReadOnlySpan<byte> value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "fgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint FGetXAttr(int fd, string name, Span<byte> value, nuint size);
}

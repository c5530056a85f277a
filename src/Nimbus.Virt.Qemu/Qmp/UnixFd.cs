using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Nimbus.Virt.Qemu.Qmp;

/// <summary>
/// What .NET has no managed API for: sending an open file descriptor over a unix socket as
/// SCM_RIGHTS ancillary data (unix(7)), which QMP's <c>getfd</c> takes with its command bytes,
/// and moving a descriptor's shared file offset (QEMU reads and writes a passed file from there).
/// </summary>
internal static unsafe partial class UnixFd
{
    private const int SolSocket = 1;
    private const int ScmRights = 1;
    private const int EAgain = 11;
    private const int EIntr = 4;
    private const int SeekSet = 0;

    /// <summary>
    /// Sends the first bytes of <paramref name="bytes"/> with <paramref name="fd"/> attached; returns how
    /// many bytes went (at least one). The caller writes the rest as usual.
    /// </summary>
    public static int SendWithFd(Socket socket, ReadOnlySpan<byte> bytes, SafeHandle fd)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(fd);
        var socketRef = false;
        var fdRef = false;
        try
        {
            socket.SafeHandle.DangerousAddRef(ref socketRef);
            fd.DangerousAddRef(ref fdRef);

            // cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } followed by the int, aligned
            // to size_t: CMSG_LEN(sizeof(int)) = 20 and CMSG_SPACE(sizeof(int)) = 24 on 64-bit Linux.
            var control = stackalloc byte[24];
            new Span<byte>(control, 24).Clear();
            *(nuint*)control = (nuint)(sizeof(nuint) + (2 * sizeof(int)) + sizeof(int));
            *(int*)(control + sizeof(nuint)) = SolSocket;
            *(int*)(control + sizeof(nuint) + sizeof(int)) = ScmRights;
            *(int*)(control + sizeof(nuint) + (2 * sizeof(int))) = (int)fd.DangerousGetHandle();
            fixed (byte* data = bytes)
            {
                var iov = new IoVec { Base = data, Length = (nuint)bytes.Length };
                var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)(sizeof(nuint) + (3 * sizeof(int)) + 4) };
                while (true)
                {
                    var sent = SendMsg((int)socket.SafeHandle.DangerousGetHandle(), &message, 0);
                    if (sent > 0)
                    {
                        return (int)sent;
                    }

                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == EAgain)
                    {
                        // The socket is non-blocking (the runtime's async I/O); wait until it drains.
                        socket.Poll(TimeSpan.FromSeconds(1), SelectMode.SelectWrite);
                    }
                    else if (errno != EIntr)
                    {
                        throw new SocketException(errno);
                    }
                }
            }
        }
        finally
        {
            if (fdRef)
            {
                fd.DangerousRelease();
            }

            if (socketRef)
            {
                socket.SafeHandle.DangerousRelease();
            }
        }
    }

    /// <summary>Sets the file offset of the open file description behind <paramref name="fd"/>, which a descriptor passed to QEMU shares.</summary>
    public static void Seek(SafeHandle fd, long offset)
    {
        ArgumentNullException.ThrowIfNull(fd);
        var added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            if (LSeek((int)fd.DangerousGetHandle(), offset, SeekSet) < 0)
            {
                throw new IOException($"lseek failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMsg(int socket, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long LSeek(int fd, long offset, int whence);

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }
}

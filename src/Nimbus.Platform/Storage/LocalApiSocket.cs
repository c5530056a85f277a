namespace Nimbus.Platform.Storage;

/// <summary>
/// Where nimbusd serves its local, unauthenticated API (the virt layer's, like libvirtd's socket):
/// a unix socket inside an owner-only directory of the state directory, never a TCP port.
/// </summary>
public static class LocalApiSocket
{
    public static string DirectoryIn(string home) => Path.Combine(home, "run");

    public static string PathIn(string home) => Path.Combine(DirectoryIn(home), "nimbusd.sock");

    /// <summary>Creates the owner-only directory and removes a socket left by a daemon that died.</summary>
    public static string Prepare(string home)
    {
        var directory = DirectoryIn(home);
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var socket = PathIn(home);
        File.Delete(socket);
        return socket;
    }
}

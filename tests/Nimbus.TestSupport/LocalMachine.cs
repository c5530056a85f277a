using System.Net;
using System.Net.Sockets;

namespace Nimbus.TestSupport;

/// <summary>Facts about this checkout and machine that tests and benchmarks share.</summary>
public static class LocalMachine
{
    /// <summary>The checkout this code was built from: the directory holding Nimbus.slnx.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>A loopback port free at the time of asking.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Nimbus.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("cannot find Nimbus.slnx above " + AppContext.BaseDirectory);
    }
}

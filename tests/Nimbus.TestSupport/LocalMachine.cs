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

    /// <summary>
    /// A base port B such that B+1 … B+<paramref name="count"/> are free on loopback at the time of
    /// asking: the all-in-one's storage nodes listen there (Objects:BasePort).
    /// </summary>
    public static int FreePortRange(int count)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var basePort = Random.Shared.Next(20_000, 60_000);
            if (Enumerable.Range(basePort + 1, count).All(IsFree))
            {
                return basePort;
            }
        }

        throw new InvalidOperationException($"found no {count} consecutive free loopback ports");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
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

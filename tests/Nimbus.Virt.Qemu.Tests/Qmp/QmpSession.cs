using Nimbus.Virt.Qemu.Qmp;

namespace Nimbus.Virt.Qemu.Tests.Qmp;

/// <summary>A connected client and the fake server's end of the same connection.</summary>
internal sealed class QmpSession : IAsyncDisposable
{
    private readonly FakeQmpServer _server;

    private QmpSession(FakeQmpServer server, QmpClient client, FakeQmpPeer peer)
    {
        _server = server;
        Client = client;
        Peer = peer;
    }

    public QmpClient Client { get; }

    public FakeQmpPeer Peer { get; }

    public static async Task<QmpSession> OpenAsync(CancellationToken cancellationToken, QmpClientOptions? options = null)
    {
        var server = new FakeQmpServer();
        var connecting = QmpClient.ConnectAsync(server.SocketPath, options ?? QmpClientOptions.Default, cancellationToken);
        var peer = await server.AcceptAndNegotiateAsync(cancellationToken);
        return new QmpSession(server, await connecting, peer);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Peer.DisposeAsync();
        _server.Dispose();
    }
}

using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Nimbus.Virt.Qemu.Tests.Qmp;

/// <summary>
/// A QMP server on a unix socket that a test scripts line by line, replaying exchanges recorded
/// from QEMU 7.2 (qemu-system-x86_64 7.2.22, Debian 1:7.2+dfsg-7+deb12u18+b3).
/// </summary>
internal sealed class FakeQmpServer : IDisposable
{
    /// <summary>The greeting QEMU 7.2 sends, byte for byte (without its CRLF).</summary>
    public const string Greeting =
        """{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}""";

    private readonly ShortTempDirectory _directory = new();
    private readonly Socket _listener;

    public FakeQmpServer()
    {
        SocketPath = _directory.Combine("qmp.sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(4);
    }

    public string SocketPath { get; }

    public async Task<FakeQmpPeer> AcceptAsync(CancellationToken cancellationToken) =>
        new(await _listener.AcceptAsync(cancellationToken));

    /// <summary>Accepts, greets and answers <c>qmp_capabilities</c>, as QEMU does.</summary>
    public async Task<FakeQmpPeer> AcceptAndNegotiateAsync(CancellationToken cancellationToken)
    {
        var peer = await AcceptAsync(cancellationToken);
        await peer.SendLineAsync(Greeting, cancellationToken);
        var request = await peer.ReceiveAsync(cancellationToken);
        Assert.Equal("qmp_capabilities", (string?)request["execute"]);
        await peer.ReplyAsync(request, "{}", cancellationToken);
        return peer;
    }

    public void Dispose()
    {
        _listener.Dispose();
        _directory.Dispose();
    }
}

internal sealed class FakeQmpPeer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;

    public FakeQmpPeer(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
    }

    /// <summary>Reads the client's next request line; fails if the client hangs up instead.</summary>
    public async Task<JsonObject> ReceiveAsync(CancellationToken cancellationToken)
    {
        var line = await _reader.ReadLineAsync(cancellationToken);
        Assert.NotNull(line);
        Assert.EndsWith("}", line, StringComparison.Ordinal);
        return Assert.IsType<JsonObject>(JsonNode.Parse(line));
    }

    /// <summary>True once the client has closed its end (the next read sees end of stream).</summary>
    public async Task<bool> ClientHungUpAsync(CancellationToken cancellationToken) =>
        await _reader.ReadLineAsync(cancellationToken) is null;

    public Task SendLineAsync(string json, CancellationToken cancellationToken) => SendRawAsync(json + "\r\n", cancellationToken);

    /// <summary>Writes exactly <paramref name="text"/>, which need not be a whole line.</summary>
    public async Task SendRawAsync(string text, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await _stream.FlushAsync(cancellationToken);
    }

    public Task ReplyAsync(JsonObject request, string returnJson, CancellationToken cancellationToken) =>
        SendLineAsync($$"""{"return": {{returnJson}}, "id": {{request["id"]!.ToJsonString()}}}""", cancellationToken);

    public Task ReplyErrorAsync(JsonObject request, string errorClass, string description, CancellationToken cancellationToken) =>
        SendLineAsync(
            $$$"""{"id": {{{request["id"]!.ToJsonString()}}}, "error": {"class": "{{{errorClass}}}", "desc": "{{{description}}}"}}""",
            cancellationToken);

    /// <summary>Closes the connection as a dying QEMU process does.</summary>
    public void Close() => _socket.Close();

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _stream.DisposeAsync();
    }
}

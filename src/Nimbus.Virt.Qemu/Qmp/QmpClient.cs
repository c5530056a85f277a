using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Nimbus.Virt.Qemu.Qmp;

/// <summary>
/// A client for the QEMU Machine Protocol over a unix socket (QEMU docs/interop/qmp-spec.rst).
/// Commands from any number of callers may be in flight at once: each carries an <c>"id"</c> and one
/// reader loop hands every reply to the command with that id, and every event to the subscriptions.
/// When the socket closes (QEMU exited) pending commands fail with <see cref="QmpConnectionClosedException"/>,
/// subscriptions complete and <see cref="Disconnected"/> completes.
/// </summary>
internal sealed partial class QmpClient : IAsyncDisposable
{
    private readonly string _socketPath;
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _pipeReader;
    private readonly QmpMessageReader _messages;
    private readonly QmpClientOptions _options;

    // Serializes writes only; never held while waiting for a reply.
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TaskCompletionSource<QmpDisconnect> _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Guards _pending, _subscriptions, _nextId and _closed.
    private readonly Lock _gate = new();
    private readonly Dictionary<long, PendingCommand> _pending = [];
    private QmpEventSubscription[] _subscriptions = [];
    private long _nextId;
    private QmpDisconnect? _closed;

    private Task _readLoop = Task.CompletedTask;
    private int _disposed;

    private QmpClient(string socketPath, Socket socket, NetworkStream stream, PipeReader pipeReader, QmpMessageReader messages, QmpClientOptions options, QmpVersion version, IReadOnlyList<string> capabilities)
    {
        _socketPath = socketPath;
        _socket = socket;
        _stream = stream;
        _pipeReader = pipeReader;
        _messages = messages;
        _options = options;
        Version = version;
        Capabilities = capabilities;
    }

    /// <summary>The QEMU version announced in the greeting.</summary>
    public QmpVersion Version { get; }

    /// <summary>Capabilities the server offered in its greeting (for example <c>oob</c>); none are enabled.</summary>
    public IReadOnlyList<string> Capabilities { get; }

    /// <summary>Completes, never faults, when the connection has ended, telling why.</summary>
    public Task<QmpDisconnect> Disconnected => _disconnected.Task;

    public static Task<QmpClient> ConnectAsync(string socketPath, CancellationToken cancellationToken) =>
        ConnectAsync(socketPath, QmpClientOptions.Default, cancellationToken);

    /// <summary>
    /// Connects, reads the greeting and leaves capabilities negotiation mode with <c>qmp_capabilities</c>
    /// (qmp-spec "Capabilities Negotiation"), after which commands and events flow.
    /// </summary>
    public static async Task<QmpClient> ConnectAsync(string socketPath, QmpClientOptions options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(socketPath);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxMessageBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.EventCapacity, 1);

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new QmpConnectionException(
                socketPath,
                $"Cannot connect to the QMP socket {socketPath}: {e.Message}. Check that QEMU is running with -qmp unix:{socketPath},server=on and that no other client holds the monitor.",
                e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var stream = new NetworkStream(socket, ownsSocket: true);
        var pipeReader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        var messages = new QmpMessageReader(pipeReader, options.MaxMessageBytes);
        QmpClient client;
        try
        {
            var greeting = await messages.ReadAsync(cancellationToken)
                ?? throw new QmpConnectionException(socketPath, $"QMP socket {socketPath} closed before QEMU sent its greeting; another client may already hold this monitor.");
            var (version, capabilities) = ParseGreeting(greeting, socketPath);
            client = new QmpClient(socketPath, socket, stream, pipeReader, messages, options, version, capabilities);
        }
        catch
        {
            await pipeReader.CompleteAsync();
            await stream.DisposeAsync();
            throw;
        }

        client._readLoop = client.ReadLoopAsync();
        try
        {
            await client.ExecuteAsync("qmp_capabilities", null, cancellationToken);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Sends <paramref name="command"/> and returns the reply's <c>"return"</c> value (qmp-spec "Success").
    /// An error reply throws <see cref="QmpException"/>. Cancelling stops waiting, not the command:
    /// QEMU still runs it and its late reply is dropped.
    /// </summary>
    public Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments, CancellationToken cancellationToken) =>
        ExecuteAsync(command, arguments, null, cancellationToken);

    /// <summary>
    /// As <see cref="ExecuteAsync(string, JsonObject?, CancellationToken)"/>, with <paramref name="fd"/> sent
    /// along with the command's bytes as SCM_RIGHTS (qmp-spec: commands such as <c>getfd</c> take
    /// the descriptor that arrives with them). QEMU gets its own copy; the caller keeps and closes its own.
    /// </summary>
    public async Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments, SafeHandle? fd, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        var pending = new PendingCommand(command);
        long id;
        lock (_gate)
        {
            if (_closed is not null)
            {
                throw new QmpConnectionClosedException(_socketPath, command, _closed);
            }

            id = ++_nextId;
            _pending.Add(id, pending);
        }

        try
        {
            await WriteCommandAsync(id, command, arguments, fd, cancellationToken);
            return await pending.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            lock (_gate)
            {
                _pending.Remove(id);
            }
        }
    }

    /// <summary>Subscribes to the events named in <paramref name="names"/>, or to every event when none are named.</summary>
    public QmpEventSubscription SubscribeEvents(params string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var subscription = new QmpEventSubscription(this, names, _options.EventCapacity);
        lock (_gate)
        {
            if (_closed is null)
            {
                _subscriptions = [.. _subscriptions, subscription];
                return subscription;
            }
        }

        subscription.Complete();
        return subscription;
    }

    /// <summary>
    /// Returns the next event named <paramref name="name"/> that arrives after this call. To catch an event
    /// caused by a command, use <see cref="SubscribeEvents"/> before sending the command instead.
    /// </summary>
    public async Task<QmpEvent> WaitForEventAsync(string name, CancellationToken cancellationToken)
    {
        using var subscription = SubscribeEvents(name);
        return await subscription.WaitForEventAsync(name, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Close(new QmpDisconnect(QmpDisconnectReason.Disposed, $"the QMP client for {_socketPath} was disposed", null));
        await _readLoop;
        await _stream.DisposeAsync();
        _shutdown.Dispose();
    }

    internal void Unsubscribe(QmpEventSubscription subscription)
    {
        lock (_gate)
        {
            _subscriptions = Array.FindAll(_subscriptions, s => !ReferenceEquals(s, subscription));
        }
    }

    /// <summary>Why a subscription's reader ended: the connection closed, or the subscription was disposed.</summary>
    internal Exception SubscriptionEnded(string awaitedEvent)
    {
        lock (_gate)
        {
            return _closed is null
                ? new ObjectDisposedException(nameof(QmpEventSubscription), $"Cannot wait for QMP event {awaitedEvent}: the event subscription was disposed.")
                : new QmpConnectionClosedException(_socketPath, null, _closed, awaitedEvent);
        }
    }

    private async Task WriteCommandAsync(long id, string command, JsonObject? arguments, SafeHandle? fd, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            // qmp-spec "Issuing Commands": {"execute": ..., "arguments": {...}, "id": ...}
            writer.WriteStartObject();
            writer.WriteString("execute", command);
            if (arguments is not null)
            {
                writer.WritePropertyName("arguments");
                arguments.WriteTo(writer);
            }

            writer.WriteNumber("id", id);
            writer.WriteEndObject();
        }

        buffer.Write("\r\n"u8);

        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            // Cancelled while queued: nothing is written yet, so the connection stays usable.
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                _options.CommandSent?.Invoke(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan).TrimEnd(), fd is not null);
                var sent = fd is null ? 0 : UnixFd.SendWithFd(_socket, buffer.WrittenSpan, fd);
                await _stream.WriteAsync(buffer.WrittenMemory[sent..], cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Some bytes of the command may be on the wire; anything written next would be garbage to QEMU.
                Close(new QmpDisconnect(
                    QmpDisconnectReason.WriteAborted,
                    $"writing QMP command '{command}' to {_socketPath} was cancelled part-way, so the connection was closed; reconnect to continue",
                    null));
                throw;
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                Close(ServerClosed(e));
                throw ClosedExceptionFor(command);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        QmpDisconnect disconnect;
        try
        {
            while (true)
            {
                var message = await _messages.ReadAsync(_shutdown.Token);
                if (message is null)
                {
                    disconnect = ServerClosed(null);
                    break;
                }

                Dispatch(message);
            }
        }
        catch (QmpProtocolException e)
        {
            disconnect = new QmpDisconnect(QmpDisconnectReason.ProtocolError, $"QEMU sent a message on {_socketPath} that is not valid QMP, so the client hung up: {e.Message}", e);
        }
        catch (Exception e)
        {
            // Also reached after Dispose (socket closed, token cancelled): Close below is then a no-op.
            disconnect = ServerClosed(e);
        }

        await _pipeReader.CompleteAsync();
        Close(disconnect);
    }

    private void Dispatch(JsonObject message)
    {
        if (message.TryGetPropertyValue("event", out var name))
        {
            PublishEvent(message, name);
        }
        else if (message.ContainsKey("return") || message.ContainsKey("error"))
        {
            CompleteCommand(message);
        }

        // Anything else (a second greeting, an unknown message kind) is ignored, as the spec asks of
        // clients for unknown members.
    }

    private void CompleteCommand(JsonObject message)
    {
        // A reply without a usable id answers a request QEMU could not parse; nothing can be waiting for it.
        if (message["id"] is not JsonValue idValue || !idValue.TryGetValue<long>(out var id))
        {
            return;
        }

        PendingCommand? pending;
        lock (_gate)
        {
            if (!_pending.Remove(id, out pending))
            {
                return;
            }
        }

        if (message["error"] is JsonObject error)
        {
            pending.TrySetException(new QmpException(
                pending.Command,
                QmpJson.OptionalString(error, "class") ?? "GenericError",
                QmpJson.OptionalString(error, "desc") ?? "(no description)"));
            return;
        }

        // Detach the value so the caller may put it into another document.
        var result = message["return"];
        message.Remove("return");
        pending.TrySetResult(result);
    }

    private void PublishEvent(JsonObject message, JsonNode? nameNode)
    {
        if (nameNode is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name))
        {
            return;
        }

        var subscriptions = Volatile.Read(ref _subscriptions);
        if (subscriptions.Length == 0)
        {
            return;
        }

        var data = message["data"] as JsonObject;
        message.Remove("data");
        var qmpEvent = new QmpEvent(name, data, ParseTimestamp(message["timestamp"]));
        var first = true;
        foreach (var subscription in subscriptions)
        {
            if (!subscription.Wants(name))
            {
                continue;
            }

            // Each subscriber gets its own copy of the mutable data object.
            subscription.Publish(first ? qmpEvent : qmpEvent with { Data = (JsonObject?)data?.DeepClone() });
            first = false;
        }
    }

    private void Close(QmpDisconnect disconnect)
    {
        PendingCommand[] pending;
        QmpEventSubscription[] subscriptions;
        lock (_gate)
        {
            if (_closed is not null)
            {
                return;
            }

            _closed = disconnect;
            pending = [.. _pending.Values];
            _pending.Clear();
            subscriptions = _subscriptions;
            _subscriptions = [];
        }

        foreach (var command in pending)
        {
            command.TrySetException(new QmpConnectionClosedException(_socketPath, command.Command, disconnect));
        }

        foreach (var subscription in subscriptions)
        {
            subscription.Complete();
        }

        // Hangs up and stops the reader loop when the client, not the server, ends the connection.
        _shutdown.Cancel();
        _socket.Dispose();
        _disconnected.TrySetResult(disconnect);
    }

    private QmpConnectionClosedException ClosedExceptionFor(string command)
    {
        lock (_gate)
        {
            return new QmpConnectionClosedException(_socketPath, command, _closed ?? ServerClosed(null));
        }
    }

    private QmpDisconnect ServerClosed(Exception? cause) => new(
        QmpDisconnectReason.ServerClosed,
        $"the QMP connection to {_socketPath} was closed by QEMU; the QEMU process went away (exited, crashed or was killed)",
        cause);

    private static (QmpVersion Version, IReadOnlyList<string> Capabilities) ParseGreeting(JsonObject greeting, string socketPath)
    {
        // qmp-spec "Server Greeting": {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "..."}, "capabilities": ["oob"]}}
        if (greeting["QMP"] is not JsonObject qmp
            || qmp["version"] is not JsonObject version
            || version["qemu"] is not JsonObject qemu)
        {
            throw new QmpProtocolException($"The server on {socketPath} did not start with a QMP greeting; is it a QEMU -qmp socket?");
        }

        var parsed = new QmpVersion(
            QmpJson.RequiredInt(qemu, "major", "QMP greeting"),
            QmpJson.RequiredInt(qemu, "minor", "QMP greeting"),
            QmpJson.RequiredInt(qemu, "micro", "QMP greeting"),
            QmpJson.OptionalString(version, "package") ?? string.Empty);
        var capabilities = qmp["capabilities"] is JsonArray array
            ? array.Select(c => c?.GetValueKind() == JsonValueKind.String ? c.GetValue<string>() : null).OfType<string>().ToArray()
            : [];
        return (parsed, capabilities);
    }

    private static DateTimeOffset ParseTimestamp(JsonNode? timestamp)
    {
        // qmp-spec "Asynchronous events": "timestamp": {"seconds": ..., "microseconds": ...}
        if (timestamp is not JsonObject value
            || QmpJson.OptionalLong(value, "seconds") is not { } seconds
            || seconds < 0)
        {
            return DateTimeOffset.UnixEpoch;
        }

        var microseconds = QmpJson.OptionalLong(value, "microseconds") ?? 0;
        return DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(microseconds * TimeSpan.TicksPerMicrosecond);
    }

    private sealed class PendingCommand(string command)
        : TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public string Command { get; } = command;
    }
}

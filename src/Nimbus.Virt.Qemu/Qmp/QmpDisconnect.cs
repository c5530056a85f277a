namespace Nimbus.Virt.Qemu.Qmp;

internal enum QmpDisconnectReason
{
    /// <summary>QEMU closed the socket or reset the connection: the process exited or was killed.</summary>
    ServerClosed,

    /// <summary>QEMU sent something that is not QMP; the client hung up.</summary>
    ProtocolError,

    /// <summary>A command write was cancelled part-way, so the stream could no longer be trusted.</summary>
    WriteAborted,

    /// <summary>The client was disposed.</summary>
    Disposed,
}

/// <summary>Why and how a QMP connection ended; the result of <see cref="QmpClient.Disconnected"/>.</summary>
internal sealed record QmpDisconnect(QmpDisconnectReason Reason, string Message, Exception? Cause);

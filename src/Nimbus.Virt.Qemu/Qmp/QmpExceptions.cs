namespace Nimbus.Virt.Qemu.Qmp;

/// <summary>
/// QEMU answered a command with an error response (qmp-spec "Error"):
/// <c>{"error": {"class": "GenericError", "desc": "..."}}</c>.
/// </summary>
internal sealed class QmpException : Exception
{
    public QmpException(string command, string errorClass, string description)
        : base($"QMP command '{command}' failed with {errorClass}: {description}")
    {
        Command = command;
        Class = errorClass;
        Description = description;
    }

    /// <summary>The command that failed, such as <c>cont</c>.</summary>
    public string Command { get; }

    /// <summary>QEMU's error class: <c>GenericError</c>, <c>CommandNotFound</c>, <c>DeviceNotFound</c>, …</summary>
    public string Class { get; }

    /// <summary>QEMU's human-readable explanation.</summary>
    public string Description { get; }
}

/// <summary>The QMP socket could not be opened, or the connection broke.</summary>
internal class QmpConnectionException : IOException
{
    public QmpConnectionException(string socketPath, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        SocketPath = socketPath;
    }

    public string SocketPath { get; }
}

/// <summary>
/// The QMP connection is closed — usually because the QEMU process went away — so the command
/// can never get its reply. <see cref="Reason"/> tells why the connection closed.
/// </summary>
internal sealed class QmpConnectionClosedException : QmpConnectionException
{
    public QmpConnectionClosedException(string socketPath, string? command, QmpDisconnect disconnect, string? awaitedEvent = null)
        : base(socketPath, Describe(command, awaitedEvent, disconnect), disconnect.Cause)
    {
        Command = command;
        Reason = disconnect.Reason;
    }

    /// <summary>The command that was waiting, or null when no command was involved.</summary>
    public string? Command { get; }

    public QmpDisconnectReason Reason { get; }

    private static string Describe(string? command, string? awaitedEvent, QmpDisconnect disconnect) =>
        command is not null ? $"QMP command '{command}' did not complete: {disconnect.Message}."
        : awaitedEvent is not null ? $"QMP event {awaitedEvent} never came: {disconnect.Message}."
        : disconnect.Message + ".";
}

/// <summary>The peer sent something that is not QMP: malformed JSON, an over-long line, a missing greeting.</summary>
internal sealed class QmpProtocolException(string message, Exception? innerException = null)
    : IOException(message, innerException);

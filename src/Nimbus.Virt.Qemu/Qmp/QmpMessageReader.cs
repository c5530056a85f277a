using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Nimbus.Virt.Qemu.Qmp;

/// <summary>
/// Splits the server's byte stream into QMP messages. QEMU writes one JSON object per line ending in CRLF
/// (qmp-spec "Protocol Specification"), as long as the monitor is not created with <c>pretty=on</c>.
/// A line may arrive over several reads and several lines in one read; a line longer than
/// <c>maxMessageBytes</c> is refused so a broken peer cannot make the buffer grow without bound.
/// </summary>
internal sealed class QmpMessageReader(PipeReader reader, int maxMessageBytes)
{
    /// <summary>Returns the next message, or null when the peer closed the stream.</summary>
    public async ValueTask<JsonObject?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var consumed = buffer.Start;
            var examined = buffer.End;
            try
            {
                while (TryReadLine(ref buffer, out var line))
                {
                    consumed = buffer.Start;
                    if (line.Length > maxMessageBytes)
                    {
                        throw TooLong();
                    }

                    // Parse before AdvanceTo: the line's memory belongs to the pipe until then.
                    if (Parse(line) is { } message)
                    {
                        examined = consumed;
                        return message;
                    }
                }

                if (buffer.Length > maxMessageBytes)
                {
                    throw TooLong();
                }

                if (result.IsCompleted)
                {
                    // A partial line at end of stream is a message QEMU never finished writing.
                    return null;
                }
            }
            finally
            {
                reader.AdvanceTo(consumed, examined);
            }
        }
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var newline = buffer.PositionOf((byte)'\n');
        if (newline is null)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, newline.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        return true;
    }

    /// <summary>Null for a blank line (the CR of CRLF is JSON whitespace, so it needs no special case).</summary>
    private static JsonObject? Parse(ReadOnlySequence<byte> line)
    {
        if (IsBlank(line))
        {
            return null;
        }

        var json = new Utf8JsonReader(line);
        try
        {
            return JsonNode.Parse(ref json) as JsonObject
                ?? throw new QmpProtocolException("QMP peer sent a line that is not a JSON object; is the socket a QEMU QMP monitor (-qmp), not an HMP one?");
        }
        catch (JsonException e)
        {
            throw new QmpProtocolException($"QMP peer sent a line that is not valid JSON ({e.Message}); is the socket a QEMU QMP monitor (-qmp)?", e);
        }
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            if (segment.Span.IndexOfAnyExcept(" \t\r"u8) >= 0)
            {
                return false;
            }
        }

        return true;
    }

    private QmpProtocolException TooLong() =>
        new($"QMP peer sent a message longer than {maxMessageBytes} bytes; raise QmpClientOptions.MaxMessageBytes if QEMU really sends that much.");
}

using System.IO.Pipelines;
using System.Text;
using Nimbus.Virt.Qemu.Qmp;

namespace Nimbus.Virt.Qemu.Tests.Qmp;

public sealed class QmpMessageReaderTests
{
    private static CancellationTokenSource Timeout() => new(TimeSpan.FromSeconds(30));

    [Fact]
    public async Task A_line_arriving_in_pieces_is_returned_only_once_its_newline_arrives()
    {
        using var timeout = Timeout();
        var pipe = new Pipe();
        var reader = new QmpMessageReader(pipe.Reader, 1024);

        await WriteAsync(pipe, """{"return": {"sta""");
        var reading = reader.ReadAsync(timeout.Token).AsTask();
        await WriteAsync(pipe, """tus": "running"}, "id": 7}""");
        Assert.False(reading.IsCompleted, "a message was returned before its line was complete");
        await WriteAsync(pipe, "\r\n");

        var message = await reading;
        Assert.Equal("""{"return":{"status":"running"},"id":7}""", message?.ToJsonString());
    }

    [Fact]
    public async Task Several_lines_in_one_read_are_returned_one_by_one_and_blank_lines_are_skipped()
    {
        using var timeout = Timeout();
        var pipe = new Pipe();
        var reader = new QmpMessageReader(pipe.Reader, 1024);

        await WriteAsync(pipe, "{\"a\": 1}\r\n\r\n  \r\n{\"b\": 2}\n{\"c\": 3}\r\n");
        await pipe.Writer.CompleteAsync();

        Assert.Equal("""{"a":1}""", (await reader.ReadAsync(timeout.Token))?.ToJsonString());
        Assert.Equal("""{"b":2}""", (await reader.ReadAsync(timeout.Token))?.ToJsonString());
        Assert.Equal("""{"c":3}""", (await reader.ReadAsync(timeout.Token))?.ToJsonString());
        Assert.Null(await reader.ReadAsync(timeout.Token));
    }

    [Fact]
    public async Task End_of_stream_in_the_middle_of_a_line_reads_as_closed()
    {
        using var timeout = Timeout();
        var pipe = new Pipe();
        var reader = new QmpMessageReader(pipe.Reader, 1024);

        await WriteAsync(pipe, """{"return": {}, "id": 1}""" + "\r\n" + """{"event": "SHUT""");
        await pipe.Writer.CompleteAsync();

        Assert.NotNull(await reader.ReadAsync(timeout.Token));
        Assert.Null(await reader.ReadAsync(timeout.Token));
    }

    [Fact]
    public async Task A_message_longer_than_the_limit_is_refused_even_before_its_newline()
    {
        using var timeout = Timeout();
        var pipe = new Pipe();
        var reader = new QmpMessageReader(pipe.Reader, 64);

        await WriteAsync(pipe, "{\"return\": \"" + new string('x', 100));

        var error = await Assert.ThrowsAsync<QmpProtocolException>(() => reader.ReadAsync(timeout.Token).AsTask());
        Assert.Contains("longer than 64 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_complete_line_longer_than_the_limit_is_refused()
    {
        using var timeout = Timeout();
        var pipe = new Pipe();
        var reader = new QmpMessageReader(pipe.Reader, 64);

        await WriteAsync(pipe, "{\"return\": \"" + new string('x', 100) + "\"}\r\n");

        await Assert.ThrowsAsync<QmpProtocolException>(() => reader.ReadAsync(timeout.Token).AsTask());
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("\"text\"")]
    [InlineData("{\"return\": ")]
    [InlineData("QEMU 7.2.22 monitor - type 'help' for more information")]
    public async Task A_line_that_is_not_a_JSON_object_is_a_protocol_error(string line)
    {
        using var timeout = Timeout();
        var pipe = new Pipe();
        var reader = new QmpMessageReader(pipe.Reader, 1024);

        await WriteAsync(pipe, line + "\r\n");

        var error = await Assert.ThrowsAsync<QmpProtocolException>(() => reader.ReadAsync(timeout.Token).AsTask());
        Assert.Contains("-qmp", error.Message, StringComparison.Ordinal);
    }

    private static async Task WriteAsync(Pipe pipe, string text)
    {
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(text));
    }
}

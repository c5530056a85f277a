using System.Diagnostics;
using Nimbus.Virt.Definitions;

namespace Nimbus.Cli;

/// <summary>Passes bytes through and, for a person at a terminal, shows how far a transfer has got.</summary>
internal sealed class ProgressStream(Stream inner, long? total, string label, CliContext context) : Stream
{
    private readonly Stopwatch _sinceReport = Stopwatch.StartNew();
    private long _done;

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => inner.Length;

    public override long Position
    {
        get => _done;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken));

    public override void Write(byte[] buffer, int offset, int count)
    {
        inner.Write(buffer, offset, count);
        Count(count);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken);
        Count(buffer.Length);
    }

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Ends the progress line once the transfer succeeded.</summary>
    public void Finish()
    {
        if (context.Interactive)
        {
            Report();
            context.Error.WriteLine();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Count(int bytes)
    {
        _done += bytes;
        if (context.Interactive && _sinceReport.ElapsedMilliseconds >= 200)
        {
            Report();
            _sinceReport.Restart();
        }

        return bytes;
    }

    private void Report()
    {
        var percent = total is > 0 ? $" {100.0 * _done / total.Value,5:0.0}%" : string.Empty;
        var of = total is { } all ? $" of {Units.Describe((ulong)all)}" : string.Empty;
        context.Error.Write($"\r{label}:{percent} ({Units.Describe((ulong)_done)}{of})   ");
    }
}

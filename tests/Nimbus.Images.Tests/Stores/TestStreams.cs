using Nimbus.Images.Stores;

namespace Nimbus.Images.Tests.Stores;

/// <summary>A non-seekable source handing out <c>data</c> in small reads, as a network body does; can fail or act after some bytes.</summary>
internal sealed class ChunkedSource(byte[] data, int chunk = 64 * 1024, long? failAfter = null, Action? atFailPoint = null) : ForwardReadStream
{
    private long _position;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        if (failAfter is { } point && _position >= point)
        {
            if (atFailPoint is null)
            {
                throw new IOException("the source broke half-way");
            }

            atFailPoint();
            cancellationToken.ThrowIfCancellationRequested();
        }

        var limit = failAfter is { } p && _position < p ? p - _position : long.MaxValue;
        var count = (int)Math.Min(Math.Min(buffer.Length, chunk), Math.Min(data.Length - _position, limit));
        data.AsMemory((int)_position, count).CopyTo(buffer);
        _position += count;
        return count;
    }
}

internal static class TestData
{
    public static byte[] Random(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            return copy.ToArray();
        }
    }
}

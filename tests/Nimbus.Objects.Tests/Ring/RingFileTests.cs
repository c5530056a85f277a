using System.Buffers.Binary;
using System.Text;
using Nimbus.Objects.Ring;
using Nimbus.TestSupport;

namespace Nimbus.Objects.Tests.Ring;

public sealed class RingFileTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_written_ring_loads_with_the_same_assignments()
    {
        using var directory = new TempDirectory();
        var path = directory.Combine("object.ring");
        var builder = Builder();
        await builder.WriteRingAsync(path, CancellationToken.None);

        var ring = HashRing.Load(path);

        Assert.Equal("NIMBUSRING"u8.ToArray(), (await File.ReadAllBytesAsync(path))[..10]);
        Assert.Equal(builder.ToRingBytes(), ring.ToBytes());
        Assert.Equal(builder.GetAssignment(100), ring.GetPrimaryNodes(100).Select(d => d.Id));
    }

    [Fact]
    public async Task A_file_with_another_magic_is_refused_naming_it()
    {
        var error = await LoadAsync(Encoding.UTF8.GetBytes("{\"format\": 1, \"part_power\": 10}"));

        Assert.Contains("object.ring does not start with \"NIMBUSRING\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(20)]
    [InlineData(200)]
    [InlineData(3000)]
    public async Task A_truncated_file_is_refused(int length)
    {
        var error = await LoadAsync(Builder().ToRingBytes()[..length]);

        Assert.Contains("is truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupt_byte_fails_the_checksum()
    {
        var bytes = Builder().ToRingBytes();
        bytes[^100] ^= 0x01;

        var error = await LoadAsync(bytes);

        Assert.Contains("does not match its SHA-256 checksum", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_format_version_is_refused()
    {
        var bytes = Builder().ToRingBytes();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(10), 2);

        var error = await LoadAsync(bytes);

        Assert.Contains("is ring format version 2, and this Nimbus reads version 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bytes_after_the_checksum_are_refused()
    {
        var error = await LoadAsync([.. Builder().ToRingBytes(), 0]);

        Assert.Contains("1 bytes after its checksum", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_bytes_refuses_the_same_way() =>
        Assert.Contains("the ring data does not match its SHA-256", Assert.Throws<InvalidDataException>(() => HashRing.FromBytes(Corrupt())).Message, StringComparison.Ordinal);

    private static byte[] Corrupt()
    {
        var bytes = Builder().ToRingBytes();
        bytes[^1] ^= 0xFF;
        return bytes;
    }

    private static RingBuilder Builder()
    {
        var builder = RingBuilderTests.Build("1/1/a:100 1/2/b:100 1/3/c:100 1/4/d:100");
        builder.Rebalance(T0);
        return builder;
    }

    private static async Task<InvalidDataException> LoadAsync(byte[] bytes)
    {
        using var directory = new TempDirectory();
        var path = directory.Combine("object.ring");
        await File.WriteAllBytesAsync(path, bytes);
        var error = Assert.Throws<InvalidDataException>(() => HashRing.Load(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        return error;
    }
}

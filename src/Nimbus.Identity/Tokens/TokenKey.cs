using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Nimbus.Identity.Tokens;

/// <summary>One AES-256 key of the ring, with the fingerprint tokens carry to name it.</summary>
internal sealed class TokenKey : IDisposable
{
    public const int KeyBytes = 32;
    public const int TagBytes = 16;

    private static readonly byte[] FingerprintLabel = "nimbus-token-key-fingerprint"u8.ToArray();

    // AesGcm keeps one OpenSSL context per instance and is not safe to share between threads;
    // one instance per thread keeps validation lock-free. Retired keys are left to the finalizers.
    private readonly ThreadLocal<AesGcm> _cipher;

    public TokenKey(int index, ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyBytes)
        {
            throw new ArgumentException($"A token key is {KeyBytes} bytes, not {key.Length}.", nameof(key));
        }

        Index = index;
        var material = key.ToArray();
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(material, FingerprintLabel, hash);
        Fingerprint = BinaryPrimitives.ReadUInt32LittleEndian(hash);
        _cipher = new ThreadLocal<AesGcm>(() => new AesGcm(material, TagBytes));
    }

    /// <summary>The key file's number: 0 is the staged key, the highest the primary.</summary>
    public int Index { get; }

    /// <summary>Four bytes derived from the key (not the key), so validation tries only the key that sealed a token.</summary>
    public uint Fingerprint { get; }

    public AesGcm Cipher => _cipher.Value!;

    public void Dispose() => _cipher.Dispose();
}

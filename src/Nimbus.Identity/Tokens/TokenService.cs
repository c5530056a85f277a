using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Nimbus.Identity.Tokens;

/// <summary>
/// Issues and validates tokens that carry their whole payload, sealed with AES-256-GCM under the
/// ring's primary key, so any node holding the keys validates them without a database read (the
/// part Fernet tokens play in Keystone). A token is url-safe base64 without padding of:
/// format version (1 byte) | key fingerprint (4) | nonce (12) | ciphertext | tag (16); the version
/// and fingerprint are authenticated with the payload. Validation returns null for anything it
/// cannot vouch for — malformed, tampered, sealed by an unknown key, expired, revoked — and never
/// throws on bad input.
/// </summary>
public sealed class TokenService
{
    public const byte FormatVersion = 1;

    /// <summary>Longer tokens are refused unread (Keystone's max_token_size is 255; roles make ours longer).</summary>
    public const int MaxTokenChars = 8192;

    private const int FingerprintBytes = 4;
    private const int NonceBytes = 12;
    private const int HeaderBytes = 1 + FingerprintBytes;
    private const int OverheadBytes = HeaderBytes + NonceBytes + TokenKey.TagBytes;
    private const int MaxTokenBytes = MaxTokenChars / 4 * 3;
    private const int StackBytes = 1024;

    private readonly TokenKeyRing _keys;
    private readonly RevocationList _revocations;
    private readonly TimeProvider _time;
    private readonly TokenMetrics? _metrics;

    public TokenService(TokenKeyRing keys, RevocationList revocations, TimeProvider time, TokenMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(revocations);
        ArgumentNullException.ThrowIfNull(time);
        _keys = keys;
        _revocations = revocations;
        _time = time;
        _metrics = metrics;
    }

    public TokenKeyRing Keys => _keys;

    public RevocationList Revocations => _revocations;

    /// <summary>A new audit id as Keystone makes them: 16 random bytes in url-safe base64 without padding (22 characters).</summary>
    public static string NewAuditId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    /// <summary>Seals <paramref name="payload"/> into a token string with the primary key.</summary>
    [SkipLocalsInit] // Only the bytes written are read; zeroing the buffer would be wasted work.
    public string Issue(TokenPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.ExpiresAt <= payload.IssuedAt)
        {
            throw new ArgumentException("A token must expire after it is issued.", nameof(payload));
        }

        // A longer-lived token could outlive the revocation events that end it, which are pruned after that long.
        if (payload.ExpiresAt - payload.IssuedAt > _revocations.MaxTokenLifetime)
        {
            throw new ArgumentException($"A token lives at most {_revocations.MaxTokenLifetime} (the revocation list's longest token lifetime), not {payload.ExpiresAt - payload.IssuedAt}.", nameof(payload));
        }

        byte[]? rented = null;
        var plain = (Span<byte>)stackalloc byte[StackBytes];
        var length = TokenCodec.Encode(payload, plain);
        if (length < 0)
        {
            rented = ArrayPool<byte>.Shared.Rent(MaxTokenBytes);
            plain = rented;
            length = TokenCodec.Encode(payload, plain);
        }

        try
        {
            // Pad with zeros so the token is a whole number of base64 groups: then every character
            // counts, and no two strings decode to the same token.
            var padding = (3 - ((OverheadBytes + length) % 3)) % 3;
            if (length < 0 || OverheadBytes + length + padding > MaxTokenBytes)
            {
                throw new ArgumentException($"The payload does not fit in a token of {MaxTokenChars} characters; it carries too many or too long roles or names.", nameof(payload));
            }

            plain.Slice(length, padding).Clear();
            length += padding;

            var key = _keys.Keys.Primary;
            var token = new byte[OverheadBytes + length];
            token[0] = FormatVersion;
            BinaryPrimitives.WriteUInt32LittleEndian(token.AsSpan(1, FingerprintBytes), key.Fingerprint);
            var nonce = token.AsSpan(HeaderBytes, NonceBytes);
            RandomNumberGenerator.Fill(nonce);
            key.Cipher.Encrypt(nonce, plain[..length], token.AsSpan(HeaderBytes + NonceBytes, length), token.AsSpan(HeaderBytes + NonceBytes + length), token.AsSpan(0, HeaderBytes));
            _metrics?.Issued(payload.Methods);
            return Base64Url.EncodeToString(token);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>The payload of a token that is well formed, sealed by a key of the ring, unexpired and not revoked; null otherwise.</summary>
    public TokenPayload? Validate(string? token)
    {
        var payload = Open(token);
        if (payload is null)
        {
            _metrics?.Malformed();
            return null;
        }

        if (_time.GetUtcNow() >= payload.ExpiresAt)
        {
            _metrics?.Expired();
            return null;
        }

        if (_revocations.IsRevoked(payload))
        {
            _metrics?.Revoked();
            return null;
        }

        _metrics?.Valid();
        return payload;
    }

    /// <summary>Records a revocation event: honoured here at once, on other nodes after their next sync.</summary>
    public Task<RevocationEvent> RevokeAsync(RevocationEvent revocation, CancellationToken cancellationToken) =>
        _revocations.AddAsync(revocation, cancellationToken);

    /// <summary>Decrypts and decodes a token, with no expiry or revocation check; null when it is not one of ours.</summary>
    [SkipLocalsInit] // Only the bytes decoded and decrypted are read.
    internal TokenPayload? Open(string? token)
    {
        // Whole base64 groups only (see Issue), within bounds, before touching a byte.
        if (token is null || token.Length % 4 != 0 || token.Length < 4 * ((OverheadBytes + 2) / 3) || token.Length > MaxTokenChars)
        {
            return null;
        }

        var size = token.Length / 4 * 3;
        byte[]? rented = null;
        var buffer = size * 2 <= StackBytes * 2 ? stackalloc byte[StackBytes * 2] : (rented = ArrayPool<byte>.Shared.Rent(size * 2));
        try
        {
            var raw = buffer[..size];
            // The status form: the Try form throws on characters outside the alphabet.
            if (Base64Url.DecodeFromChars(token, raw, out _, out var written) != OperationStatus.Done || written != size || raw[0] != FormatVersion)
            {
                return null;
            }

            var fingerprint = BinaryPrimitives.ReadUInt32LittleEndian(raw.Slice(1, FingerprintBytes));
            var nonce = raw.Slice(HeaderBytes, NonceBytes);
            var cipherLength = size - OverheadBytes;
            var ciphertext = raw.Slice(HeaderBytes + NonceBytes, cipherLength);
            var tag = raw.Slice(HeaderBytes + NonceBytes + cipherLength, TokenKey.TagBytes);
            var plain = buffer.Slice(size, cipherLength);
            foreach (var key in _keys.Keys.All)
            {
                if (key.Fingerprint != fingerprint)
                {
                    continue;
                }

                try
                {
                    key.Cipher.Decrypt(nonce, ciphertext, tag, plain, raw[..HeaderBytes]);
                }
                catch (CryptographicException)
                {
                    // Tampered, or another key shares the fingerprint: try the next one.
                    continue;
                }

                return TokenCodec.Decode(plain, allowedPadding: 2);
            }

            return null;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;

namespace Nimbus.Identity.Tokens;

/// <summary>
/// The compact binary form of a <see cref="TokenPayload"/> that a token encrypts. Layout:
/// payload version, methods, a presence byte for the optional fields, issued-at and expires-at
/// (UTC ticks, little-endian), then strings in a fixed order and the role list. Identifiers are
/// packed: 32 lower-case hex characters travel as 16 bytes, a 22-character audit id as 16 bytes.
/// Decoding never throws: anything that does not parse exactly is rejected.
/// </summary>
internal static class TokenCodec
{
    public const byte PayloadVersion = 1;

    // A string's header is a varint: (byte length << 2) | kind.
    private const int KindUtf8 = 0;
    private const int KindHex = 1;
    private const int KindBase64Url = 2;

    // Bounds that keep a hostile or corrupt payload from asking for absurd allocations.
    private const int MaxStringBytes = 4096;
    private const int MaxRoles = 1024;

    [Flags]
    private enum Present : byte
    {
        None = 0,
        ProjectId = 1,
        ProjectName = 2,
        ProjectDomainId = 4,
        ProjectDomainName = 8,
        DomainId = 16,
        DomainName = 32,
        ParentAuditId = 64,
        ApplicationCredentialId = 128,
    }

    /// <summary>Writes <paramref name="payload"/> into <paramref name="destination"/>; returns the length, or -1 when it does not fit.</summary>
    public static int Encode(TokenPayload payload, Span<byte> destination)
    {
        var writer = new Writer(destination);
        var present = Present.None;
        present |= payload.ProjectId is null ? 0 : Present.ProjectId;
        present |= payload.ProjectName is null ? 0 : Present.ProjectName;
        present |= payload.ProjectDomainId is null ? 0 : Present.ProjectDomainId;
        present |= payload.ProjectDomainName is null ? 0 : Present.ProjectDomainName;
        present |= payload.DomainId is null ? 0 : Present.DomainId;
        present |= payload.DomainName is null ? 0 : Present.DomainName;
        present |= payload.ParentAuditId is null ? 0 : Present.ParentAuditId;
        present |= payload.ApplicationCredentialId is null ? 0 : Present.ApplicationCredentialId;

        writer.Byte(PayloadVersion);
        writer.Byte((byte)payload.Methods);
        writer.Byte((byte)present);
        writer.Int64(payload.IssuedAt.UtcTicks);
        writer.Int64(payload.ExpiresAt.UtcTicks);
        writer.String(payload.UserId);
        writer.String(payload.UserName);
        writer.String(payload.UserDomainId);
        writer.String(payload.UserDomainName);
        writer.String(payload.AuditId);
        writer.OptionalString(payload.ProjectId);
        writer.OptionalString(payload.ProjectName);
        writer.OptionalString(payload.ProjectDomainId);
        writer.OptionalString(payload.ProjectDomainName);
        writer.OptionalString(payload.DomainId);
        writer.OptionalString(payload.DomainName);
        writer.OptionalString(payload.ParentAuditId);
        writer.OptionalString(payload.ApplicationCredentialId);
        writer.Varint((uint)payload.Roles.Count);
        foreach (var role in payload.Roles)
        {
            writer.String(role.Id);
            writer.String(role.Name);
        }

        return writer.Overflow ? -1 : writer.Position;
    }

    /// <summary>Reads a payload written by <see cref="Encode"/>; up to <paramref name="allowedPadding"/> zero bytes may follow it.</summary>
    public static TokenPayload? Decode(ReadOnlySpan<byte> source, int allowedPadding)
    {
        var reader = new Reader(source);
        if (!reader.Byte(out var version) || version != PayloadVersion
            || !reader.Byte(out var methods)
            || !reader.Byte(out var presentByte)
            || !reader.Timestamp(out var issuedAt)
            || !reader.Timestamp(out var expiresAt)
            || !reader.String(out var userId)
            || !reader.String(out var userName)
            || !reader.String(out var userDomainId)
            || !reader.String(out var userDomainName)
            || !reader.String(out var auditId))
        {
            return null;
        }

        var present = (Present)presentByte;
        if (!reader.OptionalString(present, Present.ProjectId, out var projectId)
            || !reader.OptionalString(present, Present.ProjectName, out var projectName)
            || !reader.OptionalString(present, Present.ProjectDomainId, out var projectDomainId)
            || !reader.OptionalString(present, Present.ProjectDomainName, out var projectDomainName)
            || !reader.OptionalString(present, Present.DomainId, out var domainId)
            || !reader.OptionalString(present, Present.DomainName, out var domainName)
            || !reader.OptionalString(present, Present.ParentAuditId, out var parentAuditId)
            || !reader.OptionalString(present, Present.ApplicationCredentialId, out var applicationCredentialId)
            || !reader.Varint(out var roleCount) || roleCount > MaxRoles)
        {
            return null;
        }

        var roles = roleCount == 0 ? [] : new TokenRole[roleCount];
        for (var i = 0; i < roles.Length; i++)
        {
            if (!reader.String(out var roleId) || !reader.String(out var roleName))
            {
                return null;
            }

            roles[i] = new TokenRole(roleId, roleName);
        }

        if (!reader.OnlyZerosRemain(allowedPadding))
        {
            return null;
        }

        return new TokenPayload
        {
            UserId = userId,
            UserName = userName,
            UserDomainId = userDomainId,
            UserDomainName = userDomainName,
            Methods = (TokenMethods)methods,
            ProjectId = projectId,
            ProjectName = projectName,
            ProjectDomainId = projectDomainId,
            ProjectDomainName = projectDomainName,
            DomainId = domainId,
            DomainName = domainName,
            Roles = roles,
            IssuedAt = issuedAt,
            ExpiresAt = expiresAt,
            AuditId = auditId,
            ParentAuditId = parentAuditId,
            ApplicationCredentialId = applicationCredentialId,
        };
    }

    private static bool IsLowerHex(string value)
    {
        if (value.Length < 2 || value.Length % 2 != 0 || value.Length > 2 * MaxStringBytes)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    private ref struct Writer(Span<byte> destination)
    {
        private readonly Span<byte> _destination = destination;

        public int Position { get; private set; }

        public bool Overflow { get; private set; }

        public void Byte(byte value)
        {
            if (Reserve(1) is { IsEmpty: false } span)
            {
                span[0] = value;
            }
        }

        public void Int64(long value)
        {
            if (Reserve(8) is { IsEmpty: false } span)
            {
                BinaryPrimitives.WriteInt64LittleEndian(span, value);
            }
        }

        public void Varint(uint value)
        {
            while (value >= 0x80)
            {
                Byte((byte)(value | 0x80));
                value >>= 7;
            }

            Byte((byte)value);
        }

        public void OptionalString(string? value)
        {
            if (value is not null)
            {
                String(value);
            }
        }

        public void String(string value)
        {
            ArgumentNullException.ThrowIfNull(value);
            if (IsLowerHex(value))
            {
                var length = value.Length / 2;
                Varint((uint)((length << 2) | KindHex));
                if (Reserve(length) is { IsEmpty: false } span)
                {
                    Convert.FromHexString(value, span, out _, out _);
                }

                return;
            }

            if (CanonicalBase64Url(value, out var decodedLength))
            {
                Varint((uint)((decodedLength << 2) | KindBase64Url));
                if (Reserve(decodedLength) is { IsEmpty: false } span)
                {
                    Base64Url.DecodeFromChars(value, span);
                }

                return;
            }

            var bytes = Encoding.UTF8.GetByteCount(value);
            if (bytes > MaxStringBytes)
            {
                throw new ArgumentException($"A token carries strings of at most {MaxStringBytes} bytes; this one has {bytes}.", nameof(value));
            }

            Varint((uint)((bytes << 2) | KindUtf8));
            if (Reserve(bytes) is { IsEmpty: false } utf8)
            {
                Encoding.UTF8.GetBytes(value, utf8);
            }
        }

        // Only strings that decode and re-encode to exactly themselves, so decoding gives back the same text.
        private static bool CanonicalBase64Url(string value, out int decodedLength)
        {
            decodedLength = 0;
            if (value.Length is < 4 or > 64 || value.Length % 4 == 1)
            {
                return false;
            }

            Span<byte> decoded = stackalloc byte[48];
            Span<char> encoded = stackalloc char[64];
            if (Base64Url.DecodeFromChars(value, decoded, out _, out decodedLength) != OperationStatus.Done
                || !Base64Url.TryEncodeToChars(decoded[..decodedLength], encoded, out var written)
                || !encoded[..written].SequenceEqual(value))
            {
                return false;
            }

            return true;
        }

        private Span<byte> Reserve(int length)
        {
            if (Overflow || Position + length > _destination.Length)
            {
                Overflow = true;
                return [];
            }

            var span = _destination.Slice(Position, length);
            Position += length;
            return span;
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> source)
    {
        private ReadOnlySpan<byte> _rest = source;

        public bool Byte(out byte value)
        {
            if (_rest.IsEmpty)
            {
                value = 0;
                return false;
            }

            value = _rest[0];
            _rest = _rest[1..];
            return true;
        }

        public bool Timestamp(out DateTimeOffset value)
        {
            value = default;
            if (_rest.Length < 8)
            {
                return false;
            }

            var ticks = BinaryPrimitives.ReadInt64LittleEndian(_rest);
            _rest = _rest[8..];
            if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
            {
                return false;
            }

            value = new DateTimeOffset(ticks, TimeSpan.Zero);
            return true;
        }

        public bool Varint(out uint value)
        {
            value = 0;
            for (var shift = 0; shift < 35; shift += 7)
            {
                if (!Byte(out var b))
                {
                    return false;
                }

                value |= (uint)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return true;
                }
            }

            return false;
        }

        public bool OptionalString(Present present, Present field, out string? value)
        {
            value = null;
            if ((present & field) == 0)
            {
                return true;
            }

            if (!String(out var read))
            {
                return false;
            }

            value = read;
            return true;
        }

        public bool String(out string value)
        {
            value = string.Empty;
            if (!Varint(out var header))
            {
                return false;
            }

            var length = (int)(header >> 2);
            if (length > MaxStringBytes || length > _rest.Length)
            {
                return false;
            }

            var bytes = _rest[..length];
            _rest = _rest[length..];
            switch ((int)(header & 3))
            {
                case KindUtf8:
                    value = length == 0 ? string.Empty : Encoding.UTF8.GetString(bytes);
                    return true;
                case KindHex when length > 0:
                    value = Convert.ToHexStringLower(bytes);
                    return true;
                case KindBase64Url when length > 0:
                    value = Base64Url.EncodeToString(bytes);
                    return true;
                default:
                    return false;
            }
        }

        public readonly bool OnlyZerosRemain(int allowed) =>
            _rest.Length <= allowed && !_rest.ContainsAnyExcept((byte)0);
    }
}

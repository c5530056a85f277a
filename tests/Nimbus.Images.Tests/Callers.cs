using System.Buffers.Binary;
using Nimbus.Platform.Auth;

namespace Nimbus.Images.Tests;

/// <summary>The people the tests act as: an admin and members of projects A, B and C, and a reader of A.</summary>
internal static class Callers
{
    public const string ProjectA = "project-a";
    public const string ProjectB = "project-b";
    public const string ProjectC = "project-c";

    public static readonly AuthContext Admin = Caller("admin", ProjectA, "admin", "member", "reader");
    public static readonly AuthContext MemberA = Caller("alice", ProjectA, "member", "reader");
    public static readonly AuthContext ReaderA = Caller("rita", ProjectA, "reader");
    public static readonly AuthContext MemberB = Caller("bob", ProjectB, "member", "reader");
    public static readonly AuthContext MemberC = Caller("carol", ProjectC, "member", "reader");

    /// <summary>Tokens for the HTTP tests: the token is the user's name.</summary>
    public static readonly IReadOnlyDictionary<string, AuthContext> ByToken = new Dictionary<string, AuthContext>
    {
        ["admin"] = Admin,
        ["alice"] = MemberA,
        ["rita"] = ReaderA,
        ["bob"] = MemberB,
        ["carol"] = MemberC,
    };

    private static AuthContext Caller(string user, string project, params string[] roles) => new()
    {
        UserId = user + "-id",
        UserName = user,
        UserDomainId = "default",
        ProjectId = project,
        ProjectName = project,
        ProjectDomainId = "default",
        Roles = roles,
        ExpiresAt = DateTimeOffset.MaxValue,
    };
}

/// <summary>Image bytes for tests.</summary>
internal static class TestImages
{
    /// <summary>Bytes with no format header: a raw disk.</summary>
    public static byte[] Raw(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)('a' + (i % 26));
        }

        return bytes;
    }

    /// <summary>A standalone qcow2 version 3 header for a disk of <paramref name="virtualSize"/> bytes, padded to <paramref name="length"/>.</summary>
    public static byte[] Qcow2(long virtualSize, int length = 1024)
    {
        var bytes = new byte[length];
        ((ReadOnlySpan<byte>)[(byte)'Q', (byte)'F', (byte)'I', 0xfb]).CopyTo(bytes);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), 3);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(24), (ulong)virtualSize);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), 16);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(100), 104);
        return bytes;
    }
}

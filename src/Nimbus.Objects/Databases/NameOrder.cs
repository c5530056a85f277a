using System.Buffers;
using System.Text;

namespace Nimbus.Objects.Databases;

/// <summary>
/// The order of names in listings: UTF-8 bytes, as SQLite's BINARY collation compares them. That is
/// code point order, which differs from .NET's ordinal (UTF-16) order above U+D7FF.
/// </summary>
internal static class NameOrder
{
    public static int Compare(string left, string right)
    {
        var length = Math.Min(left.Length, right.Length);
        for (var i = 0; i < length; i++)
        {
            var a = left[i];
            var b = right[i];
            if (a != b)
            {
                return Rank(a) - Rank(b);
            }
        }

        return left.Length - right.Length;
    }

    /// <summary>
    /// The smallest name greater than every name that starts with <paramref name="prefix"/> (its
    /// last code point plus one), or null when no such name exists.
    /// </summary>
    public static string? After(string prefix)
    {
        var end = prefix.Length;
        while (end > 0)
        {
            if (Rune.DecodeLastFromUtf16(prefix.AsSpan(0, end), out var last, out var width) != OperationStatus.Done)
            {
                throw new ArgumentException($"'{prefix}' is not valid UTF-16: names must be valid UTF-8.", nameof(prefix));
            }

            end -= width;
            if (last.Value < 0x10FFFF)
            {
                // U+D800..U+DFFF are not code points; the next one after U+D7FF is U+E000.
                var next = last.Value == 0xD7FF ? new Rune(0xE000) : new Rune(last.Value + 1);
                return string.Concat(prefix.AsSpan(0, end), next.ToString());
            }
        }

        return null;
    }

    /// <summary>True when the name is valid UTF-16, so that it has a UTF-8 form to store and compare.</summary>
    public static bool IsValid(string name)
    {
        var rest = name.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out _, out var width) != OperationStatus.Done)
            {
                return false;
            }

            rest = rest[width..];
        }

        return true;
    }

    // Surrogates (U+D800..U+DFFF) encode code points above U+FFFF, so they rank after U+E000..U+FFFF.
    private static int Rank(char c) => c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000;
}

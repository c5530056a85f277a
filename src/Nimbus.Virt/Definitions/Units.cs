using System.Globalization;

namespace Nimbus.Virt.Definitions;

/// <summary>
/// libvirt's scaled integers (virScaleInteger; formatdomain "Memory Allocation"): "b"/"bytes";
/// k, M, G, T, P, E alone or with "iB" are powers of 1024; with "B" they are powers of 1000. The
/// letters are case-insensitive, as in libvirt.
/// </summary>
public static class Units
{
    public const string Accepted = "b, bytes, KB, k/KiB, MB, M/MiB, GB, G/GiB, TB, T/TiB, PB, P/PiB, EB, E/EiB";

    /// <summary>Bytes in <paramref name="value"/> <paramref name="unit"/>; null when the unit is unknown or it overflows.</summary>
    public static ulong? ToBytes(ulong value, string unit)
    {
        var factor = Factor(unit);
        if (factor is null || value > ulong.MaxValue / factor.Value)
        {
            return null;
        }

        return value * factor.Value;
    }

    private static ulong? Factor(string unit)
    {
        if (unit.Length == 0 || unit.Equals("b", StringComparison.OrdinalIgnoreCase) || unit.Equals("byte", StringComparison.OrdinalIgnoreCase) || unit.Equals("bytes", StringComparison.OrdinalIgnoreCase))
        {
            return 1;
        }

        var power = char.ToLowerInvariant(unit[0]) switch
        {
            'k' => 1,
            'm' => 2,
            'g' => 3,
            't' => 4,
            'p' => 5,
            'e' => 6,
            _ => 0,
        };
        var suffix = unit[1..];
        ulong? @base = suffix.Length == 0 || suffix.Equals("iB", StringComparison.OrdinalIgnoreCase) ? 1024
            : suffix.Equals("B", StringComparison.OrdinalIgnoreCase) ? 1000
            : null;
        if (power == 0 || @base is null)
        {
            return null;
        }

        var factor = 1UL;
        for (var i = 0; i < power; i++)
        {
            factor *= @base.Value;
        }

        return factor;
    }

    /// <summary>Parses "10G", "512 MiB", "1024" — sizes as people type them; a bare number is in <paramref name="defaultUnit"/>.</summary>
    public static ulong? ParseSize(string text, string defaultUnit = "b")
    {
        var trimmed = text.Trim();
        var split = 0;
        while (split < trimmed.Length && char.IsAsciiDigit(trimmed[split]))
        {
            split++;
        }

        if (split == 0 || !ulong.TryParse(trimmed[..split], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return null;
        }

        var unit = trimmed[split..].Trim();
        return ToBytes(value, unit.Length == 0 ? defaultUnit : unit);
    }

    /// <summary>"1.5 GiB" — for people, never for documents.</summary>
    public static string Describe(ulong bytes)
    {
        string[] names = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double value = bytes;
        var index = 0;
        while (value >= 1024 && index < names.Length - 1)
        {
            value /= 1024;
            index++;
        }

        return index == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.##} {names[index]}");
    }
}

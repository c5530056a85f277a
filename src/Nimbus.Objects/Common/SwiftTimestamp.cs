using System.Globalization;

namespace Nimbus.Objects.Common;

/// <summary>
/// Swift's X-Timestamp: seconds since the Unix epoch with five decimals (10 µs ticks). The newest
/// timestamp wins everywhere (data over tombstone, row over row), so it is the order of writes.
/// Written as Swift's "normal" form, <c>%016.05f</c>: <c>1700000000.12345</c>.
/// </summary>
public readonly record struct SwiftTimestamp(long Ticks) : IComparable<SwiftTimestamp>
{
    public const long TicksPerSecond = 100_000;

    public static SwiftTimestamp Zero => new(0);

    public static SwiftTimestamp FromDateTimeOffset(DateTimeOffset time) =>
        new((time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / (TimeSpan.TicksPerSecond / TicksPerSecond));

    public static SwiftTimestamp Now(TimeProvider time) => FromDateTimeOffset(time.GetUtcNow());

    public static SwiftTimestamp FromSeconds(long seconds) => new(seconds * TicksPerSecond);

    public long Seconds => Ticks / TicksPerSecond;

    public DateTimeOffset ToDateTimeOffset() =>
        DateTimeOffset.UnixEpoch.AddTicks(Ticks * (TimeSpan.TicksPerSecond / TicksPerSecond));

    /// <summary>Swift's normal form, fixed width so that names sort in time order.</summary>
    public string Normal => string.Create(CultureInfo.InvariantCulture, $"{Ticks / TicksPerSecond:D10}.{Ticks % TicksPerSecond:D5}");

    /// <summary>Parses an X-Timestamp or X-Delete-At value: an integer or decimal number of seconds.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out SwiftTimestamp timestamp)
    {
        timestamp = default;
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
            || seconds < 0 || seconds >= 10_000_000_000m)
        {
            return false;
        }

        timestamp = new SwiftTimestamp((long)decimal.Round(seconds * TicksPerSecond, MidpointRounding.AwayFromZero));
        return true;
    }

    public int CompareTo(SwiftTimestamp other) => Ticks.CompareTo(other.Ticks);

    public static bool operator <(SwiftTimestamp left, SwiftTimestamp right) => left.Ticks < right.Ticks;

    public static bool operator >(SwiftTimestamp left, SwiftTimestamp right) => left.Ticks > right.Ticks;

    public static bool operator <=(SwiftTimestamp left, SwiftTimestamp right) => left.Ticks <= right.Ticks;

    public static bool operator >=(SwiftTimestamp left, SwiftTimestamp right) => left.Ticks >= right.Ticks;

    public override string ToString() => Normal;
}

using Nimbus.Objects.Common;

namespace Nimbus.Objects.Tests.Common;

public sealed class SwiftTimestampTests
{
    [Theory]
    [InlineData("1700000000.12345", "1700000000.12345")]
    [InlineData("1700000000", "1700000000.00000")]
    [InlineData("1700000000.5", "1700000000.50000")]
    [InlineData("12.000001", "0000000012.00000")]
    public void Parses_seconds_and_writes_swift_normal_form(string text, string normal)
    {
        Assert.True(SwiftTimestamp.TryParse(text, out var timestamp));
        Assert.Equal(normal, timestamp.Normal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("1e9")]
    [InlineData("99999999999")]
    public void Refuses_what_is_not_a_timestamp(string text) =>
        Assert.False(SwiftTimestamp.TryParse(text, out _));

    [Fact]
    public void Normal_forms_sort_in_time_order()
    {
        var earlier = SwiftTimestamp.FromSeconds(999_999_999);
        var later = SwiftTimestamp.FromSeconds(1_000_000_000);
        Assert.True(earlier < later);
        Assert.True(string.CompareOrdinal(earlier.Normal, later.Normal) < 0);
    }

    [Fact]
    public void Round_trips_through_date_time_offset()
    {
        var time = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero).AddTicks(123_400);
        var timestamp = SwiftTimestamp.FromDateTimeOffset(time);
        Assert.Equal(time, timestamp.ToDateTimeOffset());
    }
}

using Nimbus.Virt.Definitions;

namespace Nimbus.Virt.Tests;

public sealed class UnitsTests
{
    [Theory]
    [InlineData(1, "b", 1UL)]
    [InlineData(3, "bytes", 3UL)]
    [InlineData(1, "KB", 1000UL)]
    [InlineData(1, "k", 1024UL)]
    [InlineData(1, "KiB", 1024UL)]
    [InlineData(1, "MB", 1_000_000UL)]
    [InlineData(2, "M", 2UL << 20)]
    [InlineData(1, "GiB", 1UL << 30)]
    [InlineData(1, "g", 1UL << 30)]
    [InlineData(1, "TB", 1_000_000_000_000UL)]
    [InlineData(1, "EiB", 1UL << 60)]
    public void Scaled_integers_follow_libvirt(ulong value, string unit, ulong bytes)
    {
        Assert.Equal(bytes, Units.ToBytes(value, unit));
    }

    [Theory]
    [InlineData("X")]
    [InlineData("GiBs")]
    [InlineData("kiloparsec")]
    public void Unknown_units_are_refused(string unit)
    {
        Assert.Null(Units.ToBytes(1, unit));
    }

    [Fact]
    public void Overflow_is_refused()
    {
        Assert.Null(Units.ToBytes(16, "EiB"));
    }

    [Theory]
    [InlineData("10G", 10UL << 30)]
    [InlineData("512 MiB", 512UL << 20)]
    [InlineData("4096", 4096UL)]
    public void Sizes_parse_as_people_type_them(string text, ulong bytes)
    {
        Assert.Equal(bytes, Units.ParseSize(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("G10")]
    [InlineData("-5G")]
    public void Sizes_without_a_leading_number_are_refused(string text)
    {
        Assert.Null(Units.ParseSize(text));
    }
}

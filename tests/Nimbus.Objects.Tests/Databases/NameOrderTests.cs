using System.Text;
using Nimbus.Objects.Databases;

namespace Nimbus.Objects.Tests.Databases;

public sealed class NameOrderTests
{
    [Theory]
    [InlineData("a", "b")]
    [InlineData("a", "ab")]
    [InlineData("z", "é")]
    [InlineData("\uFFFF", "\U00010000")]
    [InlineData("\uE000", "\U0001F600")]
    [InlineData("\U0001F600", "\U0010FFFF")]
    public void Compares_as_utf8_bytes(string smaller, string larger)
    {
        Assert.True(NameOrder.Compare(smaller, larger) < 0);
        Assert.True(NameOrder.Compare(larger, smaller) > 0);
        Assert.True(Encoding.UTF8.GetBytes(smaller).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(larger)) < 0);
    }

    [Theory]
    [InlineData("a/", "a0")]
    [InlineData("ab", "ac")]
    [InlineData("\uD7FF", "\uE000")]
    [InlineData("\uFFFF", "\U00010000")]
    [InlineData("x\U0001F600", "x\U0001F601")]
    [InlineData("a\U0010FFFF", "b")]
    public void After_is_the_first_name_past_every_name_with_the_prefix(string prefix, string after) =>
        Assert.Equal(after, NameOrder.After(prefix));

    [Fact]
    public void Nothing_comes_after_the_highest_code_point() =>
        Assert.Null(NameOrder.After("\U0010FFFF\U0010FFFF"));

    [Fact]
    public void Names_must_be_valid_utf16()
    {
        Assert.True(NameOrder.IsValid("plain"));
        Assert.True(NameOrder.IsValid("\U0001F600"));
        Assert.False(NameOrder.IsValid("\uD83D"));
        Assert.False(NameOrder.IsValid("a\uDE00b"));
    }
}

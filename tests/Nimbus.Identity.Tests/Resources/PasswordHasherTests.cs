using Nimbus.Identity.Authentication;

namespace Nimbus.Identity.Tests.Resources;

public sealed class PasswordHasherTests
{
    [Fact]
    public void Hash_names_its_scheme_and_iterations_and_verifies_only_the_same_password()
    {
        var hasher = new PasswordHasher(20);
        var hash = hasher.Hash("correct horse");
        Assert.StartsWith("pbkdf2-sha512$20$", hash, StringComparison.Ordinal);
        Assert.DoesNotContain("correct horse", hash, StringComparison.Ordinal);
        Assert.True(PasswordHasher.Verify("correct horse", hash));
        Assert.False(PasswordHasher.Verify("correct horse!", hash));
    }

    [Fact]
    public void Same_password_hashes_differently_each_time()
    {
        var hasher = new PasswordHasher(5);
        Assert.NotEqual(hasher.Hash("pw"), hasher.Hash("pw"));
    }

    [Fact]
    public void Hash_made_with_other_iterations_still_verifies()
    {
        var old = new PasswordHasher(3).Hash("pw");
        Assert.True(PasswordHasher.Verify("pw", old));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("pbkdf2-sha512$x$AAAA$AAAA")]
    [InlineData("md5$1$AAAA$AAAA")]
    [InlineData("pbkdf2-sha512$10$not base64$AAAA")]
    public void Malformed_hash_never_verifies(string? stored) => Assert.False(PasswordHasher.Verify("pw", stored));
}

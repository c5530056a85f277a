using Nimbus.Platform.Http;

namespace Nimbus.Platform.Tests;

public sealed class RawPathTests
{
    [Theory]
    [InlineData("/identity/v3/projects")]
    [InlineData("/image/v2/images/3f0e1c2a-8d4b-4b1e-9f0a-0c1d2e3f4a5b/file")]
    [InlineData("/identity/v3/")]
    [InlineData("/image/v2//images")]
    [InlineData("/virt/v1/domains/a.b..c")]
    [InlineData("/virt/v1/domains/...")]
    [InlineData("/virt/v1/domains/%2e%2e%2e")]
    [InlineData("/v1/caf%C3%A9")]
    [InlineData("*")]
    public void Plain_paths_pass(string rawPath) => Assert.Null(RawPath.Problem(rawPath));

    [Theory]
    [InlineData("/identity/v3/projects/x/../y", "'..'")]
    [InlineData("/identity/v3/projects/x/..", "'..'")]
    [InlineData("/image/./v2", "'.'")]
    [InlineData("/image/v2/%2e%2E/x", "'..'")]
    [InlineData("/image/v2/.%2e/x", "'..'")]
    [InlineData("/image/v2/%2E", "'.'")]
    [InlineData("/image/v2/images/a%2Fb", "encoded slash")]
    [InlineData("/image/v2/images/a%2fb", "encoded slash")]
    [InlineData("http://host/image/v2", "must be a path")]
    public void Paths_routing_would_rewrite_are_refused_naming_why(string rawPath, string reason) =>
        Assert.Contains(reason, RawPath.Problem(rawPath), StringComparison.Ordinal);
}

using Nimbus.Objects.Tests.Proxy;
using Nimbus.TestSupport;

namespace Nimbus.Objects.Tests.Middleware;

/// <summary>The swiftrc the all-in-one writes: owner-only, and standing alone whatever was sourced before.</summary>
public sealed class SwiftRcTests
{
    [Fact]
    public async Task Swiftrc_sourced_after_an_openrc_leaves_only_the_swift_variables()
    {
        await using var cluster = await TestCluster.StartAsync();
        var path = Path.Combine(cluster.Root, "swiftrc");
        await cluster.Cluster.WriteSwiftRcAsync(path, new Uri("http://127.0.0.1:8700/"), CancellationToken.None);

        // What an openrc leaves in the shell; the swift client would prefer it and ask Identity (405 from /auth/v1.0).
        var result = await HostProcess.RunAsync(
            "bash",
            "-c",
            "export OS_AUTH_URL=http://127.0.0.1:8700/identity OS_USERNAME=admin OS_PASSWORD=p OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3 OS_REGION_NAME=RegionOne OS_INTERFACE=public; source \"$1\"; env",
            "bash",
            path);

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("\nOS_", "\n" + result.Output, StringComparison.Ordinal);
        Assert.Contains("\nST_AUTH=http://127.0.0.1:8700/auth/v1.0\n", result.Output, StringComparison.Ordinal);
        Assert.Contains("\nST_AUTH_VERSION=1.0\n", result.Output, StringComparison.Ordinal);
        Assert.Contains("\nST_USER=admin:admin\n", result.Output, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }
}

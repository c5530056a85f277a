using Nimbus.Identity.Bootstrap;
using Nimbus.TestSupport;

namespace Nimbus.Identity.Tests.Bootstrap;

public sealed class ClientConfigFilesTests
{
    private static readonly BootstrapSettings Settings = new() { PublicBaseUrl = new Uri("http://127.0.0.1:8700/") };

    [Fact]
    public void Openrc_exports_what_the_openstack_client_needs()
    {
        var openrc = ClientConfigFiles.OpenRc(Settings, "p@ss'word");
        string[] expected =
        [
            "unset ST_AUTH ST_USER ST_KEY ST_AUTH_VERSION",
            "export OS_AUTH_URL='http://127.0.0.1:8700/identity'",
            "export OS_USERNAME='admin'",
            "export OS_PASSWORD='p@ss'\\''word'",
            "export OS_PROJECT_NAME='admin'",
            "export OS_USER_DOMAIN_NAME='Default'",
            "export OS_PROJECT_DOMAIN_NAME='Default'",
            "export OS_IDENTITY_API_VERSION='3'",
            "export OS_REGION_NAME='RegionOne'",
            "export OS_INTERFACE='public'",
        ];
        Assert.Equal(expected, openrc.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task Openrc_sourced_after_a_swiftrc_leaves_no_swift_variable_behind()
    {
        using var home = new TempDirectory();
        await ClientConfigFiles.WriteAsync(home.Path, Settings, "secret", CancellationToken.None);

        var result = await HostProcess.RunAsync(
            "bash", "-c", "export ST_AUTH=http://x/auth/v1.0 ST_USER=a:b ST_KEY=k ST_AUTH_VERSION=1.0; source \"$1\"; env", "bash", home.Combine("openrc"));

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("\nST_", "\n" + result.Output, StringComparison.Ordinal);
        Assert.Contains("\nOS_PASSWORD=secret\n", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Clouds_yaml_names_the_nimbus_cloud()
    {
        var yaml = ClientConfigFiles.CloudsYaml(Settings, "secret");
        Assert.StartsWith("clouds:\n  nimbus:\n    auth:\n      auth_url: 'http://127.0.0.1:8700/identity'\n", yaml, StringComparison.Ordinal);
        Assert.Contains("      password: 'secret'\n", yaml, StringComparison.Ordinal);
        Assert.Contains("    region_name: 'RegionOne'\n    interface: public\n    identity_api_version: 3\n", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Files_are_written_owner_only_and_replaced_whole()
    {
        using var home = new TempDirectory();
        await File.WriteAllTextAsync(home.Combine("openrc"), "old");
        await ClientConfigFiles.WriteAsync(home.Path, Settings, "first", CancellationToken.None);
        await ClientConfigFiles.WriteAsync(home.Path, Settings, "second", CancellationToken.None);

        foreach (var name in new[] { "openrc", "clouds.yaml" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(home.Combine(name)));
            Assert.Contains("second", await File.ReadAllTextAsync(home.Combine(name)), StringComparison.Ordinal);
        }

        Assert.Equal(2, Directory.GetFiles(home.Path).Length);
    }
}

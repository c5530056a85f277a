namespace Nimbus.Daemon.Tests;

public sealed class CommandLineTests
{
    private static DaemonLaunch Parse(params string[] args)
    {
        DaemonLaunch? launched = null;
        var command = DaemonCommandLine.Create((launch, _) =>
        {
            launched = launch;
            return Task.FromResult(0);
        });
        var parse = command.Parse(args);
        Assert.Empty(parse.Errors);
        Assert.Equal(0, parse.Invoke());
        return launched!;
    }

    [Fact]
    public void Named_flags_become_daemon_settings()
    {
        var launch = Parse("--home", "/srv/n", "--port", "9000", "--listen", "0.0.0.0", "--role", "all");

        Assert.Equal("/srv/n", launch.Home);
        Assert.Equal("9000", launch.Settings["Daemon:Port"]);
        Assert.Equal("0.0.0.0", launch.Settings["Daemon:Listen"]);
        Assert.Equal("all", launch.Settings["Daemon:Role"]);
    }

    [Fact]
    public void Set_accepts_any_key_in_colon_or_double_underscore_form()
    {
        var launch = Parse("--set", "Daemon:ShutdownTimeoutSeconds=5", "--set", "Logging__LogLevel__Default=Debug");

        Assert.Equal("5", launch.Settings["Daemon:ShutdownTimeoutSeconds"]);
        Assert.Equal("Debug", launch.Settings["Logging:LogLevel:Default"]);
    }

    [Fact]
    public void Unknown_flag_is_a_parse_error()
    {
        var parse = DaemonCommandLine.Create((_, _) => Task.FromResult(0)).Parse(["--prot", "9000"]);

        Assert.NotEmpty(parse.Errors);
    }
}

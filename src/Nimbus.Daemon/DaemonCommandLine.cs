using System.CommandLine;
using Nimbus.Platform.Configuration;
using Nimbus.Platform.Errors;

namespace Nimbus.Daemon;

/// <summary>nimbusd's command line: a few named settings, any other as <c>--set Section:Key=value</c>.</summary>
internal static class DaemonCommandLine
{
    public static RootCommand Create(Func<DaemonLaunch, CancellationToken, Task<int>> run)
    {
        var home = new Option<string?>("--home") { Description = "State directory (default: $NIMBUS_HOME, else ./.nimbus).", HelpName = "DIR" };
        var config = new Option<string?>("--config") { Description = "JSON configuration file (default: $NIMBUS_HOME/nimbus.json when present).", HelpName = "FILE" };
        var role = new Option<string?>("--role") { Description = "Services to run: all (default), or storage (one object storage node).", HelpName = "ROLE" };
        var listen = new Option<string?>("--listen") { Description = "IP address to listen on (default 127.0.0.1).", HelpName = "ADDRESS" };
        var port = new Option<string?>("--port") { Description = $"TCP port to listen on (default {DaemonOptions.DefaultPort}; 0 picks a free one).", HelpName = "PORT" };
        var set = new Option<string[]>("--set")
        {
            Description = "Set any configuration key, as Section:Key=value (repeatable).",
            HelpName = "KEY=VALUE",
            AllowMultipleArgumentsPerToken = false,
        };

        var root = new RootCommand($"""
            nimbusd — the Nimbus node daemon: serves the cloud's APIs and runs its services.

            Examples:
              nimbusd                                  all-in-one on 127.0.0.1:{DaemonOptions.DefaultPort}, state in ./.nimbus
              nimbusd --home /var/lib/nimbus --port 9000
              nimbusd --set Daemon:ShutdownTimeoutSeconds=60
              NIMBUS__Daemon__Listen=0.0.0.0 nimbusd   settings also come from NIMBUS__* variables and nimbus.json
            """);
        root.Options.Add(home);
        root.Options.Add(config);
        root.Options.Add(role);
        root.Options.Add(listen);
        root.Options.Add(port);
        root.Options.Add(set);

        root.SetAction((parse, cancellationToken) =>
        {
            var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var pair in parse.GetValue(set) ?? [])
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    throw new InvalidInputException("cli.bad_setting", $"--set '{pair}' is not KEY=VALUE; write it as --set Daemon:Port=9000.");
                }

                settings[pair[..equals].Replace("__", ":", StringComparison.Ordinal)] = pair[(equals + 1)..];
            }

            AddIfGiven(settings, "Daemon:Role", parse.GetValue(role));
            AddIfGiven(settings, "Daemon:Listen", parse.GetValue(listen));
            AddIfGiven(settings, "Daemon:Port", parse.GetValue(port));
            var launch = new DaemonLaunch(parse.GetValue(home), parse.GetValue(config), settings, NimbusConfiguration.ProcessEnvironment());
            return run(launch, cancellationToken);
        });
        return root;
    }

    private static void AddIfGiven(Dictionary<string, string?> settings, string key, string? value)
    {
        if (value is not null)
        {
            settings[key] = value;
        }
    }
}

using Nimbus.Daemon;
using Nimbus.Platform.Errors;

// Before anything sets up the runtime's signal handling: SIGINT and SIGTERM must stop nimbusd even when inherited ignored.
TerminationSignals.RestoreIgnored();
var command = DaemonCommandLine.Create((launch, cancellationToken) => NimbusDaemon.RunAsync(launch, Console.Out, Console.Error, cancellationToken));
var parse = command.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var parseError in parse.Errors)
    {
        Console.Error.WriteLine($"nimbusd: {parseError.Message}");
    }

    Console.Error.WriteLine("Run 'nimbusd --help' for the options.");
    return ErrorMapping.UsageExitCode;
}

try
{
    return await parse.InvokeAsync();
}
catch (NimbusException ex)
{
    Console.Error.WriteLine($"nimbusd: {ex.Message}");
    return ErrorMapping.ExitCode(ex.Kind);
}

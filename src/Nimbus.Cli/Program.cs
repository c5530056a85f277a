using Nimbus.Cli;
using Nimbus.Platform.Configuration;

using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupt.Cancel();
};

var environment = NimbusConfiguration.ProcessEnvironment();
var colors = !Console.IsOutputRedirected && !environment.ContainsKey("NO_COLOR");
var context = new CliContext(Console.Out, Console.Error, environment, colors, interactive: !Console.IsErrorRedirected, input: Console.In);
return await NimbusCli.RunAsync(args, context, interrupt.Token);

using Nimbus.Cli;

using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupt.Cancel();
};

var environment = Environment.GetEnvironmentVariables()
    .Cast<System.Collections.DictionaryEntry>()
    .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);
var colors = !Console.IsOutputRedirected && !environment.ContainsKey("NO_COLOR");
var context = new CliContext(Console.Out, Console.Error, environment, colors);
return await NimbusCli.RunAsync(args, context, interrupt.Token);

using System.CommandLine;
using System.Globalization;
using System.Text.Json.Serialization;
using Nimbus.Objects.Ring;
using Nimbus.Platform.Errors;
using Spectre.Console;

namespace Nimbus.Cli.Commands;

/// <summary>The JSON of <c>nimbus ring show</c>, and of create and rebalance.</summary>
internal sealed record RingReport(
    string File,
    string Kind,
    int PartPower,
    int Partitions,
    int Replicas,
    double? MinPartHours,
    long Version,
    bool Rebalanced,
    double Balance,
    IReadOnlyList<RingDeviceReport> Devices,
    int? PartitionsMoved = null,
    string? RingFile = null);

internal sealed record RingDeviceReport(
    int Id,
    int Region,
    int Zone,
    string Ip,
    int Port,
    string Device,
    double Weight,
    string Meta,
    int Partitions,
    double Target,
    double Balance,
    bool Removed);

internal sealed record RingValidation(string File, bool Valid, IReadOnlyList<string> Problems);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(RingReport))]
[JsonSerializable(typeof(RingDeviceReport))]
[JsonSerializable(typeof(RingValidation))]
internal sealed partial class RingCliJson : JsonSerializerContext;

/// <summary>
/// <c>nimbus ring VERB FILE</c>: swift-ring-builder's work on builder and ring files, offline. The
/// builder file (JSON) keeps devices, assignments and move times; rebalance writes the ring file
/// (FILE with the extension .ring) that every node loads.
/// </summary>
internal static class RingCommand
{
    public static readonly string[] Examples =
    [
        "nimbus ring create object.builder --part-power 10 --replicas 3 --min-part-hours 1",
        "nimbus ring add object.builder --region 1 --zone 1 --ip 10.0.0.1 --port 6200 --device d1 --weight 100",
        "nimbus ring rebalance object.builder             assign partitions and write object.ring beside it",
        "nimbus ring show object.builder                  devices with their partition counts and balance",
        "nimbus ring show object.ring --json              what a node loads, for scripts",
        "nimbus ring set-weight object.builder --id 3 --weight 50",
        "nimbus ring remove object.builder --id 3         its partitions move off at the next rebalance",
        "nimbus ring validate object.ring                 exit 0 when sound, 3 with a list of problems",
    ];

    private static readonly string[] Columns = ["ID", "REGION", "ZONE", "SERVER", "DEVICE", "WEIGHT", "PARTITIONS", "BALANCE", "META"];

    public static Command Create(GlobalOptions global, CliContext context)
    {
        var ring = new Command("ring", "Build object rings offline (devices, weights, rebalance) and inspect them, as swift-ring-builder does.");
        var verbs = new RingVerbs(global, context);
        ring.Subcommands.Add(verbs.CreateVerb());
        ring.Subcommands.Add(verbs.Add());
        ring.Subcommands.Add(verbs.Remove());
        ring.Subcommands.Add(verbs.SetWeight());
        ring.Subcommands.Add(verbs.Rebalance());
        ring.Subcommands.Add(verbs.Show());
        ring.Subcommands.Add(verbs.Validate());
        return ring;
    }

    private sealed class RingVerbs(GlobalOptions global, CliContext context)
    {
        public Command CreateVerb()
        {
            var file = BuilderArgument();
            var partPower = new Option<int>("--part-power") { Description = "log2 of the partition count: about 100 partitions per device at the cluster's largest size (10 → 1024).", Required = true };
            var replicas = new Option<int>("--replicas") { Description = "Copies of each object (default 3).", DefaultValueFactory = _ => 3 };
            var minPartHours = new Option<double>("--min-part-hours") { Description = "Hours before another replica of a moved partition may move (default 1).", DefaultValueFactory = _ => 1 };
            var seed = new Option<string?>("--hash-path-seed") { Description = "Secret mixed into every path hash (default: random). Never change it once data is stored.", HelpName = "SEED" };
            var command = new Command("create", "Create a builder file for a new ring.") { file, partPower, replicas, minPartHours, seed };
            command.SetAction(async (parse, ct) =>
            {
                var path = parse.GetValue(file)!;
                if (File.Exists(path))
                {
                    throw new ConflictException("ring.builder_exists", $"{path} already exists; change it with nimbus ring add/remove/set-weight, or remove the file to start over");
                }

                var builder = RingBuilder.Create(parse.GetValue(partPower), parse.GetValue(replicas), parse.GetValue(minPartHours), parse.GetValue(seed));
                await SaveAsync(builder, path, ct);
                return await ReportAsync(parse, Report(builder, path), Invariant($"Created {path}: part power {builder.PartPower} ({builder.PartitionCount} partitions), {builder.ReplicaCount} replicas, min part hours {builder.MinPartHours}. Add devices with nimbus ring add, then rebalance."));
            });
            return command;
        }

        public Command Add()
        {
            var file = BuilderArgument();
            var region = new Option<int>("--region") { Description = "Region of the device (a site).", Required = true };
            var zone = new Option<int>("--zone") { Description = "Zone within the region (a failure domain: rack, power feed).", Required = true };
            var ip = new Option<string>("--ip") { Description = "Address of the storage server.", Required = true, HelpName = "IP" };
            var port = new Option<int>("--port") { Description = "Port of the object server on it.", Required = true };
            var device = new Option<string>("--device") { Description = "The disk's directory under the server's devices root, e.g. d1.", Required = true, HelpName = "NAME" };
            var weight = new Option<double>("--weight") { Description = "Share of the data relative to other devices, e.g. its size in GiB.", Required = true };
            var meta = new Option<string>("--meta") { Description = "A free-form note kept with the device.", DefaultValueFactory = _ => string.Empty };
            var command = new Command("add", "Add a device; it gets partitions at the next rebalance.") { file, region, zone, ip, port, device, weight, meta };
            command.SetAction(async (parse, ct) =>
            {
                var path = parse.GetValue(file)!;
                var builder = await LoadBuilderAsync(path, ct);
                var added = builder.AddDevice(parse.GetValue(region), parse.GetValue(zone), parse.GetValue(ip)!, parse.GetValue(port), parse.GetValue(device)!, parse.GetValue(weight), parse.GetValue(meta)!);
                await SaveAsync(builder, path, ct);
                return await DeviceReportAsync(parse, builder, added.Id, Invariant($"Device {added} with weight {added.Weight} now has id {added.Id}. Rebalance to give it partitions."));
            });
            return command;
        }

        public Command Remove()
        {
            var file = BuilderArgument();
            var id = IdOption();
            var command = new Command("remove", "Mark a device for removal; the next rebalance moves all its partitions off.") { file, id };
            command.SetAction(async (parse, ct) =>
            {
                var path = parse.GetValue(file)!;
                var builder = await LoadBuilderAsync(path, ct);
                var deviceId = parse.GetValue(id);
                builder.RemoveDevice(deviceId);
                await SaveAsync(builder, path, ct);
                return await DeviceReportAsync(parse, builder, deviceId, Invariant($"Device {deviceId} is marked for removal. Rebalance to move its partitions off."));
            });
            return command;
        }

        public Command SetWeight()
        {
            var file = BuilderArgument();
            var id = IdOption();
            var weight = new Option<double>("--weight") { Description = "The new weight; 0 drains the device gradually.", Required = true };
            var command = new Command("set-weight", "Change a device's weight; partitions follow at the next rebalance.") { file, id, weight };
            command.SetAction(async (parse, ct) =>
            {
                var path = parse.GetValue(file)!;
                var builder = await LoadBuilderAsync(path, ct);
                var deviceId = parse.GetValue(id);
                builder.SetWeight(deviceId, parse.GetValue(weight));
                await SaveAsync(builder, path, ct);
                return await DeviceReportAsync(parse, builder, deviceId, Invariant($"Device {deviceId} now has weight {parse.GetValue(weight)}. Rebalance to move partitions."));
            });
            return command;
        }

        public Command Rebalance()
        {
            var file = BuilderArgument();
            var command = new Command("rebalance", "Assign partitions to devices by weight, moving as few as possible, and write the ring file (.ring) beside the builder.") { file };
            command.SetAction(async (parse, ct) =>
            {
                var path = parse.GetValue(file)!;
                var builder = await LoadBuilderAsync(path, ct);
                var result = builder.Rebalance(TimeProvider.System.GetUtcNow());
                await SaveAsync(builder, path, ct);
                var ringPath = RingPathFor(path);
                await builder.WriteRingAsync(ringPath, ct);
                var total = builder.PartitionCount * builder.ReplicaCount;
                var moved = result.PartitionsMoved == 0
                    ? Invariant($"No partition replicas moved: the ring was balanced, or min part hours ({builder.MinPartHours}) holds recently moved partitions in place.")
                    : Invariant($"Reassigned {result.PartitionsMoved} of {total} partition replicas ({100.0 * result.PartitionsMoved / total:0.00}%).");
                var report = Report(builder, path) with { PartitionsMoved = result.PartitionsMoved, RingFile = ringPath };
                return await ReportAsync(parse, report, Invariant($"{moved} Balance is now {result.Balance:0.00}%. Wrote {ringPath} (version {result.Version})."));
            });
            return command;
        }

        public Command Show()
        {
            var file = FileArgument();
            var command = new Command("show", "Show a builder or ring: its parameters and devices with their partition counts and balance.") { file };
            command.SetAction(async (parse, ct) =>
            {
                var path = parse.GetValue(file)!;
                var report = await LoadReportAsync(path, ct);
                if (parse.GetValue(global.Json))
                {
                    await context.WriteJsonAsync(report, RingCliJson.Default.RingReport);
                    return 0;
                }

                var minPartHours = report.MinPartHours is { } hours ? Invariant($", min part hours {hours}") : string.Empty;
                var state = report.Rebalanced ? Invariant($"balance {report.Balance:0.00}%") : "not rebalanced yet";
                context.Console.WriteLine(Invariant($"{report.File} ({report.Kind}): part power {report.PartPower} ({report.Partitions} partitions), {report.Replicas} replicas{minPartHours}, version {report.Version}, {report.Devices.Count(d => !d.Removed)} devices, {state}"));
                var table = new Table().Border(TableBorder.Rounded);
                foreach (var column in Columns)
                {
                    table.AddColumn(column);
                }

                foreach (var d in report.Devices)
                {
                    var server = d.Ip.Contains(':', StringComparison.Ordinal) ? $"[{d.Ip}]:{d.Port}" : $"{d.Ip}:{d.Port}";
                    table.AddRow(
                        d.Id.ToString(CultureInfo.InvariantCulture),
                        d.Region.ToString(CultureInfo.InvariantCulture),
                        d.Zone.ToString(CultureInfo.InvariantCulture),
                        Markup.Escape(server),
                        Markup.Escape(d.Device),
                        d.Weight.ToString("0.##", CultureInfo.InvariantCulture),
                        d.Partitions.ToString(CultureInfo.InvariantCulture),
                        d.Removed ? "removing" : d.Balance.ToString("0.00", CultureInfo.InvariantCulture),
                        Markup.Escape(d.Meta));
                }

                context.Console.Write(table);
                return 0;
            });
            return command;
        }

        public Command Validate()
        {
            var file = FileArgument();
            var command = new Command("validate", "Check a builder or ring: every partition has its replicas on distinct devices with weight. Exits 3 with the problems otherwise.") { file };
            command.SetAction(async (parse, ct) =>
            {
                var path = parse.GetValue(file)!;
                var problems = await LoadProblemsAsync(path, ct);
                var validation = new RingValidation(path, problems.Count == 0, problems);
                if (parse.GetValue(global.Json))
                {
                    await context.WriteJsonAsync(validation, RingCliJson.Default.RingValidation);
                }
                else if (validation.Valid)
                {
                    await context.Output.WriteLineAsync($"{path} is valid.");
                }
                else
                {
                    foreach (var problem in problems)
                    {
                        await context.Output.WriteLineAsync($"- {problem}");
                    }

                    await context.Error.WriteLineAsync(Invariant($"nimbus: {path} has {problems.Count} problem(s); fix them and run nimbus ring rebalance"));
                }

                return validation.Valid ? ErrorMapping.SuccessExitCode : ErrorMapping.ExitCode(ErrorKind.InvalidInput);
            });
            return command;
        }

        private static Argument<string> BuilderArgument() => new("BUILDER") { Description = "The builder file, e.g. object.builder." };

        private static Argument<string> FileArgument() => new("FILE") { Description = "A builder file (object.builder) or a ring file (object.ring)." };

        private static Option<int> IdOption() => new("--id") { Description = "The device's id (see nimbus ring show).", Required = true };

        private async Task<int> ReportAsync(ParseResult parse, RingReport report, string message)
        {
            if (parse.GetValue(global.Json))
            {
                await context.WriteJsonAsync(report, RingCliJson.Default.RingReport);
            }
            else
            {
                await context.Output.WriteLineAsync(message);
            }

            return 0;
        }

        private async Task<int> DeviceReportAsync(ParseResult parse, RingBuilder builder, int id, string message)
        {
            if (parse.GetValue(global.Json))
            {
                var device = Report(builder, string.Empty).Devices.Single(d => d.Id == id);
                await context.WriteJsonAsync(device, RingCliJson.Default.RingDeviceReport);
            }
            else
            {
                await context.Output.WriteLineAsync(message);
            }

            return 0;
        }
    }

    /// <summary>The ring file a builder's rebalance writes: the builder's name with the extension .ring.</summary>
    public static string RingPathFor(string builderPath)
    {
        var ring = Path.ChangeExtension(builderPath, ".ring");
        return ring == builderPath ? builderPath + ".ring" : ring;
    }

    private static RingReport Report(RingBuilder builder, string path)
    {
        var removed = builder.RemovedDevices.Select(d => d.Id).ToHashSet();
        var devices = builder.GetUsage().Select(u => DeviceReport(u, removed.Contains(u.Device.Id))).ToList();
        return new RingReport(path, "builder", builder.PartPower, builder.PartitionCount, builder.ReplicaCount, builder.MinPartHours, builder.Version, builder.IsRebalanced, builder.IsRebalanced ? Round(builder.Balance) : 0, devices);
    }

    private static RingReport Report(HashRing ring, string path)
    {
        var usage = ring.GetUsage();
        var devices = usage.Select(u => DeviceReport(u, removed: false)).ToList();
        return new RingReport(path, "ring", ring.PartPower, ring.PartitionCount, ring.ReplicaCount, null, ring.Version, true, Round(usage.Select(u => Math.Abs(u.Balance)).DefaultIfEmpty(0).Max()), devices);
    }

    private static RingDeviceReport DeviceReport(RingDeviceUsage u, bool removed) =>
        new(u.Device.Id, u.Device.Region, u.Device.Zone, u.Device.Ip, u.Device.Port, u.Device.Device, u.Device.Weight, u.Device.Meta, u.Partitions, Round(u.Target), Round(u.Balance), removed);

    private static double Round(double value) => Math.Round(value, 2);

    private static async Task<RingReport> LoadReportAsync(string path, CancellationToken ct) =>
        await IsRingFileAsync(path, ct) ? Report(LoadRing(path), path) : Report(await LoadBuilderAsync(path, ct), path);

    private static async Task<IReadOnlyList<string>> LoadProblemsAsync(string path, CancellationToken ct)
    {
        if (!await IsRingFileAsync(path, ct))
        {
            return (await LoadBuilderAsync(path, ct)).Validate();
        }

        try
        {
            return HashRing.Load(path).Validate();
        }
        catch (InvalidDataException ex)
        {
            // A ring that does not load is the first problem to report, not a failure of the command.
            return [ex.Message];
        }
    }

    private static async Task<bool> IsRingFileAsync(string path, CancellationToken ct)
    {
        try
        {
            await using var stream = File.OpenRead(path);
            var magic = new byte[10];
            var read = await stream.ReadAtLeastAsync(magic, magic.Length, throwOnEndOfStream: false, ct);
            return read == magic.Length && magic.AsSpan().SequenceEqual("NIMBUSRING"u8);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new NotFoundException("ring.file_not_found", $"there is no builder or ring file at {path}; create a builder with 'nimbus ring create {path} --part-power 10 --replicas 3 --min-part-hours 1'");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException("cli.unreadable_file", $"cannot read {path}: {ex.Message}", ex);
        }
    }

    private static HashRing LoadRing(string path)
    {
        try
        {
            return HashRing.Load(path);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidInputException("ring.invalid_file", ex.Message, ex);
        }
    }

    private static async Task<RingBuilder> LoadBuilderAsync(string path, CancellationToken ct)
    {
        try
        {
            return await RingBuilder.LoadAsync(path, ct);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new NotFoundException("ring.builder_not_found", $"there is no ring builder at {path}; create one with 'nimbus ring create {path} --part-power 10 --replicas 3 --min-part-hours 1'");
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidInputException("ring.invalid_file", ex.Message, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException("cli.unreadable_file", $"cannot read {path}: {ex.Message}", ex);
        }
    }

    private static async Task SaveAsync(RingBuilder builder, string path, CancellationToken ct)
    {
        try
        {
            await builder.SaveAsync(path, ct);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException("cli.unwritable_file", $"cannot write {path}: {ex.Message}", ex);
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

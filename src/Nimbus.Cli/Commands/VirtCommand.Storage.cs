using System.CommandLine;
using System.Globalization;
using Nimbus.Virt;
using Nimbus.Virt.Definitions;
using Spectre.Console;

namespace Nimbus.Cli.Commands;

internal static partial class VirtCommand
{
    /// <summary>pool-* and vol-* verbs, as virsh's.</summary>
    private sealed partial class VirtVerbs
    {
        private IEnumerable<Command> StorageVerbs()
        {
            yield return PoolDefine();
            yield return PoolDefineAs();
            yield return PoolAction("pool-build", "Create the pool's storage (the directory of a dir pool).", "build", p => $"Pool {p} built");
            yield return PoolAction("pool-start", "Activate a pool.", "start", p => $"Pool {p} started");
            yield return PoolAction("pool-destroy", "Deactivate a pool; its volumes are kept.", "destroy", p => $"Pool {p} destroyed");
            yield return PoolAction("pool-delete", "Remove the pool's storage; refused while it holds volumes.", "delete", p => $"Pool {p} deleted");
            yield return PoolAction("pool-refresh", "Look at the pool's storage again.", "refresh", p => $"Pool {p} refreshed");
            yield return PoolAutostart();
            yield return PoolUndefine();
            yield return PoolList();
            yield return PoolInfo();
            yield return PoolDumpXml();
            yield return VolCreateAs();
            yield return VolCreate();
            yield return VolClone();
            yield return VolList();
            yield return VolInfo();
            yield return VolDumpXml();
            yield return VolDelete();
            yield return VolResize();
            yield return VolWipe();
            yield return VolUpload();
            yield return VolDownload();
        }

        private Command PoolDefine()
        {
            var file = new Argument<FileInfo>("FILE") { Description = "A libvirt pool XML file." };
            var command = new Command("pool-define", "Define a storage pool from an XML file.") { file };
            command.SetAction(async (parse, ct) =>
            {
                var path = parse.GetValue(file)!;
                using var client = Client();
                var pool = await client.DefinePoolAsync(parse.GetValue(connect), await ReadFileAsync(path, ct), ct);
                return await SayAsync(parse, $"Pool {pool.Name} defined from {path.Name}");
            });
            return command;
        }

        private Command PoolDefineAs()
        {
            var name = new Argument<string>("NAME") { Description = "Pool name." };
            var type = new Option<string>("--type") { Description = "Pool type (dir).", DefaultValueFactory = _ => "dir" };
            var target = new Argument<string>("TARGET") { Description = "The directory that holds the volumes." };
            var command = new Command("pool-define-as", "Define a dir pool from a name and a directory.") { name, target, type };
            command.SetAction(async (parse, ct) =>
            {
                var xml = $"<pool type='{System.Security.SecurityElement.Escape(parse.GetValue(type))}'><name>{System.Security.SecurityElement.Escape(parse.GetValue(name))}</name><target><path>{System.Security.SecurityElement.Escape(Path.GetFullPath(parse.GetValue(target)!))}</path></target></pool>";
                using var client = Client();
                var pool = await client.DefinePoolAsync(parse.GetValue(connect), xml, ct);
                return await SayAsync(parse, $"Pool {pool.Name} defined");
            });
            return command;
        }

        private Command PoolAction(string verb, string description, string action, Func<string, string> done)
        {
            var pool = PoolArgument();
            var command = new Command(verb, description) { pool };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                var info = await client.PoolActionAsync(parse.GetValue(connect), parse.GetValue(pool)!, action, null, ct);
                return await SayAsync(parse, done(info.Summary.Name));
            });
            return command;
        }

        private Command PoolAutostart()
        {
            var pool = PoolArgument();
            var disable = new Option<bool>("--disable") { Description = "Stop starting the pool with nimbusd." };
            var command = new Command("pool-autostart", "Start the pool whenever nimbusd starts.") { pool, disable };
            command.SetAction(async (parse, ct) =>
            {
                var off = parse.GetValue(disable);
                using var client = Client();
                var info = await client.PoolActionAsync(parse.GetValue(connect), parse.GetValue(pool)!, "autostart", new VirtRequest { Autostart = !off }, ct);
                return await SayAsync(parse, off ? $"Pool {info.Summary.Name} unmarked as autostarted" : $"Pool {info.Summary.Name} marked as autostarted");
            });
            return command;
        }

        private Command PoolUndefine()
        {
            var pool = PoolArgument();
            var command = new Command("pool-undefine", "Remove an inactive pool's definition; its storage is kept.") { pool };
            command.SetAction(async (parse, ct) =>
            {
                var name = parse.GetValue(pool)!;
                using var client = Client();
                await client.UndefinePoolAsync(parse.GetValue(connect), name, ct);
                return await SayAsync(parse, $"Pool {name} has been undefined");
            });
            return command;
        }

        private Command PoolList()
        {
            var all = new Option<bool>("--all") { Description = "Also list inactive pools." };
            var command = new Command("pool-list", "List active storage pools, or all with --all.") { all };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                var pools = await client.ListPoolsAsync(parse.GetValue(connect), parse.GetValue(all), ct);
                if (parse.GetValue(global.Json))
                {
                    await context.WriteJsonAsync(pools, VirtJson.Default.IReadOnlyListPoolSummary);
                    return 0;
                }

                var table = new Table().Border(TableBorder.Rounded).AddColumn("NAME").AddColumn("STATE").AddColumn("AUTOSTART");
                foreach (var pool in pools)
                {
                    table.AddRow(Markup.Escape(pool.Name), pool.State == Virt.Storage.PoolState.Running ? "[green]active[/]" : "inactive", pool.Autostart ? "yes" : "no");
                }

                context.Console.Write(table);
                return 0;
            });
            return command;
        }

        private Command PoolInfo()
        {
            var pool = PoolArgument();
            var command = new Command("pool-info", "Show a pool's state and sizes.") { pool };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                var info = await client.GetPoolInfoAsync(parse.GetValue(connect), parse.GetValue(pool)!, ct);
                if (parse.GetValue(global.Json))
                {
                    await context.WriteJsonAsync(info, VirtJson.Default.PoolInfo);
                    return 0;
                }

                var grid = new Grid().AddColumn().AddColumn();
                grid.AddRow("Name:", Markup.Escape(info.Summary.Name));
                grid.AddRow("UUID:", info.Summary.Uuid.ToString());
                grid.AddRow("State:", info.Summary.State == Virt.Storage.PoolState.Running ? "running" : "inactive");
                grid.AddRow("Persistent:", info.Summary.Persistent ? "yes" : "no");
                grid.AddRow("Autostart:", info.Summary.Autostart ? "yes" : "no");
                grid.AddRow("Capacity:", Units.Describe(info.CapacityBytes));
                grid.AddRow("Allocation:", Units.Describe(info.AllocationBytes));
                grid.AddRow("Available:", Units.Describe(info.AvailableBytes));
                context.Console.Write(grid);
                return 0;
            });
            return command;
        }

        private Command PoolDumpXml()
        {
            var pool = PoolArgument();
            var command = new Command("pool-dumpxml", "Print a pool's XML definition.") { pool };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                await context.Output.WriteAsync(await client.GetPoolXmlAsync(parse.GetValue(connect), parse.GetValue(pool)!, ct));
                return 0;
            });
            return command;
        }

        private Command VolCreateAs()
        {
            var pool = PoolArgument();
            var name = new Argument<string>("NAME") { Description = "Volume name (its file name in a dir pool)." };
            var size = new Argument<string>("CAPACITY") { Description = "Virtual size, such as 10G or 512M (binary units)." };
            var format = new Option<string>("--format") { Description = "raw (default), qcow2 or vmdk.", DefaultValueFactory = _ => "raw" };
            var backing = new Option<string?>("--backing-vol") { Description = "Make a copy-on-write overlay on this volume (by name in the pool, or a path); needs --format qcow2." };
            var backingFormat = new Option<string?>("--backing-vol-format") { Description = "The backing volume's format (probed when left out)." };
            var command = new Command("vol-create-as", "Create a volume, or a qcow2 overlay on a backing volume.") { pool, name, size, format, backing, backingFormat };
            command.SetAction(async (parse, ct) =>
            {
                var capacity = Units.ParseSize(parse.GetValue(size)!, "M")
                    ?? throw new Platform.Errors.InvalidInputException("cli.bad_size", $"'{parse.GetValue(size)}' is not a size such as 10G, 512M or 1073741824b");
                using var client = Client();
                var volume = await client.CreateVolumeAsync(parse.GetValue(connect), parse.GetValue(pool)!, new VolumeRequest
                {
                    Name = parse.GetValue(name),
                    CapacityBytes = capacity,
                    Format = parse.GetValue(format),
                    BackingVolume = parse.GetValue(backing),
                    BackingFormat = parse.GetValue(backingFormat),
                }, ct);
                return await VolumeReportAsync(parse, volume, $"Vol {volume.Name} created");
            });
            return command;
        }

        private Command VolCreate()
        {
            var pool = PoolArgument();
            var file = new Argument<FileInfo>("FILE") { Description = "A libvirt volume XML file." };
            var command = new Command("vol-create", "Create a volume from an XML file.") { pool, file };
            command.SetAction(async (parse, ct) =>
            {
                var path = parse.GetValue(file)!;
                using var client = Client();
                var volume = await client.CreateVolumeFromXmlAsync(parse.GetValue(connect), parse.GetValue(pool)!, await ReadFileAsync(path, ct), ct);
                return await VolumeReportAsync(parse, volume, $"Vol {volume.Name} created from {path.Name}");
            });
            return command;
        }

        private Command VolClone()
        {
            var volume = VolumeArgument();
            var name = new Argument<string>("NEWNAME") { Description = "Name of the copy." };
            var pool = PoolOption();
            var command = new Command("vol-clone", "Make a full, independent copy of a volume.") { volume, name, pool };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                var copy = await client.VolumeActionAsync(parse.GetValue(connect), parse.GetValue(pool)!, parse.GetValue(volume)!, "clone", new VolumeRequest { Name = parse.GetValue(name) }, ct);
                return await VolumeReportAsync(parse, copy, $"Vol {copy.Name} cloned from {parse.GetValue(volume)}");
            });
            return command;
        }

        private Command VolList()
        {
            var pool = PoolArgument();
            var command = new Command("vol-list", "List the volumes of a pool.") { pool };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                var volumes = await client.ListVolumesAsync(parse.GetValue(connect), parse.GetValue(pool)!, ct);
                if (parse.GetValue(global.Json))
                {
                    await context.WriteJsonAsync(volumes, VirtJson.Default.IReadOnlyListVolumeInfo);
                    return 0;
                }

                var table = new Table().Border(TableBorder.Rounded).AddColumn("NAME").AddColumn("PATH").AddColumn("FORMAT").AddColumn("CAPACITY").AddColumn("ALLOCATION").AddColumn("BACKING");
                foreach (var volume in volumes)
                {
                    table.AddRow(Markup.Escape(volume.Name), Markup.Escape(volume.Path), FormatName(volume.Format), Units.Describe(volume.CapacityBytes), Units.Describe(volume.AllocationBytes), Markup.Escape(volume.BackingChain.Count > 0 ? volume.BackingChain[0] : "-"));
                }

                context.Console.Write(table);
                return 0;
            });
            return command;
        }

        private Command VolInfo()
        {
            var volume = VolumeArgument();
            var pool = PoolOption();
            var command = new Command("vol-info", "Show a volume's format, sizes and backing chain.") { volume, pool };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                var info = await client.GetVolumeInfoAsync(parse.GetValue(connect), parse.GetValue(pool)!, parse.GetValue(volume)!, ct);
                return await VolumeReportAsync(parse, info, null);
            });
            return command;
        }

        private Command VolDumpXml()
        {
            var volume = VolumeArgument();
            var pool = PoolOption();
            var command = new Command("vol-dumpxml", "Print a volume's XML.") { volume, pool };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                await context.Output.WriteAsync(await client.GetVolumeXmlAsync(parse.GetValue(connect), parse.GetValue(pool)!, parse.GetValue(volume)!, ct));
                return 0;
            });
            return command;
        }

        private Command VolDelete()
        {
            var volume = VolumeArgument();
            var pool = PoolOption();
            var command = new Command("vol-delete", "Delete a volume.") { volume, pool };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                await client.DeleteVolumeAsync(parse.GetValue(connect), parse.GetValue(pool)!, parse.GetValue(volume)!, ct);
                return await SayAsync(parse, $"Vol {parse.GetValue(volume)} deleted");
            });
            return command;
        }

        private Command VolResize()
        {
            var volume = VolumeArgument();
            var size = new Argument<string>("CAPACITY") { Description = "New virtual size, such as 20G." };
            var pool = PoolOption();
            var shrink = new Option<bool>("--shrink") { Description = "Allow making the volume smaller (destroys data past the new end)." };
            var command = new Command("vol-resize", "Change a volume's virtual size.") { volume, size, pool, shrink };
            command.SetAction(async (parse, ct) =>
            {
                var capacity = Units.ParseSize(parse.GetValue(size)!, "M")
                    ?? throw new Platform.Errors.InvalidInputException("cli.bad_size", $"'{parse.GetValue(size)}' is not a size such as 20G");
                using var client = Client();
                var info = await client.VolumeActionAsync(parse.GetValue(connect), parse.GetValue(pool)!, parse.GetValue(volume)!, "resize", new VolumeRequest { CapacityBytes = capacity, Shrink = parse.GetValue(shrink) }, ct);
                return await VolumeReportAsync(parse, info, $"Size of volume '{info.Name}' successfully changed to {parse.GetValue(size)}");
            });
            return command;
        }

        private Command VolWipe()
        {
            var volume = VolumeArgument();
            var pool = PoolOption();
            var command = new Command("vol-wipe", "Destroy a volume's data, keeping the volume.") { volume, pool };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                var info = await client.VolumeActionAsync(parse.GetValue(connect), parse.GetValue(pool)!, parse.GetValue(volume)!, "wipe", null, ct);
                return await VolumeReportAsync(parse, info, $"Vol {info.Name} wiped");
            });
            return command;
        }

        private Command VolUpload()
        {
            var volume = VolumeArgument();
            var file = new Argument<FileInfo>("FILE") { Description = "The image to upload; its format must be the volume's." };
            var pool = PoolOption();
            var command = new Command("vol-upload", "Replace a volume's content with a file, streamed.") { volume, file, pool };
            command.SetAction(async (parse, ct) =>
            {
                var path = parse.GetValue(file)!;
                using var client = Client();
                await using var source = new ProgressStream(OpenForReading(path), path.Length, $"Uploading {path.Name}", context);
                var info = await client.UploadVolumeAsync(parse.GetValue(connect), parse.GetValue(pool)!, parse.GetValue(volume)!, source, ct);
                source.Finish();
                return await VolumeReportAsync(parse, info, $"Vol {info.Name} uploaded from {path.Name}");
            });
            return command;
        }

        private Command VolDownload()
        {
            var volume = VolumeArgument();
            var file = new Argument<string>("FILE") { Description = "Where to write the volume's content." };
            var pool = PoolOption();
            var command = new Command("vol-download", "Copy a volume's content into a file, streamed.") { volume, file, pool };
            command.SetAction(async (parse, ct) =>
            {
                var path = Path.GetFullPath(parse.GetValue(file)!);
                var temp = path + ".part";
                using var client = Client();
                ProgressStream? progress = null;
                try
                {
                    await client.DownloadVolumeAsync(parse.GetValue(connect), parse.GetValue(pool)!, parse.GetValue(volume)!, length => progress = new ProgressStream(File.Create(temp), length, $"Downloading {parse.GetValue(volume)}", context), ct);
                    progress?.Finish();
                    File.Move(temp, path, overwrite: true);
                }
                finally
                {
                    File.Delete(temp);
                }

                return await SayAsync(parse, $"Vol {parse.GetValue(volume)} downloaded to {path}");
            });
            return command;
        }

        private async Task<int> VolumeReportAsync(ParseResult parse, VolumeInfo volume, string? message)
        {
            if (parse.GetValue(global.Json))
            {
                await context.WriteJsonAsync(volume, VirtJson.Default.VolumeInfo);
                return 0;
            }

            if (message is not null)
            {
                await context.Output.WriteLineAsync(message);
                return 0;
            }

            var grid = new Grid().AddColumn().AddColumn();
            grid.AddRow("Name:", Markup.Escape(volume.Name));
            grid.AddRow("Path:", Markup.Escape(volume.Path));
            grid.AddRow("Type:", "file");
            grid.AddRow("Format:", FormatName(volume.Format));
            grid.AddRow("Capacity:", $"{Units.Describe(volume.CapacityBytes)} ({volume.CapacityBytes.ToString(CultureInfo.InvariantCulture)} bytes)");
            grid.AddRow("Allocation:", Units.Describe(volume.AllocationBytes));
            grid.AddRow("Backing chain:", Markup.Escape(volume.BackingChain.Count == 0 ? "-" : string.Join(" → ", volume.BackingChain)));
            context.Console.Write(grid);
            return 0;
        }

        private async Task<int> SayAsync(ParseResult parse, string message)
        {
            await context.Output.WriteLineAsync(parse.GetValue(global.Json) ? "{}" : message);
            return 0;
        }

        private static FileStream OpenForReading(FileInfo file)
        {
            try
            {
                return new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new Platform.Errors.InvalidInputException("cli.unreadable_file", $"cannot read {file.FullName}: {ex.Message}", ex);
            }
        }

        private static string FormatName(VolumeFormat format) => format.ToString().ToLowerInvariant();

        private static Argument<string> PoolArgument() => new("POOL") { Description = "Pool name or UUID." };

        private static Argument<string> VolumeArgument() => new("VOLUME") { Description = "Volume name." };

        private static Option<string> PoolOption() => new("--pool") { Description = "The pool that holds the volume.", Required = true };
    }
}

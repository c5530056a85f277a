using System.CommandLine;
using System.Globalization;
using Nimbus.Client;
using Nimbus.Virt;
using Nimbus.Virt.Drivers;
using Spectre.Console;

namespace Nimbus.Cli.Commands;

/// <summary>
/// <c>nimbus virt VERB</c>: the virtualization layer with virsh's verbs and messages, talking to the
/// local nimbusd over its unix socket.
/// </summary>
internal static partial class VirtCommand
{
    public static readonly string[] Examples =
    [
        "nimbus virt list --all                          every domain, running or not",
        "nimbus virt define web1.xml                     define a domain from libvirt domain XML",
        "nimbus virt start web1",
        "nimbus virt domstate web1 --reason              e.g. \"shut off (destroyed)\"",
        "nimbus virt dumpxml web1 > web1.xml",
        "EDITOR=nano nimbus virt edit web1              change the definition; invalid XML is refused, not saved",
        "nimbus virt -c test:///default list --json      the in-memory test driver, as JSON",
        "nimbus virt pool-define-as images /var/lib/nimbus/images && nimbus virt pool-build images && nimbus virt pool-start images",
        "nimbus virt vol-create-as images web1.qcow2 10G --format qcow2 --backing-vol nimbus-tiny.qcow2",
    ];

    public static Command Create(GlobalOptions global, CliContext context)
    {
        var connect = new Option<string?>("--connect", "-c")
        {
            Description = "Hypervisor connection URI (default qemu:///system; test:///default is an in-memory driver).",
            HelpName = "URI",
            Recursive = true,
        };
        var virt = new Command("virt", "Manage domains (virtual machines) on this node, as virsh does.");
        virt.Options.Add(connect);
        var verbs = new VirtVerbs(global, context, connect);
        foreach (var verb in verbs.All())
        {
            virt.Subcommands.Add(verb);
        }

        return virt;
    }

    private sealed partial class VirtVerbs(GlobalOptions global, CliContext context, Option<string?> connect)
    {
        public IEnumerable<Command> All()
        {
            yield return List();
            yield return Define();
            yield return Undefine();
            yield return Action("start", "Start a shut-off domain (restoring its managed save image if it has one).", "start", d => $"Domain '{d}' started");
            yield return Action("shutdown", "Ask a domain to power off (ACPI); it stops when the guest agrees.", "shutdown", d => $"Domain '{d}' is being shutdown");
            yield return Action("destroy", "Stop a domain at once, like pulling the plug.", "destroy", d => $"Domain '{d}' destroyed");
            yield return Action("reboot", "Ask a domain to reboot.", "reboot", d => $"Domain '{d}' is being rebooted");
            yield return Action("reset", "Reset a domain's virtual hardware at once.", "reset", d => $"Domain '{d}' was reset");
            yield return Action("suspend", "Pause a running domain.", "suspend", d => $"Domain '{d}' suspended");
            yield return Action("resume", "Resume a paused domain.", "resume", d => $"Domain '{d}' resumed");
            yield return Action("managedsave", "Save a domain's state and stop it; the next start restores it.", "managedsave", d => $"Domain '{d}' state saved by nimbusd");
            yield return Save();
            yield return Restore();
            yield return Autostart();
            yield return DomInfo();
            yield return DomState();
            yield return DumpXml();
            yield return Edit();
            yield return ConsoleVerb();
            yield return Stats("domblkstat", "Show the I/O counters of one disk of a running domain.", "DEVICE (target dev such as vda)");
            yield return Stats("domifstat", "Show the traffic counters of one interface of a running domain.", "INTERFACE (its MAC address)");
            yield return Screenshot();
            yield return NodeInfo();
            yield return Capabilities();
            foreach (var storage in StorageVerbs())
            {
                yield return storage;
            }
        }

        private Command List()
        {
            var all = new Option<bool>("--all") { Description = "Also list shut-off domains." };
            var inactive = new Option<bool>("--inactive") { Description = "List only shut-off domains." };
            var command = new Command("list", "List domains: running ones, or all with --all.") { all, inactive };
            command.SetAction(async (parse, ct) =>
            {
                var filter = parse.GetValue(all) ? ListFilter.All : parse.GetValue(inactive) ? ListFilter.Inactive : ListFilter.Active;
                using var client = Client();
                var domains = await client.ListDomainsAsync(parse.GetValue(connect), filter, ct);
                if (parse.GetValue(global.Json))
                {
                    await context.WriteJsonAsync(domains, VirtJson.Default.IReadOnlyListDomainSummary);
                    return 0;
                }

                var table = new Table().Border(TableBorder.Rounded).AddColumn("ID").AddColumn("NAME").AddColumn("STATE").AddColumn("AUTOSTART");
                foreach (var domain in domains)
                {
                    table.AddRow(domain.Id?.ToString(CultureInfo.InvariantCulture) ?? "-", Markup.Escape(domain.Name), StateMarkup(domain.Status), domain.Autostart ? "yes" : "no");
                }

                context.Console.Write(table);
                return 0;
            });
            return command;
        }

        private Command Define()
        {
            var file = new Argument<FileInfo>("FILE") { Description = "A libvirt domain XML file (see docs/virt.md for the supported subset)." };
            var command = new Command("define", "Define (or redefine) a persistent domain from an XML file.") { file };
            command.SetAction(async (parse, ct) =>
            {
                var path = parse.GetValue(file)!;
                var xml = await ReadFileAsync(path, ct);
                using var client = Client();
                var domain = await client.DefineDomainAsync(parse.GetValue(connect), xml, ct);
                return await ReportAsync(parse, domain, $"Domain '{domain.Name}' defined from {path.Name}");
            });
            return command;
        }

        private Command Undefine()
        {
            var domain = DomainArgument();
            var managedSave = new Option<bool>("--managed-save") { Description = "Also remove the domain's managed save image." };
            var command = new Command("undefine", "Remove a domain's configuration; a running one keeps running until it stops.") { domain, managedSave };
            command.SetAction(async (parse, ct) =>
            {
                var name = parse.GetValue(domain)!;
                using var client = Client();
                await client.UndefineDomainAsync(parse.GetValue(connect), name, parse.GetValue(managedSave), ct);
                await context.Output.WriteLineAsync(parse.GetValue(global.Json) ? "{}" : $"Domain '{name}' has been undefined");
                return 0;
            });
            return command;
        }

        private Command Action(string verb, string description, string action, Func<string, string> done)
        {
            var domain = DomainArgument();
            var command = new Command(verb, description) { domain };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                var result = await client.DomainActionAsync(parse.GetValue(connect), parse.GetValue(domain)!, action, null, ct);
                return await ReportAsync(parse, result, done(result.Name));
            });
            return command;
        }

        private Command Save()
        {
            var domain = DomainArgument();
            var file = new Argument<string>("FILE") { Description = "Where to write the saved state." };
            var command = new Command("save", "Save a running domain's state to a file and stop it.") { domain, file };
            command.SetAction(async (parse, ct) =>
            {
                var path = Path.GetFullPath(parse.GetValue(file)!);
                using var client = Client();
                var result = await client.DomainActionAsync(parse.GetValue(connect), parse.GetValue(domain)!, "save", new VirtRequest { File = path }, ct);
                return await ReportAsync(parse, result, $"Domain '{result.Name}' saved to {path}");
            });
            return command;
        }

        private Command Restore()
        {
            var file = new Argument<string>("FILE") { Description = "A file written by save." };
            var command = new Command("restore", "Start a domain from a file written by save.") { file };
            command.SetAction(async (parse, ct) =>
            {
                var path = Path.GetFullPath(parse.GetValue(file)!);
                using var client = Client();
                var result = await client.RestoreDomainAsync(parse.GetValue(connect), path, ct);
                return await ReportAsync(parse, result, $"Domain restored from {path}");
            });
            return command;
        }

        private Command Autostart()
        {
            var domain = DomainArgument();
            var disable = new Option<bool>("--disable") { Description = "Stop starting the domain with nimbusd." };
            var command = new Command("autostart", "Start the domain whenever nimbusd starts.") { domain, disable };
            command.SetAction(async (parse, ct) =>
            {
                var off = parse.GetValue(disable);
                using var client = Client();
                var result = await client.DomainActionAsync(parse.GetValue(connect), parse.GetValue(domain)!, "autostart", new VirtRequest { Autostart = !off }, ct);
                return await ReportAsync(parse, result, off ? $"Domain '{result.Name}' unmarked as autostarted" : $"Domain '{result.Name}' marked as autostarted");
            });
            return command;
        }

        private Command DomInfo()
        {
            var domain = DomainArgument();
            var command = new Command("dominfo", "Show a domain's state, CPUs, memory and CPU time.") { domain };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                var info = await client.GetDomainInfoAsync(parse.GetValue(connect), parse.GetValue(domain)!, ct);
                if (parse.GetValue(global.Json))
                {
                    await context.WriteJsonAsync(info, VirtJson.Default.DomainInfo);
                    return 0;
                }

                var s = info.Summary;
                var grid = new Grid().AddColumn().AddColumn();
                void Row(string key, string value) => grid.AddRow(Markup.Escape(key + ":"), Markup.Escape(value));
                Row("Id", s.Id?.ToString(CultureInfo.InvariantCulture) ?? "-");
                Row("Name", s.Name);
                Row("UUID", s.Uuid.ToString());
                Row("OS Type", info.OsType);
                Row("State", s.Status.StateText);
                Row("CPU(s)", info.Vcpus.ToString(CultureInfo.InvariantCulture));
                Row("CPU time", string.Create(CultureInfo.InvariantCulture, $"{info.CpuTime.TotalSeconds:0.0}s"));
                Row("Max memory", $"{info.MaxMemoryKiB.ToString(CultureInfo.InvariantCulture)} KiB");
                Row("Used memory", $"{info.MemoryKiB.ToString(CultureInfo.InvariantCulture)} KiB");
                Row("Persistent", s.Persistent ? "yes" : "no");
                Row("Autostart", s.Autostart ? "enable" : "disable");
                Row("Managed save", s.HasManagedSave ? "yes" : "no");
                context.Console.Write(grid);
                return 0;
            });
            return command;
        }

        private Command DomState()
        {
            var domain = DomainArgument();
            var reason = new Option<bool>("--reason") { Description = "Also say why the domain is in that state." };
            var command = new Command("domstate", "Show a domain's state.") { domain, reason };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                var status = await client.GetDomainStateAsync(parse.GetValue(connect), parse.GetValue(domain)!, ct);
                if (parse.GetValue(global.Json))
                {
                    await context.WriteJsonAsync(status, VirtJson.Default.DomainStatus);
                }
                else
                {
                    await context.Output.WriteLineAsync(parse.GetValue(reason) ? status.ToString() : status.StateText);
                }

                return 0;
            });
            return command;
        }

        private Command DumpXml()
        {
            var domain = DomainArgument();
            var command = new Command("dumpxml", "Print a domain's XML definition (the running one's while it runs).") { domain };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                await context.Output.WriteAsync(await client.GetDomainXmlAsync(parse.GetValue(connect), parse.GetValue(domain)!, ct));
                return 0;
            });
            return command;
        }

        /// <summary>
        /// virsh edit: the XML opens in $EDITOR (else $VISUAL, else vi); the result is defined only if it
        /// is valid, and a refusal offers another go, so a typo never costs the edit.
        /// </summary>
        private Command Edit()
        {
            var domain = DomainArgument();
            var command = new Command("edit", "Edit a domain's XML in $EDITOR; it is defined only if valid.") { domain };
            command.SetAction(async (parse, ct) =>
            {
                var name = parse.GetValue(domain)!;
                using var client = Client();
                var original = await client.GetDomainXmlAsync(parse.GetValue(connect), name, ct);
                var file = Path.Combine(Path.GetTempPath(), $"nimbus-edit-{Guid.NewGuid():N}-{name}.xml");
                await File.WriteAllTextAsync(file, original, ct);
                try
                {
                    while (true)
                    {
                        await RunEditorAsync(file, ct);
                        var edited = await File.ReadAllTextAsync(file, ct);
                        if (edited == original)
                        {
                            await context.Output.WriteLineAsync($"Domain '{name}' XML configuration not changed.");
                            return 0;
                        }

                        try
                        {
                            var defined = await client.DefineDomainAsync(parse.GetValue(connect), edited, ct);
                            await context.Output.WriteLineAsync($"Domain '{defined.Name}' XML configuration edited.");
                            return 0;
                        }
                        catch (Platform.Errors.NimbusException ex) when (ex.Kind == Platform.Errors.ErrorKind.InvalidInput || ex.Kind == Platform.Errors.ErrorKind.Conflict)
                        {
                            await context.Error.WriteLineAsync($"nimbus: {ex.Message}");
                            await context.Error.WriteAsync("Failed. Try again? [y,n]: ");
                            var answer = await context.Input.ReadLineAsync(ct);
                            if (!string.Equals(answer?.Trim(), "y", StringComparison.OrdinalIgnoreCase))
                            {
                                await context.Error.WriteLineAsync($"Domain '{name}' XML configuration not changed.");
                                return Platform.Errors.ErrorMapping.ExitCode(ex.Kind);
                            }
                        }
                    }
                }
                finally
                {
                    File.Delete(file);
                }
            });
            return command;
        }

        /// <summary>
        /// virsh console: the guest's serial console on this terminal, raw, until Ctrl+] (0x1d).
        /// Standard input may also be a pipe, for scripts.
        /// </summary>
        private Command ConsoleVerb()
        {
            var domain = DomainArgument();
            var command = new Command("console", "Attach this terminal to a running domain's serial console; Ctrl+] detaches.") { domain };
            command.SetAction(async (parse, ct) =>
            {
                var name = parse.GetValue(domain)!;
                using var client = Client();
                using var socket = await client.OpenConsoleAsync(parse.GetValue(connect), name, ct);
                await context.Error.WriteLineAsync($"Connected to domain '{name}'");
                await context.Error.WriteLineAsync("Escape character is ^] (Ctrl + ])");
                using var terminal = RawTerminal.Enter(context.Interactive && !System.Console.IsInputRedirected);
                await using var stdout = System.Console.OpenStandardOutput();
                // Straight from file descriptor 0: on a terminal, Console's own stream line-edits and echoes.
                await using var stdin = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, 1);
                using var detach = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var fromGuest = Task.Run(async () =>
                {
                    var buffer = new byte[4096];
                    while (socket.State == System.Net.WebSockets.WebSocketState.Open)
                    {
                        var received = await socket.ReceiveAsync(buffer.AsMemory(), detach.Token);
                        if (received.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
                        {
                            break;
                        }

                        await stdout.WriteAsync(buffer.AsMemory(0, received.Count), detach.Token);
                        await stdout.FlushAsync(detach.Token);
                    }
                }, detach.Token);
                var keys = new byte[1024];
                try
                {
                    while (true)
                    {
                        var read = await stdin.ReadAsync(keys.AsMemory(), detach.Token);
                        var escape = Array.IndexOf(keys, (byte)0x1d, 0, Math.Max(read, 0));
                        var length = read <= 0 ? 0 : escape >= 0 ? escape : read;
                        if (length > 0)
                        {
                            await socket.SendAsync(keys.AsMemory(0, length), System.Net.WebSockets.WebSocketMessageType.Binary, endOfMessage: true, detach.Token);
                        }

                        if (read <= 0 || escape >= 0 || fromGuest.IsCompleted)
                        {
                            break;
                        }
                    }

                    await socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "detached", CancellationToken.None);
                }
                catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException)
                {
                    // The guest or the daemon ended the session.
                }
                finally
                {
                    await detach.CancelAsync();
                }

                terminal.Dispose();
                await context.Error.WriteLineAsync();
                return 0;
            });
            return command;
        }

        private async Task RunEditorAsync(string file, CancellationToken ct)
        {
            var editor = context.Environment.GetValueOrDefault("EDITOR") ?? context.Environment.GetValueOrDefault("VISUAL") ?? "vi";
            // $EDITOR may carry arguments ("code --wait"), as shells allow.
            var parts = editor.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var info = new System.Diagnostics.ProcessStartInfo(parts[0]) { UseShellExecute = false };
            foreach (var part in parts.Skip(1))
            {
                info.ArgumentList.Add(part);
            }

            info.ArgumentList.Add(file);
            try
            {
                using var process = System.Diagnostics.Process.Start(info)!;
                await process.WaitForExitAsync(ct);
                if (process.ExitCode != 0)
                {
                    throw new Platform.Errors.InvalidInputException("cli.editor_failed", $"the editor '{editor}' exited with {process.ExitCode}; nothing was changed");
                }
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                throw new Platform.Errors.InvalidInputException("cli.no_editor", $"cannot run the editor '{editor}' ({ex.Message}); set EDITOR to one you have", ex);
            }
        }

        private Command Stats(string verb, string description, string deviceHelp)
        {
            var domain = DomainArgument();
            var device = new Argument<string>("DEVICE") { Description = deviceHelp };
            var command = new Command(verb, description) { domain, device };
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                var name = parse.GetValue(domain)!;
                var dev = parse.GetValue(device)!;
                var json = parse.GetValue(global.Json);
                var grid = new Grid().AddColumn().AddColumn();
                if (verb == "domblkstat")
                {
                    var stats = await client.GetBlockStatsAsync(parse.GetValue(connect), name, dev, ct);
                    if (json)
                    {
                        await context.WriteJsonAsync(stats, VirtJson.Default.BlockStats);
                        return 0;
                    }

                    foreach (var (key, value) in new[] { ("rd_req", stats.ReadRequests), ("rd_bytes", stats.ReadBytes), ("wr_req", stats.WriteRequests), ("wr_bytes", stats.WriteBytes), ("errs", stats.Errors) })
                    {
                        grid.AddRow($"{stats.Device} {key}", value.ToString(CultureInfo.InvariantCulture));
                    }
                }
                else
                {
                    var stats = await client.GetInterfaceStatsAsync(parse.GetValue(connect), name, dev, ct);
                    if (json)
                    {
                        await context.WriteJsonAsync(stats, VirtJson.Default.InterfaceStats);
                        return 0;
                    }

                    foreach (var (key, value) in new[] { ("rx_bytes", stats.RxBytes), ("rx_packets", stats.RxPackets), ("rx_errs", stats.RxErrors), ("rx_drop", stats.RxDrops), ("tx_bytes", stats.TxBytes), ("tx_packets", stats.TxPackets), ("tx_errs", stats.TxErrors), ("tx_drop", stats.TxDrops) })
                    {
                        grid.AddRow($"{stats.Device} {key}", value.ToString(CultureInfo.InvariantCulture));
                    }
                }

                context.Console.Write(grid);
                return 0;
            });
            return command;
        }

        private Command Screenshot()
        {
            var domain = DomainArgument();
            var file = new Argument<string?>("FILE") { Description = "Where to write the image (default DOMAIN-screenshot.ppm).", Arity = ArgumentArity.ZeroOrOne };
            var command = new Command("screenshot", "Save an image of a running domain's screen.") { domain, file };
            command.SetAction(async (parse, ct) =>
            {
                var name = parse.GetValue(domain)!;
                var path = Path.GetFullPath(parse.GetValue(file) ?? $"{name}-screenshot.ppm");
                using var client = Client();

                // The image lands under its name only once it is whole: a refusal leaves no file behind.
                var partial = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.part");
                try
                {
                    await using (var output = new FileStream(partial, FileMode.CreateNew, FileAccess.Write))
                    {
                        await client.ScreenshotAsync(parse.GetValue(connect), name, output, ct);
                    }

                    File.Move(partial, path, overwrite: true);
                }
                finally
                {
                    File.Delete(partial);
                }

                await context.Output.WriteLineAsync($"Screenshot saved to {path}");
                return 0;
            });
            return command;
        }

        private Command NodeInfo()
        {
            var command = new Command("nodeinfo", "Show the host's CPUs and memory as the hypervisor sees them.");
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                var node = await client.GetNodeInfoAsync(parse.GetValue(connect), ct);
                if (parse.GetValue(global.Json))
                {
                    await context.WriteJsonAsync(node, VirtJson.Default.NodeInfo);
                    return 0;
                }

                var grid = new Grid().AddColumn().AddColumn();
                grid.AddRow("CPU model:", Markup.Escape(node.CpuModel));
                grid.AddRow("CPU(s):", node.Cpus.ToString(CultureInfo.InvariantCulture));
                grid.AddRow("CPU frequency:", $"{node.MhZ.ToString(CultureInfo.InvariantCulture)} MHz");
                grid.AddRow("CPU socket(s):", node.Sockets.ToString(CultureInfo.InvariantCulture));
                grid.AddRow("Core(s) per socket:", node.CoresPerSocket.ToString(CultureInfo.InvariantCulture));
                grid.AddRow("Thread(s) per core:", node.ThreadsPerCore.ToString(CultureInfo.InvariantCulture));
                grid.AddRow("NUMA cell(s):", node.Nodes.ToString(CultureInfo.InvariantCulture));
                grid.AddRow("Memory size:", $"{node.MemoryKiB.ToString(CultureInfo.InvariantCulture)} KiB");
                context.Console.Write(grid);
                return 0;
            });
            return command;
        }

        private Command Capabilities()
        {
            var command = new Command("capabilities", "Print the hypervisor's capabilities XML.");
            command.SetAction(async (parse, ct) =>
            {
                using var client = Client();
                await context.Output.WriteAsync(await client.GetCapabilitiesAsync(parse.GetValue(connect), ct));
                return 0;
            });
            return command;
        }

        private static Argument<string> DomainArgument() => new("DOMAIN") { Description = "Domain name or UUID." };

        private NimbusClient Client() => NimbusClient.ForUnixSocket(DaemonLocator.LocateSocket(context.Environment), TimeSpan.FromMinutes(5));

        private async Task<int> ReportAsync(ParseResult parse, DomainSummary domain, string message)
        {
            if (parse.GetValue(global.Json))
            {
                await context.WriteJsonAsync(domain, VirtJson.Default.DomainSummary);
            }
            else
            {
                await context.Output.WriteLineAsync(message);
            }

            return 0;
        }

        private static async Task<string> ReadFileAsync(FileInfo file, CancellationToken ct)
        {
            try
            {
                return await File.ReadAllTextAsync(file.FullName, ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new Platform.Errors.InvalidInputException("cli.unreadable_file", $"cannot read {file.FullName}: {ex.Message}", ex);
            }
        }

        private static string StateMarkup(DomainStatus status) => status.State switch
        {
            DomainState.Running => $"[green]{status.StateText}[/]",
            DomainState.Paused => $"[yellow]{status.StateText}[/]",
            DomainState.Crashed => $"[red]{status.StateText}[/]",
            _ => status.StateText,
        };
    }
}

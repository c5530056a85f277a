using Nimbus.Platform.Errors;
using Nimbus.Virt;
using Nimbus.Virt.Definitions;
using Nimbus.Virt.Drivers;
using Nimbus.Virt.Storage;

namespace Nimbus.Daemon.Virt;

/// <summary>
/// The local virt API under <c>/virt/v1</c>, one route per virsh verb. Served only on the local unix
/// socket: it has no authentication, so over TCP it does not exist (404). <c>?connect=URI</c> picks
/// the hypervisor connection (default qemu:///system).
/// </summary>
internal static class VirtEndpoints
{
    public static IEndpointRouteBuilder MapVirt(this IEndpointRouteBuilder endpoints)
    {
        var virt = endpoints.MapGroup("/virt/v1").AddEndpointFilter(LocalOnly.FilterAsync);

        virt.MapGet("/node", (HttpContext http, VirtConnections connections, CancellationToken ct) =>
            CallAsync(http, connections, async h => Results.Json(await h.GetNodeInfoAsync(ct), VirtJson.Default.NodeInfo)));
        virt.MapGet("/capabilities", (HttpContext http, VirtConnections connections, CancellationToken ct) =>
            CallAsync(http, connections, async h => Results.Text(await h.GetCapabilitiesAsync(ct), "application/xml")));
        virt.MapGet("/domains", (HttpContext http, VirtConnections connections, string? state, CancellationToken ct) =>
            CallAsync(http, connections, async h => Results.Json(await h.ListDomainsAsync(ParseFilter(state), ct), VirtJson.Default.IReadOnlyListDomainSummary)));
        virt.MapPost("/domains", (HttpContext http, VirtConnections connections, CancellationToken ct) =>
            CallAsync(http, connections, async h =>
            {
                var xml = await new StreamReader(http.Request.Body).ReadToEndAsync(ct);
                var defined = await h.DefineDomainAsync(xml, ct);
                return Results.Json(defined, VirtJson.Default.DomainSummary, statusCode: StatusCodes.Status201Created);
            }));
        virt.MapGet("/domains/{domain}", (HttpContext http, VirtConnections connections, string domain, CancellationToken ct) =>
            CallAsync(http, connections, async h => Results.Json(await h.GetDomainInfoAsync(domain, ct), VirtJson.Default.DomainInfo)));
        virt.MapDelete("/domains/{domain}", (HttpContext http, VirtConnections connections, string domain, bool? managedSave, CancellationToken ct) =>
            CallAsync(http, connections, async h =>
            {
                await h.UndefineDomainAsync(domain, managedSave == true ? UndefineOptions.ManagedSave : UndefineOptions.None, ct);
                return Results.NoContent();
            }));
        virt.MapGet("/domains/{domain}/xml", (HttpContext http, VirtConnections connections, string domain, CancellationToken ct) =>
            CallAsync(http, connections, async h => Results.Text(await h.GetDomainXmlAsync(domain, ct), "application/xml")));
        virt.MapGet("/domains/{domain}/state", (HttpContext http, VirtConnections connections, string domain, CancellationToken ct) =>
            CallAsync(http, connections, async h => Results.Json(await h.GetDomainStateAsync(domain, ct), VirtJson.Default.DomainStatus)));
        virt.MapPost("/domains/{domain}/{action}", (HttpContext http, VirtConnections connections, string domain, string action, CancellationToken ct) =>
            CallAsync(http, connections, async h =>
            {
                await RunActionAsync(h, domain, action, http, ct);
                return Results.Json(await h.LookupDomainAsync(domain, ct), VirtJson.Default.DomainSummary);
            }));
        virt.MapPost("/restore", (HttpContext http, VirtConnections connections, CancellationToken ct) =>
            CallAsync(http, connections, async h =>
            {
                var request = await ReadRequestAsync(http, ct);
                var file = request.File ?? throw new InvalidInputException("virt.missing_file", "restore needs the save image: {\"file\": \"/path/to/image\"}");
                return Results.Json(await h.RestoreDomainAsync(file, ct), VirtJson.Default.DomainSummary);
            }));
        virt.MapGet("/domains/{domain}/blockstats/{device}", (HttpContext http, VirtConnections connections, string domain, string device, CancellationToken ct) =>
            CallAsync(http, connections, async h => Results.Json(await h.GetBlockStatsAsync(domain, device, ct), VirtJson.Default.BlockStats)));
        virt.MapGet("/domains/{domain}/ifstats/{device}", (HttpContext http, VirtConnections connections, string domain, string device, CancellationToken ct) =>
            CallAsync(http, connections, async h => Results.Json(await h.GetInterfaceStatsAsync(domain, device, ct), VirtJson.Default.InterfaceStats)));
        virt.MapGet("/domains/{domain}/screenshot", (HttpContext http, VirtConnections connections, string domain, CancellationToken ct) =>
            CallAsync(http, connections, async h =>
            {
                var image = new MemoryStream();
                var type = await h.ScreenshotAsync(domain, image, ct);
                image.Position = 0;
                return Results.Stream(image, type);
            }));
        virt.MapGet("/domains/{domain}/console", ConsoleAsync);
        MapStorage(virt);
        return endpoints;
    }

    /// <summary>
    /// Bridges a WebSocket to the guest's serial console: binary messages carry the bytes both ways.
    /// Refusals (no such domain, not running, console in use) are answered before the upgrade.
    /// </summary>
    private static async Task ConsoleAsync(HttpContext http, VirtConnections connections, string domain)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            throw new InvalidInputException("virt.console_needs_websocket", "the console is a WebSocket: connect with an Upgrade: websocket request (nimbus virt console does)");
        }

        Stream console;
        try
        {
            var connection = await connections.GetAsync(http.Request.Query["connect"], http.RequestAborted);
            console = await connection.Hypervisor.OpenConsoleAsync(domain, http.RequestAborted);
        }
        catch (VirtException ex)
        {
            throw VirtErrors.Translate(ex);
        }

        await using (console)
        {
            using var socket = await http.WebSockets.AcceptWebSocketAsync();
            using var done = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            var toClient = Task.Run(async () =>
            {
                var buffer = new byte[4096];
                int read;
                while ((read = await console.ReadAsync(buffer, done.Token)) > 0)
                {
                    await socket.SendAsync(buffer.AsMemory(0, read), System.Net.WebSockets.WebSocketMessageType.Binary, endOfMessage: true, done.Token);
                }
            }, done.Token);
            var incoming = new byte[4096];
            try
            {
                while (true)
                {
                    var received = await socket.ReceiveAsync(incoming.AsMemory(), done.Token);
                    if (received.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
                    {
                        break;
                    }

                    await console.WriteAsync(incoming.AsMemory(0, received.Count), done.Token);
                }

                await socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "detached", CancellationToken.None);
            }
            catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException or IOException)
            {
                // The client went away, or the guest did: either ends the session.
            }
            finally
            {
                await done.CancelAsync();
                _ = toClient.ContinueWith(t => t.Exception, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Pools and volumes: pool-* and vol-* verbs. Uploads and downloads stream the body both ways.</summary>
    private static void MapStorage(RouteGroupBuilder virt)
    {
        virt.MapGet("/pools", (HttpContext http, VirtConnections connections, bool? all) =>
            StorageAsync(http, connections, async s => Results.Json(await s.ListPoolsAsync(all == true, http.RequestAborted), VirtJson.Default.IReadOnlyListPoolSummary)));
        virt.MapPost("/pools", (HttpContext http, VirtConnections connections) =>
            StorageAsync(http, connections, async s =>
            {
                var xml = await new StreamReader(http.Request.Body).ReadToEndAsync(http.RequestAborted);
                return Results.Json(await s.DefinePoolAsync(xml, http.RequestAborted), VirtJson.Default.PoolSummary, statusCode: StatusCodes.Status201Created);
            }));
        virt.MapGet("/pools/{pool}", (HttpContext http, VirtConnections connections, string pool) =>
            StorageAsync(http, connections, async s => Results.Json(await s.GetPoolInfoAsync(pool, http.RequestAborted), VirtJson.Default.PoolInfo)));
        virt.MapGet("/pools/{pool}/xml", (HttpContext http, VirtConnections connections, string pool) =>
            StorageAsync(http, connections, async s => Results.Text(await s.GetPoolXmlAsync(pool, http.RequestAborted), "application/xml")));
        virt.MapDelete("/pools/{pool}", (HttpContext http, VirtConnections connections, string pool) =>
            StorageAsync(http, connections, async s =>
            {
                await s.UndefinePoolAsync(pool, http.RequestAborted);
                return Results.NoContent();
            }));
        virt.MapPost("/pools/{pool}/{action}", (HttpContext http, VirtConnections connections, string pool, string action) =>
            StorageAsync(http, connections, async s =>
            {
                var ct = http.RequestAborted;
                var run = action switch
                {
                    "build" => s.BuildPoolAsync(pool, ct),
                    "start" => s.StartPoolAsync(pool, ct),
                    "destroy" => s.StopPoolAsync(pool, ct),
                    "delete" => s.DeletePoolAsync(pool, ct),
                    "refresh" => s.RefreshPoolAsync(pool, ct),
                    "autostart" => s.SetPoolAutostartAsync(pool, (await ReadRequestAsync(http, ct)).Autostart ?? true, ct),
                    _ => throw new NotFoundException("virt.no_action", $"there is no pool action '{action}'; the actions are build, start, destroy, delete, refresh, autostart"),
                };
                await run;
                return Results.Json(await s.GetPoolInfoAsync(pool, ct), VirtJson.Default.PoolInfo);
            }));
        virt.MapGet("/pools/{pool}/volumes", (HttpContext http, VirtConnections connections, string pool) =>
            StorageAsync(http, connections, async s => Results.Json(await s.ListVolumesAsync(pool, http.RequestAborted), VirtJson.Default.IReadOnlyListVolumeInfo)));
        virt.MapPost("/pools/{pool}/volumes", (HttpContext http, VirtConnections connections, string pool) =>
            StorageAsync(http, connections, async s =>
            {
                var ct = http.RequestAborted;
                var definition = http.Request.ContentType?.Contains("xml", StringComparison.Ordinal) == true
                    ? StorageXml.ParseVolume(await new StreamReader(http.Request.Body).ReadToEndAsync(ct))
                    : VolumeFrom(await ReadVolumeRequestAsync(http, ct));
                return Results.Json(await s.CreateVolumeAsync(pool, definition, ct), VirtJson.Default.VolumeInfo, statusCode: StatusCodes.Status201Created);
            }));
        virt.MapGet("/pools/{pool}/volumes/{volume}", (HttpContext http, VirtConnections connections, string pool, string volume) =>
            StorageAsync(http, connections, async s => Results.Json(await s.GetVolumeInfoAsync(pool, volume, http.RequestAborted), VirtJson.Default.VolumeInfo)));
        virt.MapGet("/pools/{pool}/volumes/{volume}/xml", (HttpContext http, VirtConnections connections, string pool, string volume) =>
            StorageAsync(http, connections, async s => Results.Text(StorageXml.FormatVolume(await s.GetVolumeInfoAsync(pool, volume, http.RequestAborted)), "application/xml")));
        virt.MapDelete("/pools/{pool}/volumes/{volume}", (HttpContext http, VirtConnections connections, string pool, string volume) =>
            StorageAsync(http, connections, async s =>
            {
                await s.DeleteVolumeAsync(pool, volume, http.RequestAborted);
                return Results.NoContent();
            }));
        virt.MapPost("/pools/{pool}/volumes/{volume}/{action}", (HttpContext http, VirtConnections connections, string pool, string volume, string action) =>
            StorageAsync(http, connections, async s =>
            {
                var ct = http.RequestAborted;
                switch (action)
                {
                    case "clone":
                        var name = (await ReadVolumeRequestAsync(http, ct)).Name ?? throw new InvalidInputException("virt.missing_name", "clone needs the new volume's name: {\"name\": \"copy.qcow2\"}");
                        return Results.Json(await s.CloneVolumeAsync(pool, volume, name, ct), VirtJson.Default.VolumeInfo, statusCode: StatusCodes.Status201Created);
                    case "resize":
                        var request = await ReadVolumeRequestAsync(http, ct);
                        await s.ResizeVolumeAsync(pool, volume, request.CapacityBytes ?? throw new InvalidInputException("virt.missing_capacity", "resize needs {\"capacity_bytes\": N}"), request.Shrink == true, ct);
                        break;
                    case "wipe":
                        await s.WipeVolumeAsync(pool, volume, ct);
                        break;
                    default:
                        throw new NotFoundException("virt.no_action", $"there is no volume action '{action}'; the actions are clone, resize, wipe");
                }

                return Results.Json(await s.GetVolumeInfoAsync(pool, volume, ct), VirtJson.Default.VolumeInfo);
            }));
        virt.MapPut("/pools/{pool}/volumes/{volume}/content", (HttpContext http, VirtConnections connections, string pool, string volume) =>
            StorageAsync(http, connections, async s => Results.Json(await s.UploadVolumeAsync(pool, volume, http.Request.Body, http.RequestAborted), VirtJson.Default.VolumeInfo)));
        virt.MapGet("/pools/{pool}/volumes/{volume}/content", (HttpContext http, VirtConnections connections, string pool, string volume) =>
            StorageAsync(http, connections, async s =>
            {
                var info = await s.GetVolumeInfoAsync(pool, volume, http.RequestAborted);
                http.Response.ContentType = "application/octet-stream";
                http.Response.ContentLength = (long)info.PhysicalBytes;
                await s.DownloadVolumeAsync(pool, volume, http.Response.Body, http.RequestAborted);
                return Results.Empty;
            }));
    }

    private static VolumeDefinition VolumeFrom(VolumeRequest request)
    {
        var name = request.Name ?? throw new InvalidInputException("virt.missing_name", "a volume needs a name");
        var format = request.Format is null ? VolumeFormat.Raw : ParseFormat(request.Format);
        var xml = new System.Text.StringBuilder()
            .Append("<volume><name>").Append(System.Security.SecurityElement.Escape(name)).Append("</name>")
            .Append("<capacity unit='bytes'>").Append((request.CapacityBytes ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture)).Append("</capacity>")
            .Append("<target><format type='").Append(StorageFormatName(format)).Append("'/></target></volume>");
        var definition = StorageXml.ParseVolume(xml.ToString());
        if (request.BackingVolume is null)
        {
            return definition;
        }

        if (format != VolumeFormat.Qcow2)
        {
            throw new InvalidInputException("virt.bad_backing", "only a qcow2 volume can be an overlay on a backing volume; use --format qcow2");
        }

        return definition with { BackingPath = request.BackingVolume, BackingFormat = request.BackingFormat is null ? null : ParseFormat(request.BackingFormat) };
    }

    private static VolumeFormat ParseFormat(string format) => format switch
    {
        "raw" => VolumeFormat.Raw,
        "qcow2" => VolumeFormat.Qcow2,
        "vmdk" => VolumeFormat.Vmdk,
        _ => throw new InvalidInputException("virt.bad_format", $"format '{format}' is not one of raw, qcow2, vmdk"),
    };

    private static string StorageFormatName(VolumeFormat format) => format.ToString().ToLowerInvariant();

    private static async Task<IResult> StorageAsync(HttpContext http, VirtConnections connections, Func<IStorageDriver, Task<IResult>> call)
    {
        try
        {
            var connection = await connections.GetAsync(http.Request.Query["connect"], http.RequestAborted);
            return await call(connection.Storage);
        }
        catch (VirtException ex)
        {
            throw VirtErrors.Translate(ex);
        }
    }

    private static async Task RunActionAsync(IHypervisorDriver hypervisor, string domain, string action, HttpContext http, CancellationToken ct)
    {
        switch (action)
        {
            case "start": await hypervisor.StartDomainAsync(domain, ct); break;
            case "shutdown": await hypervisor.ShutdownDomainAsync(domain, ct); break;
            case "destroy": await hypervisor.DestroyDomainAsync(domain, ct); break;
            case "reboot": await hypervisor.RebootDomainAsync(domain, ct); break;
            case "reset": await hypervisor.ResetDomainAsync(domain, ct); break;
            case "suspend": await hypervisor.SuspendDomainAsync(domain, ct); break;
            case "resume": await hypervisor.ResumeDomainAsync(domain, ct); break;
            case "managedsave": await hypervisor.ManagedSaveDomainAsync(domain, ct); break;
            case "save":
                var file = (await ReadRequestAsync(http, ct)).File ?? throw new InvalidInputException("virt.missing_file", "save needs a file: {\"file\": \"/path/to/image\"}");
                await hypervisor.SaveDomainAsync(domain, file, ct);
                break;
            case "autostart":
                var autostart = (await ReadRequestAsync(http, ct)).Autostart ?? true;
                await hypervisor.SetAutostartAsync(domain, autostart, ct);
                break;
            default:
                throw new NotFoundException("virt.no_action", $"there is no domain action '{action}'; the actions are start, shutdown, destroy, reboot, reset, suspend, resume, managedsave, save, autostart");
        }
    }

    private static async Task<IResult> CallAsync(HttpContext http, VirtConnections connections, Func<IHypervisorDriver, Task<IResult>> call)
    {
        try
        {
            var connection = await connections.GetAsync(http.Request.Query["connect"], http.RequestAborted);
            return await call(connection.Hypervisor);
        }
        catch (VirtException ex)
        {
            throw VirtErrors.Translate(ex);
        }
    }

    private static Task<VirtRequest> ReadRequestAsync(HttpContext http, CancellationToken ct) =>
        ReadBodyAsync(http, VirtJson.Default.VirtRequest, ct);

    private static Task<VolumeRequest> ReadVolumeRequestAsync(HttpContext http, CancellationToken ct) =>
        ReadBodyAsync(http, VirtJson.Default.VolumeRequest, ct);

    /// <summary>An optional JSON body: none means all defaults, malformed JSON is refused.</summary>
    private static async Task<T> ReadBodyAsync<T>(HttpContext http, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct)
        where T : new()
    {
        try
        {
            return await http.Request.ReadFromJsonAsync(type, ct) ?? new T();
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new InvalidInputException("virt.bad_request", $"the request body is not valid JSON: {ex.Message}", ex);
        }
    }

    private static ListFilter ParseFilter(string? state) => state switch
    {
        null or "active" => ListFilter.Active,
        "inactive" => ListFilter.Inactive,
        "all" => ListFilter.All,
        _ => throw new InvalidInputException("virt.bad_filter", $"state '{state}' is not one of active, inactive, all"),
    };
}

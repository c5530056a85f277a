using Nimbus.Platform.Errors;
using Nimbus.Virt;
using Nimbus.Virt.Drivers;

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
        var virt = endpoints.MapGroup("/virt/v1").AddEndpointFilter(LocalOnlyAsync);

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
        return endpoints;
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

    private static async Task<VirtRequest> ReadRequestAsync(HttpContext http, CancellationToken ct)
    {
        try
        {
            return await http.Request.ReadFromJsonAsync(VirtJson.Default.VirtRequest, ct) ?? new VirtRequest();
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

    /// <summary>Kestrel gives every TCP connection a local IP address and unix-socket connections none.</summary>
    private static async ValueTask<object?> LocalOnlyAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (context.HttpContext.Connection.LocalIpAddress is not null)
        {
            return Results.NotFound();
        }

        return await next(context);
    }
}

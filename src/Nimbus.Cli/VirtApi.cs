using System.Net.Http.Json;
using System.Text;
using Nimbus.Client;
using Nimbus.Virt;
using Nimbus.Virt.Drivers;

namespace Nimbus.Cli;

/// <summary>
/// The local virt API (<c>/virt/v1</c>, unix socket only) over <see cref="NimbusClient"/>. Its wire types are
/// Nimbus.Virt's own definitions, so it lives here, beside the virsh-like commands, and not in Nimbus.Client
/// (which depends on Platform only). <c>connect</c> is the hypervisor URI; null means qemu:///system.
/// </summary>
internal static partial class VirtApi
{
    public static Task<NodeInfo> GetNodeInfoAsync(this NimbusClient client, string? connect, CancellationToken cancellationToken) =>
        client.GetJsonAsync(Virt("node", connect), VirtJson.Default.NodeInfo, cancellationToken);

    public static Task<string> GetCapabilitiesAsync(this NimbusClient client, string? connect, CancellationToken cancellationToken) =>
        client.GetTextAsync(Virt("capabilities", connect), cancellationToken);

    public static Task<IReadOnlyList<DomainSummary>> ListDomainsAsync(this NimbusClient client, string? connect, ListFilter filter, CancellationToken cancellationToken)
    {
        var state = filter switch
        {
            ListFilter.All => "all",
            ListFilter.Inactive => "inactive",
            _ => "active",
        };
        return client.GetJsonAsync(Virt("domains", connect, $"state={state}"), VirtJson.Default.IReadOnlyListDomainSummary, cancellationToken);
    }

    public static async Task<DomainSummary> DefineDomainAsync(this NimbusClient client, string? connect, string xml, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt("domains", connect))
        {
            Content = new StringContent(xml, Encoding.UTF8, "application/xml"),
        };
        return await client.ReadJsonAsync(request, VirtJson.Default.DomainSummary, cancellationToken);
    }

    public static async Task UndefineDomainAsync(this NimbusClient client, string? connect, string domain, bool managedSave, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, Virt($"domains/{Uri.EscapeDataString(domain)}", connect, managedSave ? "managedSave=true" : null));
        using var _ = await client.SendCheckedAsync(request, cancellationToken);
    }

    public static Task<DomainInfo> GetDomainInfoAsync(this NimbusClient client, string? connect, string domain, CancellationToken cancellationToken) =>
        client.GetJsonAsync(Virt($"domains/{Uri.EscapeDataString(domain)}", connect), VirtJson.Default.DomainInfo, cancellationToken);

    public static Task<DomainStatus> GetDomainStateAsync(this NimbusClient client, string? connect, string domain, CancellationToken cancellationToken) =>
        client.GetJsonAsync(Virt($"domains/{Uri.EscapeDataString(domain)}/state", connect), VirtJson.Default.DomainStatus, cancellationToken);

    public static Task<string> GetDomainXmlAsync(this NimbusClient client, string? connect, string domain, CancellationToken cancellationToken) =>
        client.GetTextAsync(Virt($"domains/{Uri.EscapeDataString(domain)}/xml", connect), cancellationToken);

    /// <summary>start, shutdown, destroy, reboot, reset, suspend, resume, managedsave, save, autostart.</summary>
    public static async Task<DomainSummary> DomainActionAsync(this NimbusClient client, string? connect, string domain, string action, VirtRequest? arguments, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt($"domains/{Uri.EscapeDataString(domain)}/{action}", connect))
        {
            Content = arguments is null ? null : JsonContent.Create(arguments, VirtJson.Default.VirtRequest),
        };
        return await client.ReadJsonAsync(request, VirtJson.Default.DomainSummary, cancellationToken);
    }

    public static async Task<DomainSummary> RestoreDomainAsync(this NimbusClient client, string? connect, string file, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt("restore", connect))
        {
            Content = JsonContent.Create(new VirtRequest { File = file }, VirtJson.Default.VirtRequest),
        };
        return await client.ReadJsonAsync(request, VirtJson.Default.DomainSummary, cancellationToken);
    }

    public static Task<BlockStats> GetBlockStatsAsync(this NimbusClient client, string? connect, string domain, string device, CancellationToken cancellationToken) =>
        client.GetJsonAsync(Virt($"domains/{Uri.EscapeDataString(domain)}/blockstats/{Uri.EscapeDataString(device)}", connect), VirtJson.Default.BlockStats, cancellationToken);

    public static Task<InterfaceStats> GetInterfaceStatsAsync(this NimbusClient client, string? connect, string domain, string device, CancellationToken cancellationToken) =>
        client.GetJsonAsync(Virt($"domains/{Uri.EscapeDataString(domain)}/ifstats/{Uri.EscapeDataString(device)}", connect), VirtJson.Default.InterfaceStats, cancellationToken);

    /// <summary>Writes the screenshot to <paramref name="output"/> and returns its MIME type.</summary>
    public static async Task<string> ScreenshotAsync(this NimbusClient client, string? connect, string domain, Stream output, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Virt($"domains/{Uri.EscapeDataString(domain)}/screenshot", connect));
        using var response = await client.SendCheckedAsync(request, cancellationToken);
        await response.Content.CopyToAsync(output, cancellationToken);
        return response.Content.Headers.ContentType?.MediaType ?? "application/octet-stream";
    }

    /// <summary>Attaches to a running domain's serial console: a WebSocket whose binary messages are its bytes.</summary>
    public static async Task<System.Net.WebSockets.WebSocket> OpenConsoleAsync(this NimbusClient client, string? connect, string domain, CancellationToken cancellationToken)
    {
        // Asked first so that "no such domain" and "not running" come back with their own words.
        var state = await client.GetDomainStateAsync(connect, domain, cancellationToken);
        if (!state.IsActive)
        {
            throw new Nimbus.Platform.Errors.ConflictException("virt.operation_invalid", $"domain '{domain}' is {state.StateText}; start it before attaching to its console");
        }

        var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await client.ConnectWebSocketAsync(socket, Virt($"domains/{Uri.EscapeDataString(domain)}/console", connect), cancellationToken);
            return socket;
        }
        catch (System.Net.WebSockets.WebSocketException ex)
        {
            var status = (int)socket.HttpStatusCode;
            socket.Dispose();
            throw status switch
            {
                409 => new Nimbus.Platform.Errors.ConflictException("virt.console_busy", $"the console of '{domain}' is in use by another session, or the domain has no <serial type='pty'/> to attach to", ex),
                501 => new Nimbus.Platform.Errors.UnsupportedException("virt.no_support", $"this connection's driver has no consoles"),
                _ => new Nimbus.Platform.Errors.ServiceUnavailableException("client.console_failed", $"cannot attach to the console of '{domain}': {ex.Message}", ex),
            };
        }
    }

    internal static string Virt(string path, string? connect, string? query = null)
    {
        var parameters = new[] { connect is null ? null : "connect=" + Uri.EscapeDataString(connect), query }.Where(p => p is not null);
        var joined = string.Join('&', parameters);
        return joined.Length == 0 ? $"/virt/v1/{path}" : $"/virt/v1/{path}?{joined}";
    }
}

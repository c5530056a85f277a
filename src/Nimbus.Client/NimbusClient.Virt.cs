using System.Net.Http.Json;
using System.Text;
using Nimbus.Virt;
using Nimbus.Virt.Drivers;

namespace Nimbus.Client;

/// <summary>The local virt API (<c>/virt/v1</c>, unix socket only). <c>connect</c> is the hypervisor URI; null means qemu:///system.</summary>
public sealed partial class NimbusClient
{
    public Task<NodeInfo> GetNodeInfoAsync(string? connect, CancellationToken cancellationToken) =>
        GetJsonAsync(Virt("node", connect), VirtJson.Default.NodeInfo, cancellationToken);

    public Task<string> GetCapabilitiesAsync(string? connect, CancellationToken cancellationToken) =>
        GetTextAsync(Virt("capabilities", connect), cancellationToken);

    public Task<IReadOnlyList<DomainSummary>> ListDomainsAsync(string? connect, ListFilter filter, CancellationToken cancellationToken)
    {
        var state = filter switch
        {
            ListFilter.All => "all",
            ListFilter.Inactive => "inactive",
            _ => "active",
        };
        return GetJsonAsync(Virt("domains", connect, $"state={state}"), VirtJson.Default.IReadOnlyListDomainSummary, cancellationToken);
    }

    public async Task<DomainSummary> DefineDomainAsync(string? connect, string xml, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt("domains", connect))
        {
            Content = new StringContent(xml, Encoding.UTF8, "application/xml"),
        };
        return await ReadJsonAsync(request, VirtJson.Default.DomainSummary, cancellationToken);
    }

    public async Task UndefineDomainAsync(string? connect, string domain, bool managedSave, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, Virt($"domains/{Uri.EscapeDataString(domain)}", connect, managedSave ? "managedSave=true" : null));
        using var _ = await SendCheckedAsync(request, cancellationToken);
    }

    public Task<DomainInfo> GetDomainInfoAsync(string? connect, string domain, CancellationToken cancellationToken) =>
        GetJsonAsync(Virt($"domains/{Uri.EscapeDataString(domain)}", connect), VirtJson.Default.DomainInfo, cancellationToken);

    public Task<DomainStatus> GetDomainStateAsync(string? connect, string domain, CancellationToken cancellationToken) =>
        GetJsonAsync(Virt($"domains/{Uri.EscapeDataString(domain)}/state", connect), VirtJson.Default.DomainStatus, cancellationToken);

    public Task<string> GetDomainXmlAsync(string? connect, string domain, CancellationToken cancellationToken) =>
        GetTextAsync(Virt($"domains/{Uri.EscapeDataString(domain)}/xml", connect), cancellationToken);

    /// <summary>start, shutdown, destroy, reboot, reset, suspend, resume, managedsave, save, autostart.</summary>
    public async Task<DomainSummary> DomainActionAsync(string? connect, string domain, string action, VirtRequest? arguments, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt($"domains/{Uri.EscapeDataString(domain)}/{action}", connect))
        {
            Content = arguments is null ? null : JsonContent.Create(arguments, VirtJson.Default.VirtRequest),
        };
        return await ReadJsonAsync(request, VirtJson.Default.DomainSummary, cancellationToken);
    }

    public async Task<DomainSummary> RestoreDomainAsync(string? connect, string file, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt("restore", connect))
        {
            Content = JsonContent.Create(new VirtRequest { File = file }, VirtJson.Default.VirtRequest),
        };
        return await ReadJsonAsync(request, VirtJson.Default.DomainSummary, cancellationToken);
    }

    public Task<BlockStats> GetBlockStatsAsync(string? connect, string domain, string device, CancellationToken cancellationToken) =>
        GetJsonAsync(Virt($"domains/{Uri.EscapeDataString(domain)}/blockstats/{Uri.EscapeDataString(device)}", connect), VirtJson.Default.BlockStats, cancellationToken);

    public Task<InterfaceStats> GetInterfaceStatsAsync(string? connect, string domain, string device, CancellationToken cancellationToken) =>
        GetJsonAsync(Virt($"domains/{Uri.EscapeDataString(domain)}/ifstats/{Uri.EscapeDataString(device)}", connect), VirtJson.Default.InterfaceStats, cancellationToken);

    /// <summary>Writes the screenshot to <paramref name="output"/> and returns its MIME type.</summary>
    public async Task<string> ScreenshotAsync(string? connect, string domain, Stream output, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Virt($"domains/{Uri.EscapeDataString(domain)}/screenshot", connect));
        using var response = await SendCheckedAsync(request, cancellationToken);
        await response.Content.CopyToAsync(output, cancellationToken);
        return response.Content.Headers.ContentType?.MediaType ?? "application/octet-stream";
    }

    /// <summary>Attaches to a running domain's serial console: a WebSocket whose binary messages are its bytes.</summary>
    public async Task<System.Net.WebSockets.WebSocket> OpenConsoleAsync(string? connect, string domain, CancellationToken cancellationToken)
    {
        // Asked first so that "no such domain" and "not running" come back with their own words.
        var state = await GetDomainStateAsync(connect, domain, cancellationToken);
        if (!state.IsActive)
        {
            throw new Platform.Errors.ConflictException("virt.operation_invalid", $"domain '{domain}' is {state.StateText}; start it before attaching to its console");
        }

        var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            var uri = new Uri(new Uri(BaseUrl.ToString().Replace("http://", "ws://", StringComparison.Ordinal)), Virt($"domains/{Uri.EscapeDataString(domain)}/console", connect));
            await socket.ConnectAsync(uri, new HttpMessageInvoker(_handler, disposeHandler: false), cancellationToken);
            return socket;
        }
        catch (System.Net.WebSockets.WebSocketException ex)
        {
            var status = (int)socket.HttpStatusCode;
            socket.Dispose();
            throw status switch
            {
                409 => new Platform.Errors.ConflictException("virt.console_busy", $"the console of '{domain}' is in use by another session, or the domain has no <serial type='pty'/> to attach to", ex),
                501 => new Platform.Errors.UnsupportedException("virt.no_support", $"this connection's driver has no consoles"),
                _ => new Platform.Errors.ServiceUnavailableException("client.console_failed", $"cannot attach to the console of '{domain}': {ex.Message}", ex),
            };
        }
    }

    private static string Virt(string path, string? connect, string? query = null)
    {
        var parameters = new[] { connect is null ? null : "connect=" + Uri.EscapeDataString(connect), query }.Where(p => p is not null);
        var joined = string.Join('&', parameters);
        return joined.Length == 0 ? $"/virt/v1/{path}" : $"/virt/v1/{path}?{joined}";
    }

    private async Task<T> GetJsonAsync<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        return await ReadJsonAsync(request, type, cancellationToken);
    }

    private async Task<T> ReadJsonAsync<T>(HttpRequestMessage request, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var response = await SendCheckedAsync(request, cancellationToken);
        return await response.Content.ReadFromJsonAsync(type, cancellationToken)
            ?? throw new Platform.Errors.ServiceUnavailableException("client.bad_response", $"{request.RequestUri} answered with an empty body");
    }

    private async Task<string> GetTextAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await SendCheckedAsync(request, cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }
}

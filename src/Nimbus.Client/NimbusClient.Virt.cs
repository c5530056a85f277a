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

using System.Net.Http.Json;
using System.Text;
using Nimbus.Virt;
using Nimbus.Virt.Definitions;
using Nimbus.Virt.Storage;

namespace Nimbus.Client;

/// <summary>Storage pools and volumes of the local virt API. <c>connect</c> is the hypervisor URI; null means qemu:///system.</summary>
public sealed partial class NimbusClient
{
    public Task<IReadOnlyList<PoolSummary>> ListPoolsAsync(string? connect, bool all, CancellationToken cancellationToken) =>
        GetJsonAsync(Virt("pools", connect, all ? "all=true" : null), VirtJson.Default.IReadOnlyListPoolSummary, cancellationToken);

    public async Task<PoolSummary> DefinePoolAsync(string? connect, string xml, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt("pools", connect)) { Content = new StringContent(xml, Encoding.UTF8, "application/xml") };
        return await ReadJsonAsync(request, VirtJson.Default.PoolSummary, cancellationToken);
    }

    /// <summary>build, start, destroy, delete, refresh, autostart.</summary>
    public async Task<PoolInfo> PoolActionAsync(string? connect, string pool, string action, VirtRequest? arguments, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt($"pools/{Uri.EscapeDataString(pool)}/{action}", connect))
        {
            Content = arguments is null ? null : JsonContent.Create(arguments, VirtJson.Default.VirtRequest),
        };
        return await ReadJsonAsync(request, VirtJson.Default.PoolInfo, cancellationToken);
    }

    public async Task UndefinePoolAsync(string? connect, string pool, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, Virt($"pools/{Uri.EscapeDataString(pool)}", connect));
        using var _ = await SendCheckedAsync(request, cancellationToken);
    }

    public Task<PoolInfo> GetPoolInfoAsync(string? connect, string pool, CancellationToken cancellationToken) =>
        GetJsonAsync(Virt($"pools/{Uri.EscapeDataString(pool)}", connect), VirtJson.Default.PoolInfo, cancellationToken);

    public Task<string> GetPoolXmlAsync(string? connect, string pool, CancellationToken cancellationToken) =>
        GetTextAsync(Virt($"pools/{Uri.EscapeDataString(pool)}/xml", connect), cancellationToken);

    public Task<IReadOnlyList<VolumeInfo>> ListVolumesAsync(string? connect, string pool, CancellationToken cancellationToken) =>
        GetJsonAsync(Virt($"pools/{Uri.EscapeDataString(pool)}/volumes", connect), VirtJson.Default.IReadOnlyListVolumeInfo, cancellationToken);

    public async Task<VolumeInfo> CreateVolumeAsync(string? connect, string pool, VolumeRequest volume, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt($"pools/{Uri.EscapeDataString(pool)}/volumes", connect))
        {
            Content = JsonContent.Create(volume, VirtJson.Default.VolumeRequest),
        };
        return await ReadJsonAsync(request, VirtJson.Default.VolumeInfo, cancellationToken);
    }

    public async Task<VolumeInfo> CreateVolumeFromXmlAsync(string? connect, string pool, string xml, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt($"pools/{Uri.EscapeDataString(pool)}/volumes", connect))
        {
            Content = new StringContent(xml, Encoding.UTF8, "application/xml"),
        };
        return await ReadJsonAsync(request, VirtJson.Default.VolumeInfo, cancellationToken);
    }

    /// <summary>clone, resize, wipe.</summary>
    public async Task<VolumeInfo> VolumeActionAsync(string? connect, string pool, string volume, string action, VolumeRequest? arguments, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt($"pools/{Uri.EscapeDataString(pool)}/volumes/{Uri.EscapeDataString(volume)}/{action}", connect))
        {
            Content = arguments is null ? null : JsonContent.Create(arguments, VirtJson.Default.VolumeRequest),
        };
        return await ReadJsonAsync(request, VirtJson.Default.VolumeInfo, cancellationToken);
    }

    public async Task DeleteVolumeAsync(string? connect, string pool, string volume, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, Virt($"pools/{Uri.EscapeDataString(pool)}/volumes/{Uri.EscapeDataString(volume)}", connect));
        using var _ = await SendCheckedAsync(request, cancellationToken);
    }

    public Task<VolumeInfo> GetVolumeInfoAsync(string? connect, string pool, string volume, CancellationToken cancellationToken) =>
        GetJsonAsync(Virt($"pools/{Uri.EscapeDataString(pool)}/volumes/{Uri.EscapeDataString(volume)}", connect), VirtJson.Default.VolumeInfo, cancellationToken);

    public Task<string> GetVolumeXmlAsync(string? connect, string pool, string volume, CancellationToken cancellationToken) =>
        GetTextAsync(Virt($"pools/{Uri.EscapeDataString(pool)}/volumes/{Uri.EscapeDataString(volume)}/xml", connect), cancellationToken);

    /// <summary>Streams <paramref name="content"/> into the volume; the daemon checks its format before replacing anything.</summary>
    public async Task<VolumeInfo> UploadVolumeAsync(string? connect, string pool, string volume, Stream content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, Virt($"pools/{Uri.EscapeDataString(pool)}/volumes/{Uri.EscapeDataString(volume)}/content", connect))
        {
            Content = new StreamContent(content, 1 << 20),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        return await ReadJsonAsync(request, VirtJson.Default.VolumeInfo, cancellationToken);
    }

    /// <summary>Streams the volume into the stream <paramref name="destination"/> makes, given the size the daemon announced.</summary>
    public async Task DownloadVolumeAsync(string? connect, string pool, string volume, Func<long?, Stream> destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var request = new HttpRequestMessage(HttpMethod.Get, Virt($"pools/{Uri.EscapeDataString(pool)}/volumes/{Uri.EscapeDataString(volume)}/content", connect));
        using var response = await SendCheckedAsync(request, cancellationToken);
        await using var output = destination(response.Content.Headers.ContentLength);
        await response.Content.CopyToAsync(output, cancellationToken);
    }
}

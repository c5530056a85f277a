using System.Net.Http.Json;
using System.Text;
using Nimbus.Client;
using Nimbus.Virt;
using Nimbus.Virt.Definitions;
using Nimbus.Virt.Storage;

namespace Nimbus.Cli;

/// <summary>Storage pools and volumes of the local virt API. <c>connect</c> is the hypervisor URI; null means qemu:///system.</summary>
internal static partial class VirtApi
{
    public static Task<IReadOnlyList<PoolSummary>> ListPoolsAsync(this NimbusClient client, string? connect, bool all, CancellationToken cancellationToken) =>
        client.GetJsonAsync(Virt("pools", connect, all ? "all=true" : null), VirtJson.Default.IReadOnlyListPoolSummary, cancellationToken);

    public static async Task<PoolSummary> DefinePoolAsync(this NimbusClient client, string? connect, string xml, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt("pools", connect)) { Content = new StringContent(xml, Encoding.UTF8, "application/xml") };
        return await client.ReadJsonAsync(request, VirtJson.Default.PoolSummary, cancellationToken);
    }

    /// <summary>build, start, destroy, delete, refresh, autostart.</summary>
    public static async Task<PoolInfo> PoolActionAsync(this NimbusClient client, string? connect, string pool, string action, VirtRequest? arguments, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt($"pools/{Uri.EscapeDataString(pool)}/{action}", connect))
        {
            Content = arguments is null ? null : JsonContent.Create(arguments, VirtJson.Default.VirtRequest),
        };
        return await client.ReadJsonAsync(request, VirtJson.Default.PoolInfo, cancellationToken);
    }

    public static async Task UndefinePoolAsync(this NimbusClient client, string? connect, string pool, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, Virt($"pools/{Uri.EscapeDataString(pool)}", connect));
        using var _ = await client.SendCheckedAsync(request, cancellationToken);
    }

    public static Task<PoolInfo> GetPoolInfoAsync(this NimbusClient client, string? connect, string pool, CancellationToken cancellationToken) =>
        client.GetJsonAsync(Virt($"pools/{Uri.EscapeDataString(pool)}", connect), VirtJson.Default.PoolInfo, cancellationToken);

    public static Task<string> GetPoolXmlAsync(this NimbusClient client, string? connect, string pool, CancellationToken cancellationToken) =>
        client.GetTextAsync(Virt($"pools/{Uri.EscapeDataString(pool)}/xml", connect), cancellationToken);

    public static Task<IReadOnlyList<VolumeInfo>> ListVolumesAsync(this NimbusClient client, string? connect, string pool, CancellationToken cancellationToken) =>
        client.GetJsonAsync(Virt($"pools/{Uri.EscapeDataString(pool)}/volumes", connect), VirtJson.Default.IReadOnlyListVolumeInfo, cancellationToken);

    public static async Task<VolumeInfo> CreateVolumeAsync(this NimbusClient client, string? connect, string pool, VolumeRequest volume, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt($"pools/{Uri.EscapeDataString(pool)}/volumes", connect))
        {
            Content = JsonContent.Create(volume, VirtJson.Default.VolumeRequest),
        };
        return await client.ReadJsonAsync(request, VirtJson.Default.VolumeInfo, cancellationToken);
    }

    public static async Task<VolumeInfo> CreateVolumeFromXmlAsync(this NimbusClient client, string? connect, string pool, string xml, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt($"pools/{Uri.EscapeDataString(pool)}/volumes", connect))
        {
            Content = new StringContent(xml, Encoding.UTF8, "application/xml"),
        };
        return await client.ReadJsonAsync(request, VirtJson.Default.VolumeInfo, cancellationToken);
    }

    /// <summary>clone, resize, wipe.</summary>
    public static async Task<VolumeInfo> VolumeActionAsync(this NimbusClient client, string? connect, string pool, string volume, string action, VolumeRequest? arguments, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Virt($"pools/{Uri.EscapeDataString(pool)}/volumes/{Uri.EscapeDataString(volume)}/{action}", connect))
        {
            Content = arguments is null ? null : JsonContent.Create(arguments, VirtJson.Default.VolumeRequest),
        };
        return await client.ReadJsonAsync(request, VirtJson.Default.VolumeInfo, cancellationToken);
    }

    public static async Task DeleteVolumeAsync(this NimbusClient client, string? connect, string pool, string volume, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, Virt($"pools/{Uri.EscapeDataString(pool)}/volumes/{Uri.EscapeDataString(volume)}", connect));
        using var _ = await client.SendCheckedAsync(request, cancellationToken);
    }

    public static Task<VolumeInfo> GetVolumeInfoAsync(this NimbusClient client, string? connect, string pool, string volume, CancellationToken cancellationToken) =>
        client.GetJsonAsync(Virt($"pools/{Uri.EscapeDataString(pool)}/volumes/{Uri.EscapeDataString(volume)}", connect), VirtJson.Default.VolumeInfo, cancellationToken);

    public static Task<string> GetVolumeXmlAsync(this NimbusClient client, string? connect, string pool, string volume, CancellationToken cancellationToken) =>
        client.GetTextAsync(Virt($"pools/{Uri.EscapeDataString(pool)}/volumes/{Uri.EscapeDataString(volume)}/xml", connect), cancellationToken);

    /// <summary>Streams <paramref name="content"/> into the volume; the daemon checks its format before replacing anything.</summary>
    public static async Task<VolumeInfo> UploadVolumeAsync(this NimbusClient client, string? connect, string pool, string volume, Stream content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, Virt($"pools/{Uri.EscapeDataString(pool)}/volumes/{Uri.EscapeDataString(volume)}/content", connect))
        {
            Content = new StreamContent(content, 1 << 20),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        return await client.ReadJsonAsync(request, VirtJson.Default.VolumeInfo, cancellationToken);
    }

    /// <summary>Streams the volume into the stream <paramref name="destination"/> makes, given the size the daemon announced.</summary>
    public static async Task DownloadVolumeAsync(this NimbusClient client, string? connect, string pool, string volume, Func<long?, Stream> destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var request = new HttpRequestMessage(HttpMethod.Get, Virt($"pools/{Uri.EscapeDataString(pool)}/volumes/{Uri.EscapeDataString(volume)}/content", connect));
        using var response = await client.SendCheckedAsync(request, cancellationToken);
        await using var output = destination(response.Content.Headers.ContentLength);
        await response.Content.CopyToAsync(output, cancellationToken);
    }
}

using System.Text.Json.Serialization;
using Nimbus.Virt.Drivers;

namespace Nimbus.Virt;

/// <summary>The JSON shape of the virtualization records, shared by the daemon's local API and its clients.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UseStringEnumConverter = true,
    WriteIndented = false)]
[JsonSerializable(typeof(DomainSummary))]
[JsonSerializable(typeof(IReadOnlyList<DomainSummary>))]
[JsonSerializable(typeof(DomainInfo))]
[JsonSerializable(typeof(DomainStatus))]
[JsonSerializable(typeof(NodeInfo))]
[JsonSerializable(typeof(BlockStats))]
[JsonSerializable(typeof(InterfaceStats))]
[JsonSerializable(typeof(VirtRequest))]
public sealed partial class VirtJson : JsonSerializerContext;

/// <summary>Arguments of the local API calls that take more than a domain name.</summary>
public sealed record VirtRequest
{
    /// <summary>A save image path (save, restore).</summary>
    public string? File { get; init; }

    public bool? Autostart { get; init; }
}

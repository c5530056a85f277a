using System.Text.Json.Serialization;
using Nimbus.Virt.Definitions;
using Nimbus.Virt.Drivers;
using Nimbus.Virt.Storage;

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
[JsonSerializable(typeof(PoolSummary))]
[JsonSerializable(typeof(IReadOnlyList<PoolSummary>))]
[JsonSerializable(typeof(PoolInfo))]
[JsonSerializable(typeof(VolumeInfo))]
[JsonSerializable(typeof(IReadOnlyList<VolumeInfo>))]
[JsonSerializable(typeof(VolumeRequest))]
public sealed partial class VirtJson : JsonSerializerContext;

/// <summary>Arguments of the local API calls that take more than a domain name.</summary>
public sealed record VirtRequest
{
    /// <summary>A save image path (save, restore).</summary>
    public string? File { get; init; }

    public bool? Autostart { get; init; }
}

/// <summary>vol-create-as, vol-clone and vol-resize arguments; sizes in bytes.</summary>
public sealed record VolumeRequest
{
    public string? Name { get; init; }

    public ulong? CapacityBytes { get; init; }

    public string? Format { get; init; }

    /// <summary>A volume of the same pool (by name) or a path to put a copy-on-write overlay on.</summary>
    public string? BackingVolume { get; init; }

    public string? BackingFormat { get; init; }

    public bool? Shrink { get; init; }
}

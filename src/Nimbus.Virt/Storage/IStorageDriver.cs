using System.Text.Json.Serialization;
using Nimbus.Virt.Definitions;

namespace Nimbus.Virt.Storage;

public enum PoolState
{
    [JsonStringEnumMemberName("inactive")]
    Inactive,

    [JsonStringEnumMemberName("running")]
    Running,
}

/// <summary>One line of <c>pool-list</c>.</summary>
public sealed record PoolSummary(string Name, Guid Uuid, PoolState State, bool Autostart, bool Persistent);

/// <summary>virStoragePoolInfo: what <c>pool-info</c> shows; sizes in bytes, zero while inactive.</summary>
public sealed record PoolInfo(PoolSummary Summary, ulong CapacityBytes, ulong AllocationBytes, ulong AvailableBytes);

/// <summary>
/// Storage pools and their volumes (libvirt's virStorageDriver). Pools and volumes are named;
/// a volume is named within its pool. A refused operation changes nothing.
/// </summary>
public interface IStorageDriver : IAsyncDisposable
{
    Task<IReadOnlyList<PoolSummary>> ListPoolsAsync(bool includeInactive, CancellationToken cancellationToken);

    Task<PoolSummary> DefinePoolAsync(string xml, CancellationToken cancellationToken);

    /// <summary>Creates what the pool stands on (the directory of a dir pool).</summary>
    Task BuildPoolAsync(string pool, CancellationToken cancellationToken);

    Task StartPoolAsync(string pool, CancellationToken cancellationToken);

    /// <summary>Deactivates the pool (virsh pool-destroy); its volumes are untouched.</summary>
    Task StopPoolAsync(string pool, CancellationToken cancellationToken);

    /// <summary>Removes what <see cref="BuildPoolAsync"/> made; refused while the pool holds volumes.</summary>
    Task DeletePoolAsync(string pool, CancellationToken cancellationToken);

    Task UndefinePoolAsync(string pool, CancellationToken cancellationToken);

    Task RefreshPoolAsync(string pool, CancellationToken cancellationToken);

    Task SetPoolAutostartAsync(string pool, bool autostart, CancellationToken cancellationToken);

    Task<PoolInfo> GetPoolInfoAsync(string pool, CancellationToken cancellationToken);

    Task<string> GetPoolXmlAsync(string pool, CancellationToken cancellationToken);

    Task<IReadOnlyList<VolumeInfo>> ListVolumesAsync(string pool, CancellationToken cancellationToken);

    /// <summary>Creates an empty volume, or a copy-on-write overlay when the definition names a backing volume.</summary>
    Task<VolumeInfo> CreateVolumeAsync(string pool, VolumeDefinition volume, CancellationToken cancellationToken);

    /// <summary>A full, independent copy of <paramref name="source"/> in the same pool.</summary>
    Task<VolumeInfo> CloneVolumeAsync(string pool, string source, string name, CancellationToken cancellationToken);

    Task DeleteVolumeAsync(string pool, string volume, CancellationToken cancellationToken);

    /// <summary>Grows the virtual size; shrinking is refused unless <paramref name="allowShrink"/>.</summary>
    Task ResizeVolumeAsync(string pool, string volume, ulong capacityBytes, bool allowShrink, CancellationToken cancellationToken);

    /// <summary>Destroys the volume's data, keeping it: zeros for raw, a fresh image for qcow2 and vmdk.</summary>
    Task WipeVolumeAsync(string pool, string volume, CancellationToken cancellationToken);

    Task<VolumeInfo> GetVolumeInfoAsync(string pool, string volume, CancellationToken cancellationToken);

    /// <summary>Replaces the volume's content with <paramref name="content"/>, streamed; refused when its header is not the volume's format.</summary>
    Task<VolumeInfo> UploadVolumeAsync(string pool, string volume, Stream content, CancellationToken cancellationToken);

    Task DownloadVolumeAsync(string pool, string volume, Stream destination, CancellationToken cancellationToken);
}

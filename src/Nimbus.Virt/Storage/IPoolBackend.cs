using Nimbus.Virt.Definitions;

namespace Nimbus.Virt.Storage;

/// <summary>
/// What one pool type does with the host (libvirt's virStorageBackend): dir now; logical (LVM)
/// and netfs implement the same interface when they arrive.
/// </summary>
internal interface IPoolBackend
{
    Task BuildAsync(PoolDefinition pool, CancellationToken cancellationToken);

    /// <summary>Refuses to start a pool whose storage is not there.</summary>
    Task CheckAsync(PoolDefinition pool, CancellationToken cancellationToken);

    Task DeleteAsync(PoolDefinition pool, CancellationToken cancellationToken);

    Task<(ulong Capacity, ulong Allocation, ulong Available)> CapacityAsync(PoolDefinition pool, CancellationToken cancellationToken);

    IReadOnlyList<string> VolumeNames(PoolDefinition pool);

    /// <summary>The path of a volume found in the pool's own list; refuses any other name with the "no storage vol" error.</summary>
    string FindVolume(PoolDefinition pool, string volume);

    Task<VolumeInfo> InfoAsync(PoolDefinition pool, string volume, CancellationToken cancellationToken);

    Task CreateAsync(PoolDefinition pool, VolumeDefinition volume, CancellationToken cancellationToken);

    Task CloneAsync(PoolDefinition pool, VolumeInfo source, string name, CancellationToken cancellationToken);

    Task DeleteVolumeAsync(PoolDefinition pool, VolumeInfo volume, CancellationToken cancellationToken);

    Task ResizeAsync(PoolDefinition pool, VolumeInfo volume, ulong capacity, bool shrink, CancellationToken cancellationToken);

    Task WipeAsync(PoolDefinition pool, VolumeInfo volume, CancellationToken cancellationToken);

    Task UploadAsync(PoolDefinition pool, VolumeInfo volume, Stream content, CancellationToken cancellationToken);
}

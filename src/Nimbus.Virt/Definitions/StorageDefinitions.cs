namespace Nimbus.Virt.Definitions;

/// <summary>Pool types; only <c>dir</c> has a backend now, the interface leaves room for logical and netfs.</summary>
public enum PoolType
{
    Dir,
    Logical,
    Netfs,
}

/// <summary>A storage pool as libvirt's pool XML describes it (formatstorage).</summary>
public sealed record PoolDefinition
{
    public PoolType Type { get; init; } = PoolType.Dir;

    public required string Name { get; init; }

    public required Guid Uuid { get; init; }

    /// <summary>The directory (dir), volume group device path (logical) or mount point (netfs).</summary>
    public required string TargetPath { get; init; }

    /// <summary>Octal permission bits of the target directory, as libvirt writes them (0711).</summary>
    public string? Mode { get; init; }
}

public enum VolumeFormat
{
    [System.Text.Json.Serialization.JsonStringEnumMemberName("raw")]
    Raw,

    [System.Text.Json.Serialization.JsonStringEnumMemberName("qcow2")]
    Qcow2,

    [System.Text.Json.Serialization.JsonStringEnumMemberName("vmdk")]
    Vmdk,
}

/// <summary>A storage volume as libvirt's volume XML describes it.</summary>
public sealed record VolumeDefinition
{
    public required string Name { get; init; }

    /// <summary>Virtual size in bytes: what the guest sees.</summary>
    public required ulong CapacityBytes { get; init; }

    /// <summary>Bytes to preallocate; null lets the backend allocate sparsely.</summary>
    public ulong? AllocationBytes { get; init; }

    public VolumeFormat Format { get; init; } = VolumeFormat.Raw;

    /// <summary>The volume this one is a copy-on-write overlay of (path of the backing file).</summary>
    public string? BackingPath { get; init; }

    public VolumeFormat? BackingFormat { get; init; }
}

/// <summary>A volume as it is on disk: what <c>vol-info</c> and <c>vol-dumpxml</c> show.</summary>
public sealed record VolumeInfo(
    string Name,
    string Path,
    VolumeFormat Format,
    ulong CapacityBytes,
    ulong AllocationBytes,
    ulong PhysicalBytes,
    IReadOnlyList<string> BackingChain);

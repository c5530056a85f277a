using System.Globalization;
using Nimbus.Shared;
using Nimbus.Virt.Definitions;

namespace Nimbus.Virt.Storage;

/// <summary>A pool that is a directory; its volumes are the image files in it (libvirt's storage_backend_fs, type dir).</summary>
internal sealed class DirPoolBackend : IPoolBackend
{
    private const int CopyBuffer = 1 << 20;

    public Task BuildAsync(PoolDefinition pool, CancellationToken cancellationToken)
    {
        var mode = pool.Mode is null ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute : (UnixFileMode)Convert.ToInt32(pool.Mode, 8);
        Directory.CreateDirectory(pool.TargetPath, mode);
        File.SetUnixFileMode(pool.TargetPath, mode);
        return Task.CompletedTask;
    }

    public Task CheckAsync(PoolDefinition pool, CancellationToken cancellationToken) =>
        Directory.Exists(pool.TargetPath)
            ? Task.CompletedTask
            : throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: the directory {pool.TargetPath} of pool '{pool.Name}' does not exist; create it with pool-build");

    public Task DeleteAsync(PoolDefinition pool, CancellationToken cancellationToken)
    {
        if (VolumeNames(pool).Count > 0)
        {
            throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: pool '{pool.Name}' still holds volumes; delete them first");
        }

        if (Directory.Exists(pool.TargetPath))
        {
            Directory.Delete(pool.TargetPath);
        }

        return Task.CompletedTask;
    }

    /// <summary>From statvfs, through stat -f with a fixed machine-readable format.</summary>
    public async Task<(ulong Capacity, ulong Allocation, ulong Available)> CapacityAsync(PoolDefinition pool, CancellationToken cancellationToken)
    {
        var output = await HostCommand.RunCheckedAsync("stat", ["-f", "-c", "%S %b %f %a", pool.TargetPath], "coreutils", cancellationToken);
        var fields = output.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(f => ulong.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var (blockSize, blocks, free, available) = (fields[0], fields[1], fields[2], fields[3]);
        return (blocks * blockSize, (blocks - free) * blockSize, available * blockSize);
    }

    /// <summary>The regular files directly in the pool's directory (or links to them), hidden ones excepted: those are temporary files.</summary>
    public IReadOnlyList<string> VolumeNames(PoolDefinition pool) =>
        Directory.Exists(pool.TargetPath)
            ? Directory.GetFiles(pool.TargetPath).Where(File.Exists).Select(f => Path.GetFileName(f)).Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>
    /// The path of volume <paramref name="volume"/>, found in the pool's own list as
    /// virStorageVolLookupByName does; anything else (a path, '..', a hidden or absent file) is no volume.
    /// </summary>
    public string FindVolume(PoolDefinition pool, string volume) =>
        VolumeNames(pool).Contains(volume, StringComparer.Ordinal)
            ? Path.Combine(pool.TargetPath, volume)
            : throw VirtException.NoStorageVolume(volume, pool.Name);

    public async Task<VolumeInfo> InfoAsync(PoolDefinition pool, string volume, CancellationToken cancellationToken)
    {
        var path = FindVolume(pool, volume);
        var image = await QemuImg.InfoAsync(path, null, cancellationToken);
        var format = QemuImg.Parse(image.Format)
            ?? throw new VirtException(VirtErrorCode.OperationFailed, $"operation failed: volume '{volume}' is a {image.Format} image, which Nimbus does not handle (raw, qcow2, vmdk)");
        return new VolumeInfo(volume, path, format, image.VirtualSize, image.ActualSize, (ulong)new FileInfo(path).Length, image.BackingChain);
    }

    public async Task CreateAsync(PoolDefinition pool, VolumeDefinition volume, CancellationToken cancellationToken)
    {
        var path = NewVolumePath(pool, volume.Name);
        var temp = TempPath(pool, volume.Name);
        try
        {
            await QemuImg.CreateAsync(temp, volume.Format, volume.CapacityBytes, volume.BackingPath, volume.BackingFormat, cancellationToken);
            Commit(temp, path, pool);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public async Task CloneAsync(PoolDefinition pool, VolumeInfo source, string name, CancellationToken cancellationToken)
    {
        var temp = TempPath(pool, name);
        try
        {
            await QemuImg.ConvertAsync(source.Path, source.Format, temp, source.Format, cancellationToken);
            Commit(temp, NewVolumePath(pool, name), pool);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public Task DeleteVolumeAsync(PoolDefinition pool, VolumeInfo volume, CancellationToken cancellationToken)
    {
        File.Delete(volume.Path);
        AtomicFile.SyncDirectory(pool.TargetPath);
        return Task.CompletedTask;
    }

    public Task ResizeAsync(PoolDefinition pool, VolumeInfo volume, ulong capacity, bool shrink, CancellationToken cancellationToken) =>
        QemuImg.ResizeAsync(volume.Path, volume.Format, capacity, shrink, cancellationToken);

    public async Task WipeAsync(PoolDefinition pool, VolumeInfo volume, CancellationToken cancellationToken)
    {
        if (volume.Format != VolumeFormat.Raw)
        {
            // Zeros would destroy the image format too; a fresh image of the same shape holds no old data.
            await CreateAsync(pool, new VolumeDefinition { Name = volume.Name, Format = volume.Format, CapacityBytes = volume.CapacityBytes, BackingPath = volume.BackingChain.Count > 0 ? volume.BackingChain[0] : null, BackingFormat = volume.BackingChain.Count > 0 ? VolumeFormat.Qcow2 : null }, cancellationToken);
            return;
        }

        var zeros = new byte[CopyBuffer];
        await using var stream = new FileStream(volume.Path, FileMode.Open, FileAccess.Write, FileShare.None, CopyBuffer, FileOptions.Asynchronous);
        for (long written = 0; written < stream.Length; written += zeros.Length)
        {
            await stream.WriteAsync(zeros.AsMemory(0, (int)Math.Min(zeros.Length, stream.Length - written)), cancellationToken);
        }

        stream.Flush(flushToDisk: true);
    }

    /// <summary>Streams into a temporary file, checks its header against the volume's format, then replaces the volume.</summary>
    public async Task UploadAsync(PoolDefinition pool, VolumeInfo volume, Stream content, CancellationToken cancellationToken)
    {
        var temp = TempPath(pool, volume.Name);
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBuffer, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, CopyBuffer, cancellationToken);
                file.Flush(flushToDisk: true);
            }

            var probed = await QemuImg.InfoAsync(temp, null, cancellationToken);
            if (QemuImg.Parse(probed.Format) != volume.Format)
            {
                throw new VirtException(VirtErrorCode.InvalidArgument, $"invalid argument: the uploaded data is a {probed.Format} image but volume '{volume.Name}' is {QemuImg.Name(volume.Format)}; nothing was changed. Create a {probed.Format} volume for it (vol-create-as … --format {probed.Format})");
            }

            Commit(temp, volume.Path, pool);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Where a volume of that name goes: a direct child of the pool's directory, whatever the caller checked.</summary>
    private static string NewVolumePath(PoolDefinition pool, string volume)
    {
        StorageXml.ValidateName(volume, "volume", VirtErrorCode.InvalidArgument);
        return Path.Combine(pool.TargetPath, volume);
    }

    private static string TempPath(PoolDefinition pool, string volume) =>
        Path.Combine(pool.TargetPath, $".{volume}.{Guid.NewGuid():N}.part");

    /// <summary>Makes a finished file visible under its name, durably: nothing half-written is ever a volume.</summary>
    private static void Commit(string temp, string path, PoolDefinition pool)
    {
        using (var file = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        AtomicFile.SyncDirectory(pool.TargetPath);
    }
}

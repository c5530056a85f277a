using System.Text;
using Nimbus.Objects.Storage;
using Nimbus.TestSupport;

namespace Nimbus.Objects.Tests.Storage;

/// <summary>The conformance suite on disk, plus what only a disk shows: names, temp files, crashes.</summary>
public abstract class DiskObjectBackendTests : ObjectBackendConformance, IDisposable
{
    private readonly TempDirectory _root = new();

    protected DiskObjectBackendTests()
    {
        Directory.CreateDirectory(_root.Combine(Device));
        Directory.CreateDirectory(_root.Combine(OtherDevice));
    }

    protected abstract DiskMetadataStorage Mode { get; }

    protected DiskObjectBackend Disk => (DiskObjectBackend)Backend;

    protected override IObjectBackend CreateBackend(TimeProvider time) => new DiskObjectBackend(_root.Path, time, Mode);

    public void Dispose()
    {
        _root.Dispose();
        GC.SuppressFinalize(this);
    }

    private string HashDirectory(ObjectLocation location) =>
        _root.Combine(location.Device, "objects", location.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture), location.Suffix, location.Hash);

    private static string[] FileNames(string directory) =>
        Directory.Exists(directory) ? [.. Directory.GetFiles(directory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)] : [];

    [Fact]
    public async Task Files_on_disk_have_the_documented_names()
    {
        var location = Location();
        await PutAsync(location, At(0), "data");
        await PostAsync(location, At(1), ("X-Object-Meta-A", "1"));

        var hashDirectory = HashDirectory(location);
        var sidecar = Disk.UsesExtendedAttributes(Device) ? Array.Empty<string>() : [$"{At(0).Normal}.data.json"];
        Assert.Equal([$"{At(0).Normal}.data", .. sidecar, $"{At(1).Normal}.meta"], FileNames(hashDirectory));
        Assert.Equal("data", File.ReadAllText(Path.Combine(hashDirectory, $"{At(0).Normal}.data")));
        Assert.Empty(FileNames(_root.Combine(Device, "tmp")));

        await DeleteAsync(location, At(2));
        Assert.Equal([$"{At(2).Normal}.ts"], FileNames(hashDirectory));
    }

    [Fact]
    public async Task Metadata_lives_where_the_mode_says()
    {
        var location = Location();
        await PutAsync(location, At(0), "data", ("X-Object-Meta-A", "1"));
        var sidecar = Path.Combine(HashDirectory(location), $"{At(0).Normal}.data.json");
        Assert.Equal(Mode == DiskMetadataStorage.SidecarFile, File.Exists(sidecar));
        if (File.Exists(sidecar))
        {
            Assert.Contains("\"X-Object-Meta-A\":\"1\"", File.ReadAllText(sidecar), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Leftover_temp_file_from_a_crash_is_invisible_and_cleaned()
    {
        var location = Location();
        await PutAsync(location, At(0), "committed");
        var leftover = _root.Combine(Device, "tmp", "0123456789abcdef0123456789abcdef");
        File.WriteAllText(leftover, "half an object");
        Directory.CreateDirectory(_root.Combine(OtherDevice, "tmp", "partition-3-dead"));

        Assert.Equal("committed", await ReadTextAsync(location));
        Assert.Equal([location], await EnumerateAsync());
        Assert.Equal(0, await Disk.CleanTempAsync(Ct));
        Assert.True(File.Exists(leftover));

        Time.Advance(DiskObjectBackend.TempFileMaxAge + TimeSpan.FromHours(1));
        Assert.Equal(2, await Disk.CleanTempAsync(Ct));
        Assert.False(File.Exists(leftover));
        Assert.Empty(Directory.GetFileSystemEntries(_root.Combine(OtherDevice, "tmp")));
        Assert.Equal("committed", await ReadTextAsync(location));
    }

    [Fact]
    public async Task Crash_between_sidecar_and_data_leaves_nothing_visible()
    {
        var location = Location();
        var hashDirectory = HashDirectory(location);
        Directory.CreateDirectory(hashDirectory);
        var orphan = Path.Combine(hashDirectory, $"{At(0).Normal}.data.json");
        File.WriteAllText(orphan, "{\"name\":\"/a/c/o\"}");
        Directory.CreateDirectory(_root.Combine(Device, "tmp"));
        File.WriteAllText(_root.Combine(Device, "tmp", "fedcba9876543210fedcba9876543210"), "the data that never arrived");

        await using (var handle = await Backend.OpenAsync(location, Ct))
        {
            Assert.Equal(ObjectPresence.Missing, handle.Presence);
        }

        Assert.Empty(await EnumerateAsync());
        Assert.Empty(await Backend.ListObjectsAsync(Device, Partition, [location.Suffix], Ct));
        Assert.Empty(await Backend.GetSuffixHashesAsync(Device, Partition, Ct));

        Time.Advance(DiskObjectBackend.TempFileMaxAge + TimeSpan.FromHours(1));
        Assert.Empty(await Backend.GetSuffixHashesAsync(Device, Partition, Ct));
        Assert.False(File.Exists(orphan));
        Assert.False(Directory.Exists(hashDirectory));
        Assert.Equal(1, await Disk.CleanTempAsync(Ct));
    }

    [Fact]
    public async Task Retried_write_replaces_a_sidecar_left_by_a_crash()
    {
        var location = Location();
        var hashDirectory = HashDirectory(location);
        Directory.CreateDirectory(hashDirectory);
        File.WriteAllText(Path.Combine(hashDirectory, $"{At(0).Normal}.data.json"), "{\"X-Object-Meta-Stale\":\"1\"}");

        Assert.True(await PutAsync(location, At(0), "data", ("X-Object-Meta-Fresh", "1")));
        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.True(handle.Metadata.ContainsKey("X-Object-Meta-Fresh"));
        Assert.False(handle.Metadata.ContainsKey("X-Object-Meta-Stale"));
    }

    [Fact]
    public async Task Superseded_orphan_sidecar_is_removed_at_once()
    {
        var location = Location();
        var hashDirectory = HashDirectory(location);
        Directory.CreateDirectory(hashDirectory);
        var orphan = Path.Combine(hashDirectory, $"{At(0).Normal}.data.json");
        File.WriteAllText(orphan, "{}");

        await PutAsync(location, At(1), "newer");
        Assert.False(File.Exists(orphan));
    }

    [Fact]
    public async Task Data_without_metadata_is_quarantined()
    {
        var location = Location();
        var hashDirectory = HashDirectory(location);
        Directory.CreateDirectory(hashDirectory);
        File.WriteAllText(Path.Combine(hashDirectory, $"{At(0).Normal}.data"), "who am I");

        await using var handle = await Backend.OpenAsync(location, Ct);
        Assert.Equal(ObjectPresence.Missing, handle.Presence);
        Assert.False(Directory.Exists(hashDirectory));
        var quarantined = Assert.Single(Directory.GetDirectories(_root.Combine(Device, "quarantined", "objects")));
        Assert.StartsWith(location.Hash + "-", Path.GetFileName(quarantined), StringComparison.Ordinal);
        Assert.Equal([$"{At(0).Normal}.data"], FileNames(quarantined));
    }

    [Fact]
    public async Task Quarantine_moves_the_hash_directory_aside()
    {
        var location = Location();
        await PutAsync(location, At(0), "bad");
        await Backend.QuarantineAsync(location, Ct);
        var quarantined = Assert.Single(Directory.GetDirectories(_root.Combine(Device, "quarantined", "objects")));
        Assert.Contains($"{At(0).Normal}.data", FileNames(quarantined));
        Assert.False(Directory.Exists(HashDirectory(location)));
    }

    [Fact]
    public async Task Suffix_hashes_match_the_memory_backend()
    {
        var memory = new MemoryObjectBackend(Time);
        foreach (var backend in new IObjectBackend[] { Backend, memory })
        {
            foreach (var name in new[] { "/a/c/1", "/a/c/2", "/a/c/3" })
            {
                var location = Location(name);
                var body = Encoding.UTF8.GetBytes(name);
                await using var writer = await backend.CreateWriterAsync(location, Ct);
                await writer.WriteAsync(body, Ct);
                await writer.CommitAsync(At(0), DataMetadata(At(0), body), Ct);
            }

            await backend.WriteMetadataAsync(Location("/a/c/2"), At(1), new Dictionary<string, string>(), Ct);
            await backend.WriteTombstoneAsync(Location("/a/c/3"), At(2), new Dictionary<string, string>(), Ct);
        }

        var disk = await Backend.GetSuffixHashesAsync(Device, Partition, Ct);
        Assert.Equal((await memory.GetSuffixHashesAsync(Device, Partition, Ct)).OrderBy(p => p.Key), disk.OrderBy(p => p.Key));
    }

    [Fact]
    public async Task Write_to_a_device_that_is_not_there_fails()
    {
        await Assert.ThrowsAsync<DirectoryNotFoundException>(async () => await Backend.CreateWriterAsync(Location(device: "d9"), Ct));
        await using var handle = await Backend.OpenAsync(Location(device: "d9"), Ct);
        Assert.Equal(ObjectPresence.Missing, handle.Presence);
    }
}

public sealed class DiskObjectBackendXattrTests : DiskObjectBackendTests
{
    protected override DiskMetadataStorage Mode => DiskMetadataStorage.ExtendedAttribute;
}

public sealed class DiskObjectBackendSidecarTests : DiskObjectBackendTests
{
    protected override DiskMetadataStorage Mode => DiskMetadataStorage.SidecarFile;
}

public sealed class DiskObjectBackendProbeTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public void Automatic_mode_probes_each_device_once_and_forced_modes_do_not_probe()
    {
        Directory.CreateDirectory(_root.Combine("d1"));
        var automatic = new DiskObjectBackend(_root.Path, TimeProvider.System);
        var first = automatic.UsesExtendedAttributes("d1");
        Assert.Equal(first, automatic.UsesExtendedAttributes("d1"));
        Assert.Empty(Directory.GetFiles(_root.Combine("d1", "tmp")));

        Assert.False(new DiskObjectBackend(_root.Path, TimeProvider.System, DiskMetadataStorage.SidecarFile).UsesExtendedAttributes("d1"));
        Assert.True(new DiskObjectBackend(_root.Path, TimeProvider.System, DiskMetadataStorage.ExtendedAttribute).UsesExtendedAttributes("d1"));
    }
}

using Nimbus.TestSupport;
using Nimbus.Virt.Definitions;
using Nimbus.Virt.Storage;

namespace Nimbus.Virt.Tests;

/// <summary>The dir pool on real files, with qemu-img doing the formats.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes it through IAsyncLifetime.DisposeAsync")]
public sealed class StorageDriverTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private StorageDriver? _driver;

    private StorageDriver Driver => _driver!;

    private string PoolPath => _directory.Combine("images");

    public async Task InitializeAsync()
    {
        _driver = await StorageDriver.OpenAsync(_directory.Combine("state"), default);
        await Driver.DefinePoolAsync($"<pool type='dir'><name>images</name><target><path>{PoolPath}</path></target></pool>", default);
        await Driver.BuildPoolAsync("images", default);
        await Driver.StartPoolAsync("images", default);
    }

    public async Task DisposeAsync()
    {
        await Driver.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Volumes_are_created_with_the_asked_format_and_capacity()
    {
        var raw = await Driver.CreateVolumeAsync("images", Volume("disk.raw", 64 << 20, VolumeFormat.Raw), default);
        var qcow2 = await Driver.CreateVolumeAsync("images", Volume("disk.qcow2", 1UL << 30, VolumeFormat.Qcow2), default);

        Assert.Equal((VolumeFormat.Raw, 64UL << 20), (raw.Format, raw.CapacityBytes));
        Assert.Equal((VolumeFormat.Qcow2, 1UL << 30), (qcow2.Format, qcow2.CapacityBytes));
        Assert.Equal(Path.Combine(PoolPath, "disk.qcow2"), qcow2.Path);
        Assert.Equal(["disk.qcow2", "disk.raw"], (await Driver.ListVolumesAsync("images", default)).Select(v => v.Name));
    }

    [Fact]
    public async Task Overlay_on_a_backing_volume_records_the_backing_chain_and_stays_small()
    {
        await Driver.CreateVolumeAsync("images", Volume("base.qcow2", 1UL << 30, VolumeFormat.Qcow2), default);

        var overlay = await Driver.CreateVolumeAsync("images", Volume("web.qcow2", 0, VolumeFormat.Qcow2) with { BackingPath = "base.qcow2" }, default);

        Assert.Equal([Path.Combine(PoolPath, "base.qcow2")], overlay.BackingChain);
        Assert.Equal(1UL << 30, overlay.CapacityBytes);
        Assert.True(overlay.PhysicalBytes < 1 << 20);
    }

    [Fact]
    public async Task Clone_is_a_full_copy_without_a_backing_chain()
    {
        await Driver.CreateVolumeAsync("images", Volume("base.qcow2", 1UL << 30, VolumeFormat.Qcow2), default);
        await Driver.CreateVolumeAsync("images", Volume("web.qcow2", 0, VolumeFormat.Qcow2) with { BackingPath = "base.qcow2" }, default);

        var copy = await Driver.CloneVolumeAsync("images", "web.qcow2", "copy.qcow2", default);

        Assert.Empty(copy.BackingChain);
        Assert.Equal(1UL << 30, copy.CapacityBytes);
    }

    [Fact]
    public async Task Resize_grows_and_refuses_to_shrink_unless_asked()
    {
        await Driver.CreateVolumeAsync("images", Volume("disk.qcow2", 1UL << 30, VolumeFormat.Qcow2), default);

        await Driver.ResizeVolumeAsync("images", "disk.qcow2", 2UL << 30, allowShrink: false, default);
        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.ResizeVolumeAsync("images", "disk.qcow2", 1UL << 30, allowShrink: false, default));

        Assert.Equal(VirtErrorCode.InvalidArgument, error.Code);
        Assert.Equal(2UL << 30, (await Driver.GetVolumeInfoAsync("images", "disk.qcow2", default)).CapacityBytes);
    }

    [Fact]
    public async Task Upload_of_another_format_is_refused_and_leaves_the_volume_as_it_was()
    {
        var raw = await Driver.CreateVolumeAsync("images", Volume("disk.raw", 1 << 20, VolumeFormat.Raw), default);
        var before = await File.ReadAllBytesAsync(raw.Path);
        var qcow2 = _directory.Combine("upload.qcow2");
        await QemuImgAsync("create", "-q", "-f", "qcow2", qcow2, "1M");

        await using var content = File.OpenRead(qcow2);
        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.UploadVolumeAsync("images", "disk.raw", content, default));

        Assert.Contains("is a qcow2 image but volume 'disk.raw' is raw", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(raw.Path));
        Assert.Equal(["disk.raw"], Directory.GetFiles(PoolPath).Select(f => Path.GetFileName(f)));
    }

    [Fact]
    public async Task Upload_then_download_round_trips_the_bytes()
    {
        await Driver.CreateVolumeAsync("images", Volume("disk.qcow2", 1 << 20, VolumeFormat.Qcow2), default);
        var image = _directory.Combine("upload.qcow2");
        await QemuImgAsync("create", "-q", "-f", "qcow2", image, "5M");

        await using (var content = File.OpenRead(image))
        {
            var uploaded = await Driver.UploadVolumeAsync("images", "disk.qcow2", content, default);
            Assert.Equal(5UL << 20, uploaded.CapacityBytes);
        }

        using var downloaded = new MemoryStream();
        await Driver.DownloadVolumeAsync("images", "disk.qcow2", downloaded, default);

        Assert.Equal(await File.ReadAllBytesAsync(image), downloaded.ToArray());
    }

    [Fact]
    public async Task Wipe_zeroes_a_raw_volume_and_keeps_its_size()
    {
        var raw = await Driver.CreateVolumeAsync("images", Volume("disk.raw", 1 << 20, VolumeFormat.Raw), default);
        await File.WriteAllBytesAsync(raw.Path, Enumerable.Repeat((byte)0xAB, 1 << 20).ToArray());

        await Driver.WipeVolumeAsync("images", "disk.raw", default);

        var bytes = await File.ReadAllBytesAsync(raw.Path);
        Assert.Equal(1 << 20, bytes.Length);
        Assert.All(bytes, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Existing_volume_name_is_refused()
    {
        await Driver.CreateVolumeAsync("images", Volume("disk.raw", 1 << 20, VolumeFormat.Raw), default);

        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.CreateVolumeAsync("images", Volume("disk.raw", 2 << 20, VolumeFormat.Raw), default));

        Assert.Equal(VirtErrorCode.AlreadyExists, error.Code);
        Assert.Equal(1UL << 20, (await Driver.GetVolumeInfoAsync("images", "disk.raw", default)).CapacityBytes);
    }

    [Fact]
    public async Task Missing_volume_is_not_found()
    {
        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.GetVolumeInfoAsync("images", "nothing.qcow2", default));

        Assert.Equal(VirtErrorCode.NoStorageVolume, error.Code);
    }

    [Fact]
    public async Task Active_pool_or_one_with_volumes_cannot_be_deleted_or_undefined()
    {
        await Driver.CreateVolumeAsync("images", Volume("disk.raw", 1 << 20, VolumeFormat.Raw), default);

        var whileActive = await Assert.ThrowsAsync<VirtException>(() => Driver.DeletePoolAsync("images", default));
        var undefine = await Assert.ThrowsAsync<VirtException>(() => Driver.UndefinePoolAsync("images", default));
        await Driver.StopPoolAsync("images", default);
        var withVolumes = await Assert.ThrowsAsync<VirtException>(() => Driver.DeletePoolAsync("images", default));

        Assert.Equal(VirtErrorCode.OperationInvalid, whileActive.Code);
        Assert.Equal(VirtErrorCode.OperationInvalid, undefine.Code);
        Assert.Contains("still holds volumes", withVolumes.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(PoolPath, "disk.raw")));
    }

    [Fact]
    public async Task Pools_and_their_state_survive_a_reopen()
    {
        await Driver.SetPoolAutostartAsync("images", true, default);

        await using var reopened = await StorageDriver.OpenAsync(_directory.Combine("state"), default);
        var pool = Assert.Single(await reopened.ListPoolsAsync(includeInactive: true, default));

        Assert.Equal(("images", PoolState.Running, true), (pool.Name, pool.State, pool.Autostart));
    }

    [Fact]
    public async Task Pool_with_the_target_of_another_is_refused()
    {
        var error = await Assert.ThrowsAsync<VirtException>(() =>
            Driver.DefinePoolAsync($"<pool type='dir'><name>again</name><target><path>{PoolPath}</path></target></pool>", default));

        Assert.Equal(VirtErrorCode.AlreadyExists, error.Code);
        Assert.Single(await Driver.ListPoolsAsync(includeInactive: true, default));
    }

    [Fact]
    public async Task Pool_types_without_a_backend_are_refused_as_unsupported()
    {
        var error = await Assert.ThrowsAsync<VirtException>(() =>
            Driver.DefinePoolAsync("<pool type='logical'><name>vg</name><target><path>/dev/vg</path></target></pool>", default));

        Assert.Equal(VirtErrorCode.NoSupport, error.Code);
    }

    /// <summary>Every volume verb, with names that are no volume of the pool: outside it, absolute, hidden, a directory, inside a directory.</summary>
    public static TheoryData<string, string> NamesThatAreNoVolume()
    {
        var data = new TheoryData<string, string>();
        foreach (var verb in new[] { "info", "delete", "upload", "download", "wipe", "resize", "clone", "backing" })
        {
            foreach (var name in new[] { "../outside.raw", "{outside}", "/etc/passwd", ".hidden.part", "subdir", "subdir/inner.raw", "..", "." })
            {
                // A backing store may be any image by absolute path, as in libvirt; only names are looked up in the pool.
                if (verb != "backing" || !name.StartsWith('/') && name != "{outside}")
                {
                    data.Add(verb, name);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(NamesThatAreNoVolume))]
    public async Task Volume_verbs_refuse_a_name_that_is_not_in_the_pools_list_and_touch_nothing(string verb, string name)
    {
        var outside = _directory.Combine("outside.raw");
        await File.WriteAllBytesAsync(outside, Enumerable.Repeat((byte)0xAB, 1 << 20).ToArray());
        await File.WriteAllTextAsync(Path.Combine(PoolPath, ".hidden.part"), "half-written");
        Directory.CreateDirectory(Path.Combine(PoolPath, "subdir"));
        await File.WriteAllBytesAsync(Path.Combine(PoolPath, "subdir", "inner.raw"), Enumerable.Repeat((byte)0xCD, 1 << 20).ToArray());
        var files = new[] { outside, "/etc/passwd", Path.Combine(PoolPath, ".hidden.part"), Path.Combine(PoolPath, "subdir", "inner.raw") };
        var before = await Task.WhenAll(files.Select(f => File.ReadAllBytesAsync(f)));
        var volume = name.Replace("{outside}", outside, StringComparison.Ordinal);
        var image = _directory.Combine("upload.raw");
        await File.WriteAllBytesAsync(image, new byte[1 << 20]);

        var error = await Assert.ThrowsAsync<VirtException>(async () =>
        {
            switch (verb)
            {
                case "info":
                    await Driver.GetVolumeInfoAsync("images", volume, default);
                    break;
                case "delete":
                    await Driver.DeleteVolumeAsync("images", volume, default);
                    break;
                case "upload":
                    await using (var content = File.OpenRead(image))
                    {
                        await Driver.UploadVolumeAsync("images", volume, content, default);
                    }

                    break;
                case "download":
                    await Driver.DownloadVolumeAsync("images", volume, new MemoryStream(), default);
                    break;
                case "wipe":
                    await Driver.WipeVolumeAsync("images", volume, default);
                    break;
                case "resize":
                    await Driver.ResizeVolumeAsync("images", volume, 4 << 20, allowShrink: true, default);
                    break;
                case "clone":
                    await Driver.CloneVolumeAsync("images", volume, "copy.raw", default);
                    break;
                case "backing":
                    await Driver.CreateVolumeAsync("images", Volume("overlay.qcow2", 0, VolumeFormat.Qcow2) with { BackingPath = volume }, default);
                    break;
            }
        });

        Assert.Equal(VirtErrorCode.NoStorageVolume, error.Code);
        Assert.Contains($"no storage vol with matching name '{volume}'", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await Task.WhenAll(files.Select(f => File.ReadAllBytesAsync(f))));
        Assert.Empty(await Driver.ListVolumesAsync("images", default));
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("../escaped.raw")]
    [InlineData("sub/dir.raw")]
    [InlineData(".hidden.raw")]
    public async Task Creating_or_cloning_to_a_name_that_is_not_one_file_name_is_refused(string name)
    {
        await Driver.CreateVolumeAsync("images", Volume("disk.raw", 1 << 20, VolumeFormat.Raw), default);

        var create = await Assert.ThrowsAsync<VirtException>(() => Driver.CreateVolumeAsync("images", Volume(name, 1 << 20, VolumeFormat.Raw), default));
        var clone = await Assert.ThrowsAsync<VirtException>(() => Driver.CloneVolumeAsync("images", "disk.raw", name, default));

        Assert.Equal(VirtErrorCode.InvalidArgument, create.Code);
        Assert.Equal(VirtErrorCode.InvalidArgument, clone.Code);
        Assert.False(File.Exists(_directory.Combine("escaped.raw")));
        Assert.Equal(["disk.raw"], Directory.GetFileSystemEntries(PoolPath).Select(f => Path.GetFileName(f)));
    }

    [Fact]
    public async Task Start_queued_behind_an_undefine_is_refused_as_no_pool_and_marks_nothing_active()
    {
        // The volume creation holds the pool's job (qemu-img runs); stop, undefine and start queue behind it.
        var create = Call(() => Driver.CreateVolumeAsync("images", Volume("disk.qcow2", 1 << 20, VolumeFormat.Qcow2), default));
        var stop = Call(() => Driver.StopPoolAsync("images", default));
        var undefine = Call(() => Driver.UndefinePoolAsync("images", default));
        var start = Call(() => Driver.StartPoolAsync("images", default));
        await create;
        await stop;
        await undefine;
        var error = await Assert.ThrowsAsync<VirtException>(() => start);

        Assert.Equal(VirtErrorCode.NoStoragePool, error.Code);
        Assert.Empty(await Driver.ListPoolsAsync(includeInactive: true, default));
        Assert.Empty(Directory.GetFiles(_directory.Combine("state", "run")));
    }

    [Fact]
    public async Task Undefine_and_start_of_many_pools_raced_leave_no_active_pool_unlisted()
    {
        await Driver.StopPoolAsync("images", default);
        await Driver.UndefinePoolAsync("images", default);
        var names = Enumerable.Range(0, 32).Select(i => $"race{i}").ToList();
        foreach (var name in names)
        {
            await Driver.DefinePoolAsync($"<pool type='dir'><name>{name}</name><target><path>{_directory.Combine(name)}</path></target></pool>", default);
            await Driver.BuildPoolAsync(name, default);
        }

        await Task.WhenAll(names.Select(async name =>
        {
            var undefine = Task.Run(async () =>
            {
                try
                {
                    await Driver.UndefinePoolAsync(name, default);
                }
                catch (VirtException ex) when (ex.Code == VirtErrorCode.OperationInvalid)
                {
                    // Started first: an active pool cannot be undefined.
                }
            });
            var start = Task.Run(async () =>
            {
                try
                {
                    await Driver.StartPoolAsync(name, default);
                }
                catch (VirtException ex) when (ex.Code == VirtErrorCode.NoStoragePool)
                {
                    // Undefined first.
                }
            });
            await Task.WhenAll(undefine, start);
        }));

        var listed = (await Driver.ListPoolsAsync(includeInactive: true, default)).Select(p => p.Name).ToHashSet();
        var markedActive = Directory.GetFiles(_directory.Combine("state", "run")).Select(f => Path.GetFileNameWithoutExtension(f)).ToList();
        Assert.All(markedActive, name => Assert.Contains(name, listed));
    }

    /// <summary>Turns a refusal thrown before the first await into a faulted task, as a queued call would see it.</summary>
    private static async Task Call(Func<Task> operation) => await operation();

    private static VolumeDefinition Volume(string name, ulong capacity, VolumeFormat format) =>
        new() { Name = name, CapacityBytes = capacity, Format = format };

    private static async Task QemuImgAsync(params string[] args)
    {
        var result = await HostProcess.RunAsync("qemu-img", args);
        Assert.Equal(0, result.ExitCode);
    }
}

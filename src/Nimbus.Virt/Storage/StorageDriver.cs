using Nimbus.Shared;
using Nimbus.Virt.Definitions;
using Nimbus.Virt.Drivers;

namespace Nimbus.Virt.Storage;

/// <summary>
/// Storage pools kept under a state directory, as libvirt's storage driver keeps them: definitions
/// in config/ (written atomically), active pools marked in run/ so they stay active across restarts,
/// autostart pools started on open. Changes to one pool are serialized.
/// </summary>
public sealed class StorageDriver : IStorageDriver
{
    private readonly string _config;
    private readonly string _run;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Pool> _pools = new(StringComparer.Ordinal);
    private readonly KeyedJobs _jobs = new();
    private readonly Dictionary<PoolType, IPoolBackend> _backends = new Dictionary<PoolType, IPoolBackend> { [PoolType.Dir] = new DirPoolBackend() };

    private StorageDriver(string stateDirectory)
    {
        _config = Path.Combine(stateDirectory, "config");
        _run = Path.Combine(stateDirectory, "run");
    }

    public static async Task<StorageDriver> OpenAsync(string stateDirectory, CancellationToken cancellationToken)
    {
        var driver = new StorageDriver(stateDirectory);
        Directory.CreateDirectory(driver._config);
        Directory.CreateDirectory(driver._run);
        foreach (var file in Directory.GetFiles(driver._config, "*.xml"))
        {
            var definition = StorageXml.ParsePool(await File.ReadAllTextAsync(file, cancellationToken));
            var pool = new Pool(definition) { Autostart = File.Exists(driver.AutostartMarker(definition.Name)) };
            driver._pools[definition.Name] = pool;
            if (File.Exists(driver.ActiveMarker(definition.Name)) || pool.Autostart)
            {
                try
                {
                    await driver.Backend(definition).CheckAsync(definition, cancellationToken);
                    pool.Active = true;
                }
                catch (VirtException)
                {
                    File.Delete(driver.ActiveMarker(definition.Name));
                }
            }
        }

        return driver;
    }

    public Task<IReadOnlyList<PoolSummary>> ListPoolsAsync(bool includeInactive, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<PoolSummary> pools = _pools.Values.Where(p => includeInactive || p.Active).Select(p => p.Summary()).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
            return Task.FromResult(pools);
        }
    }

    public async Task<PoolSummary> DefinePoolAsync(string xml, CancellationToken cancellationToken)
    {
        var definition = StorageXml.ParsePool(xml);
        _ = Backend(definition);
        while (true)
        {
            var (pool, added) = AddOrMatch(definition);

            // A pool this call reserved leaves the list only through its own job, so that wait is not cancelled.
            var summary = await _jobs.RunAsync(definition.Uuid, async () =>
            {
                if (pool.Removed)
                {
                    // Undefined (or its first define failed) while this define waited: define it afresh.
                    return null;
                }

                try
                {
                    await AtomicFile.WriteAllTextAsync(ConfigFile(definition.Name), StorageXml.FormatPool(definition), cancellationToken);
                }
                catch when (added)
                {
                    Forget(pool);
                    throw;
                }

                pool.Definition = definition;
                pool.Defining = false;
                return pool.Summary();
            }, added ? CancellationToken.None : cancellationToken);
            if (summary is not null)
            {
                return summary;
            }
        }
    }

    public Task BuildPoolAsync(string pool, CancellationToken cancellationToken) =>
        WithPoolAsync(pool, p =>
        {
            p.EnsureInactive("build");
            return Backend(p.Definition).BuildAsync(p.Definition, cancellationToken);
        }, cancellationToken);

    public Task StartPoolAsync(string pool, CancellationToken cancellationToken) =>
        WithPoolAsync(pool, async p =>
        {
            if (p.Active)
            {
                throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: storage pool '{p.Definition.Name}' is already active");
            }

            await Backend(p.Definition).CheckAsync(p.Definition, cancellationToken);
            await AtomicFile.SetMarkerAsync(ActiveMarker(p.Definition.Name), present: true, cancellationToken);
            p.Active = true;
        }, cancellationToken);

    public Task StopPoolAsync(string pool, CancellationToken cancellationToken) =>
        WithPoolAsync(pool, async p =>
        {
            p.EnsureActive();
            await AtomicFile.SetMarkerAsync(ActiveMarker(p.Definition.Name), present: false, cancellationToken);
            p.Active = false;
        }, cancellationToken);

    public Task DeletePoolAsync(string pool, CancellationToken cancellationToken) =>
        WithPoolAsync(pool, p =>
        {
            p.EnsureInactive("delete");
            return Backend(p.Definition).DeleteAsync(p.Definition, cancellationToken);
        }, cancellationToken);

    public Task UndefinePoolAsync(string pool, CancellationToken cancellationToken) =>
        WithPoolAsync(pool, p =>
        {
            p.EnsureInactive("undefine");
            File.Delete(AutostartMarker(p.Definition.Name));
            File.Delete(ConfigFile(p.Definition.Name));
            Forget(p);
            return Task.CompletedTask;
        }, cancellationToken);

    public Task RefreshPoolAsync(string pool, CancellationToken cancellationToken) =>
        WithPoolAsync(pool, p =>
        {
            p.EnsureActive();
            return Backend(p.Definition).CheckAsync(p.Definition, cancellationToken);
        }, cancellationToken);

    public Task SetPoolAutostartAsync(string pool, bool autostart, CancellationToken cancellationToken) =>
        WithPoolAsync(pool, async p =>
        {
            await AtomicFile.SetMarkerAsync(AutostartMarker(p.Definition.Name), autostart, cancellationToken);
            p.Autostart = autostart;
        }, cancellationToken);

    public async Task<PoolInfo> GetPoolInfoAsync(string pool, CancellationToken cancellationToken)
    {
        var p = Find(pool);
        if (!p.Active)
        {
            return new PoolInfo(p.Summary(), 0, 0, 0);
        }

        var (capacity, allocation, available) = await Backend(p.Definition).CapacityAsync(p.Definition, cancellationToken);
        return new PoolInfo(p.Summary(), capacity, allocation, available);
    }

    public async Task<string> GetPoolXmlAsync(string pool, CancellationToken cancellationToken)
    {
        var info = await GetPoolInfoAsync(pool, cancellationToken);
        return StorageXml.FormatPool(Find(pool).Definition, info.CapacityBytes, info.AllocationBytes, info.AvailableBytes);
    }

    public async Task<IReadOnlyList<VolumeInfo>> ListVolumesAsync(string pool, CancellationToken cancellationToken)
    {
        var p = Find(pool);
        p.EnsureActive();
        var backend = Backend(p.Definition);
        var volumes = new List<VolumeInfo>();
        foreach (var name in backend.VolumeNames(p.Definition))
        {
            volumes.Add(await backend.InfoAsync(p.Definition, name, cancellationToken));
        }

        return volumes;
    }

    public Task<VolumeInfo> CreateVolumeAsync(string pool, VolumeDefinition volume, CancellationToken cancellationToken) =>
        WithPoolAsync(pool, async p =>
        {
            ArgumentNullException.ThrowIfNull(volume);
            StorageXml.ValidateName(volume.Name, "volume", VirtErrorCode.InvalidArgument);
            p.EnsureActive();
            var backend = Backend(p.Definition);
            if (backend.VolumeNames(p.Definition).Contains(volume.Name, StringComparer.Ordinal))
            {
                throw new VirtException(VirtErrorCode.AlreadyExists, $"operation failed: storage vol '{volume.Name}' already exists in pool '{p.Definition.Name}'");
            }

            if (volume.CapacityBytes == 0 && volume.BackingPath is null)
            {
                throw new VirtException(VirtErrorCode.InvalidArgument, "invalid argument: a volume needs a capacity greater than 0");
            }

            var resolved = volume;
            if (volume.BackingPath is { } backing)
            {
                // A backing volume may be named by path or, as in virsh's --backing-vol, by its name in this pool.
                var backingPath = backing.StartsWith('/') ? backing : backend.FindVolume(p.Definition, backing);
                if (!File.Exists(backingPath))
                {
                    throw new VirtException(VirtErrorCode.NoStorageVolume, $"Storage volume not found: backing volume '{backing}' does not exist");
                }

                var backingInfo = await QemuImg.InfoAsync(backingPath, null, cancellationToken);
                resolved = volume with
                {
                    BackingPath = backingPath,
                    BackingFormat = volume.BackingFormat ?? QemuImg.Parse(backingInfo.Format) ?? VolumeFormat.Raw,
                    CapacityBytes = Math.Max(volume.CapacityBytes, backingInfo.VirtualSize),
                };
            }

            await backend.CreateAsync(p.Definition, resolved, cancellationToken);
            return await backend.InfoAsync(p.Definition, volume.Name, cancellationToken);
        }, cancellationToken);

    public Task<VolumeInfo> CloneVolumeAsync(string pool, string source, string name, CancellationToken cancellationToken) =>
        WithPoolAsync(pool, async p =>
        {
            p.EnsureActive();
            var backend = Backend(p.Definition);
            var original = await backend.InfoAsync(p.Definition, source, cancellationToken);
            StorageXml.ValidateName(name, "volume", VirtErrorCode.InvalidArgument);
            if (backend.VolumeNames(p.Definition).Contains(name, StringComparer.Ordinal))
            {
                throw new VirtException(VirtErrorCode.AlreadyExists, $"operation failed: storage vol '{name}' already exists in pool '{p.Definition.Name}'");
            }

            await backend.CloneAsync(p.Definition, original, name, cancellationToken);
            return await backend.InfoAsync(p.Definition, name, cancellationToken);
        }, cancellationToken);

    public Task DeleteVolumeAsync(string pool, string volume, CancellationToken cancellationToken) =>
        WithPoolAsync(pool, async p =>
        {
            p.EnsureActive();
            var backend = Backend(p.Definition);
            await backend.DeleteVolumeAsync(p.Definition, await backend.InfoAsync(p.Definition, volume, cancellationToken), cancellationToken);
        }, cancellationToken);

    public Task ResizeVolumeAsync(string pool, string volume, ulong capacityBytes, bool allowShrink, CancellationToken cancellationToken) =>
        WithPoolAsync(pool, async p =>
        {
            p.EnsureActive();
            var backend = Backend(p.Definition);
            var info = await backend.InfoAsync(p.Definition, volume, cancellationToken);
            if (capacityBytes < info.CapacityBytes && !allowShrink)
            {
                throw new VirtException(VirtErrorCode.InvalidArgument, $"invalid argument: {capacityBytes} bytes is smaller than the volume's {info.CapacityBytes}; shrinking destroys data, pass --shrink if you mean it");
            }

            await backend.ResizeAsync(p.Definition, info, capacityBytes, capacityBytes < info.CapacityBytes, cancellationToken);
        }, cancellationToken);

    public Task WipeVolumeAsync(string pool, string volume, CancellationToken cancellationToken) =>
        WithPoolAsync(pool, async p =>
        {
            p.EnsureActive();
            var backend = Backend(p.Definition);
            await backend.WipeAsync(p.Definition, await backend.InfoAsync(p.Definition, volume, cancellationToken), cancellationToken);
        }, cancellationToken);

    public Task<VolumeInfo> GetVolumeInfoAsync(string pool, string volume, CancellationToken cancellationToken)
    {
        var p = Find(pool);
        p.EnsureActive();
        return Backend(p.Definition).InfoAsync(p.Definition, volume, cancellationToken);
    }

    public Task<VolumeInfo> UploadVolumeAsync(string pool, string volume, Stream content, CancellationToken cancellationToken) =>
        WithPoolAsync(pool, async p =>
        {
            p.EnsureActive();
            var backend = Backend(p.Definition);
            var info = await backend.InfoAsync(p.Definition, volume, cancellationToken);
            await backend.UploadAsync(p.Definition, info, content, cancellationToken);
            return await backend.InfoAsync(p.Definition, volume, cancellationToken);
        }, cancellationToken);

    public async Task DownloadVolumeAsync(string pool, string volume, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var info = await GetVolumeInfoAsync(pool, volume, cancellationToken);
        await using var file = new FileStream(info.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await file.CopyToAsync(destination, 1 << 20, cancellationToken);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private IPoolBackend Backend(PoolDefinition definition) =>
        _backends.TryGetValue(definition.Type, out var backend)
            ? backend
            : throw VirtException.NotSupported("storage", $"pools of type '{StrictElement.XmlName(definition.Type)}' (only dir is available)");

    private Pool Find(string name)
    {
        lock (_lock)
        {
            if (_pools.TryGetValue(name, out var pool) && !pool.Defining)
            {
                return pool;
            }

            var byUuid = Guid.TryParse(name, out var uuid) ? _pools.Values.FirstOrDefault(p => p.Definition.Uuid == uuid && !p.Defining) : null;
            return byUuid ?? throw VirtException.NoStoragePool(name);
        }
    }

    /// <summary>Reserves a new pool (invisible to lookups until its definition is written) or matches the one of that name and UUID.</summary>
    private (Pool Pool, bool Added) AddOrMatch(PoolDefinition definition)
    {
        lock (_lock)
        {
            if (_pools.TryGetValue(definition.Name, out var existing))
            {
                if (existing.Definition.Uuid != definition.Uuid)
                {
                    throw new VirtException(VirtErrorCode.AlreadyExists, $"operation failed: pool '{definition.Name}' already exists with uuid {existing.Definition.Uuid}");
                }

                return (existing, false);
            }

            var clash = _pools.Values.FirstOrDefault(p => p.Definition.Uuid == definition.Uuid || p.Definition.TargetPath == definition.TargetPath);
            if (clash is not null)
            {
                throw new VirtException(VirtErrorCode.AlreadyExists, $"operation failed: pool '{clash.Definition.Name}' already has that uuid or target path {definition.TargetPath}");
            }

            var pool = new Pool(definition) { Defining = true };
            _pools[definition.Name] = pool;
            return (pool, true);
        }
    }

    /// <summary>Takes the pool out of the list for good; jobs queued on it refuse it from now on (libvirt's removing objects).</summary>
    private void Forget(Pool pool)
    {
        lock (_lock)
        {
            pool.Removed = true;
            if (_pools.TryGetValue(pool.Definition.Name, out var listed) && ReferenceEquals(listed, pool))
            {
                _pools.Remove(pool.Definition.Name);
            }
        }
    }

    private Task WithPoolAsync(string name, Func<Pool, Task> action, CancellationToken cancellationToken)
    {
        var pool = Find(name);
        return _jobs.RunAsync(pool.Definition.Uuid, () => pool.Removed ? throw VirtException.NoStoragePool(name) : action(pool), cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="action"/> in the pool's job. The pool is looked up before the job and
    /// checked again once it is held: one undefined in between is refused as not found.
    /// </summary>
    private Task<T> WithPoolAsync<T>(string name, Func<Pool, Task<T>> action, CancellationToken cancellationToken)
    {
        var pool = Find(name);
        return _jobs.RunAsync(pool.Definition.Uuid, () => pool.Removed ? throw VirtException.NoStoragePool(name) : action(pool), cancellationToken);
    }

    private string ConfigFile(string pool) => Path.Combine(_config, pool + ".xml");

    private string AutostartMarker(string pool) => Path.Combine(_config, pool + ".autostart");

    private string ActiveMarker(string pool) => Path.Combine(_run, pool + ".active");

    private sealed class Pool(PoolDefinition definition)
    {
        public PoolDefinition Definition { get; set; } = definition;

        public bool Active { get; set; }

        public bool Autostart { get; set; }

        /// <summary>Reserved by a define that has not been written yet: invisible to lookups.</summary>
        public bool Defining { get; set; }

        /// <summary>Out of the list (undefined): jobs that waited behind the removal refuse it.</summary>
        public bool Removed { get; set; }

        public PoolSummary Summary() => new(Definition.Name, Definition.Uuid, Active ? PoolState.Running : PoolState.Inactive, Autostart, true);

        public void EnsureActive()
        {
            if (!Active)
            {
                throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: storage pool '{Definition.Name}' is not active; start it with pool-start");
            }
        }

        public void EnsureInactive(string operation)
        {
            if (Active)
            {
                throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: storage pool '{Definition.Name}' is active; stop it with pool-destroy before {operation}");
            }
        }
    }
}

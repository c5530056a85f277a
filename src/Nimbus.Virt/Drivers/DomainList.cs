using Nimbus.Virt.Definitions;

namespace Nimbus.Virt.Drivers;

/// <summary>
/// One domain a driver knows: its configuration, its state, and the driver's own runtime data.
/// Mutated only inside the domain's job (<see cref="KeyedJobs"/>).
/// </summary>
public sealed class DomainObject<TRuntime>
    where TRuntime : class
{
    internal DomainObject(DomainDefinition definition)
    {
        Definition = definition;
    }

    /// <summary>The persistent configuration: what the next start boots.</summary>
    public DomainDefinition Definition { get; set; }

    /// <summary>The configuration the running guest was started with; null when shut off.</summary>
    public DomainDefinition? Live { get; set; }

    public Guid Uuid => Definition.Uuid;

    public string Name => Definition.Name;

    public DomainStatus Status { get; set; } = DomainStatus.NeverStarted;

    public bool Persistent { get; set; } = true;

    public bool Autostart { get; set; }

    public bool HasManagedSave { get; set; }

    /// <summary>The id of an active domain, unique on the node until the driver restarts.</summary>
    public int? Id { get; set; }

    public TRuntime? Runtime { get; set; }

    /// <summary>
    /// Set once the domain has left its list (undefined, or a transient one stopped): a job that
    /// waited behind the removal must not act on it (libvirt's <c>vm-&gt;removing</c>).
    /// </summary>
    public bool Removed { get; internal set; }

    public DomainSummary Summary() => new(Name, Uuid, Status.IsActive ? Id : null, Status, Persistent, Autostart, HasManagedSave);

    public void EnsureActive()
    {
        if (!Status.IsActive)
        {
            throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: domain '{Name}' is not running");
        }
    }

    public void EnsureInactive()
    {
        if (Status.IsActive)
        {
            throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: domain '{Name}' is already running");
        }
    }

    public void EnsureState(DomainState state, string need)
    {
        if (Status.State != state)
        {
            throw new VirtException(VirtErrorCode.OperationInvalid, $"Requested operation is not valid: domain '{Name}' is {Status.StateText}; {need}");
        }
    }
}

/// <summary>
/// The domains of one driver, found by name or UUID. Adding follows libvirt's rules: a name and a
/// UUID belong to one domain; defining again with both the same replaces the configuration.
/// </summary>
public sealed class DomainList<TRuntime>
    where TRuntime : class
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, DomainObject<TRuntime>> _byUuid = [];
    private readonly Dictionary<string, DomainObject<TRuntime>> _byName = new(StringComparer.Ordinal);
    private int _nextId = 1;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byUuid.Count;
            }
        }
    }

    public DomainObject<TRuntime> Find(string nameOrUuid)
    {
        ArgumentNullException.ThrowIfNull(nameOrUuid);
        lock (_lock)
        {
            if (_byName.TryGetValue(nameOrUuid, out var byName))
            {
                return byName;
            }

            if (Guid.TryParse(nameOrUuid, out var uuid) && _byUuid.TryGetValue(uuid, out var byUuid))
            {
                return byUuid;
            }
        }

        throw VirtException.NoDomain(nameOrUuid);
    }

    /// <summary>
    /// Runs <paramref name="job"/> in the domain's job. The domain is looked up before the job is
    /// taken and checked again once it is held: one removed in between (an undefine queued ahead)
    /// is refused as not found, so nothing starts a domain that no list shows.
    /// </summary>
    public Task<T> RunJobAsync<T>(KeyedJobs jobs, string nameOrUuid, Func<DomainObject<TRuntime>, Task<T>> job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        ArgumentNullException.ThrowIfNull(job);
        var domain = Find(nameOrUuid);
        return jobs.RunAsync(
            domain.Uuid,
            () => domain.Removed ? throw VirtException.NoDomain(nameOrUuid) : job(domain),
            cancellationToken);
    }

    /// <inheritdoc cref="RunJobAsync{T}(KeyedJobs, string, Func{DomainObject{TRuntime}, Task{T}}, CancellationToken)"/>
    public Task RunJobAsync(KeyedJobs jobs, string nameOrUuid, Func<DomainObject<TRuntime>, Task> job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return RunJobAsync(
            jobs,
            nameOrUuid,
            async d =>
            {
                await job(d);
                return true;
            },
            cancellationToken);
    }

    /// <summary>Adds a new domain, or returns the existing one (to be updated by the caller) when name and UUID both match.</summary>
    public (DomainObject<TRuntime> Domain, bool Added) AddOrMatch(DomainDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        lock (_lock)
        {
            if (_byUuid.TryGetValue(definition.Uuid, out var sameUuid))
            {
                if (sameUuid.Name != definition.Name)
                {
                    throw new VirtException(VirtErrorCode.AlreadyExists, $"operation failed: domain '{sameUuid.Name}' is already defined with uuid {definition.Uuid}");
                }

                return (sameUuid, false);
            }

            if (_byName.TryGetValue(definition.Name, out var sameName))
            {
                throw new VirtException(VirtErrorCode.AlreadyExists, $"operation failed: domain '{definition.Name}' already exists with uuid {sameName.Uuid}");
            }

            var added = new DomainObject<TRuntime>(definition);
            _byUuid.Add(definition.Uuid, added);
            _byName.Add(definition.Name, added);
            return (added, true);
        }
    }

    /// <summary>Takes the domain out of the list for good; jobs queued on it refuse it from now on.</summary>
    public void Remove(DomainObject<TRuntime> domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        lock (_lock)
        {
            domain.Removed = true;
            if (_byUuid.TryGetValue(domain.Uuid, out var listed) && ReferenceEquals(listed, domain))
            {
                _byUuid.Remove(domain.Uuid);
                _byName.Remove(domain.Name);
            }
        }
    }

    public int NextId()
    {
        lock (_lock)
        {
            return _nextId++;
        }
    }

    public IReadOnlyList<DomainObject<TRuntime>> Snapshot()
    {
        lock (_lock)
        {
            return [.. _byUuid.Values];
        }
    }

    /// <summary>virsh list order: active domains by id, then inactive ones by name.</summary>
    public IReadOnlyList<DomainSummary> List(ListFilter filter) =>
        Snapshot()
            .Select(d => d.Summary())
            .Where(s => s.Status.IsActive ? filter.HasFlag(ListFilter.Active) : filter.HasFlag(ListFilter.Inactive))
            .OrderBy(s => s.Id is null)
            .ThenBy(s => s.Id)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
}

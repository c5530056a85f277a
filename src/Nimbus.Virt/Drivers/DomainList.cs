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

        throw new VirtException(VirtErrorCode.NoDomain, $"Domain not found: no domain with matching name or uuid '{nameOrUuid}'");
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

    public void Remove(DomainObject<TRuntime> domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        lock (_lock)
        {
            _byUuid.Remove(domain.Uuid);
            _byName.Remove(domain.Name);
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

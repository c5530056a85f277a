using Nimbus.Virt.Drivers;
using Nimbus.Virt.Storage;

namespace Nimbus.Virt;

/// <summary>
/// An open connection to one hypervisor, named by URI as in libvirt (<c>qemu:///system</c>,
/// <c>test:///default</c>). The drivers behind it are chosen by the URI's scheme.
/// </summary>
public sealed class VirtConnection : IAsyncDisposable
{
    private readonly IStorageDriver? _storage;

    internal VirtConnection(Uri uri, IHypervisorDriver hypervisor, IStorageDriver? storage)
    {
        Uri = uri;
        Hypervisor = hypervisor;
        _storage = storage;
    }

    public Uri Uri { get; }

    public IHypervisorDriver Hypervisor { get; }

    public IStorageDriver Storage => _storage ?? throw VirtException.NotSupported(Hypervisor.Name, "storage pools on this connection");

    public async ValueTask DisposeAsync()
    {
        await Hypervisor.DisposeAsync();
        if (_storage is not null)
        {
            await _storage.DisposeAsync();
        }
    }
}

/// <summary>Which driver opens which URI scheme. The test driver is always there; hosts add the others.</summary>
public sealed class DriverRegistry
{
    private readonly Dictionary<string, Func<Uri, CancellationToken, Task<IHypervisorDriver>>> _hypervisors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<Uri, CancellationToken, Task<IStorageDriver>>> _storage = new(StringComparer.Ordinal);

    /// <param name="testStorageDirectory">Where test connections keep storage pools' state; without one they have no storage.</param>
    public DriverRegistry(string? testStorageDirectory = null)
    {
        RegisterHypervisor("test", TestDriver.TestHypervisorDriver.OpenAsync);
        if (testStorageDirectory is not null)
        {
            RegisterStorage("test", async (_, ct) => await StorageDriver.OpenAsync(testStorageDirectory, ct));
        }
    }

    public IEnumerable<string> Schemes => _hypervisors.Keys.Order(StringComparer.Ordinal);

    public void RegisterHypervisor(string scheme, Func<Uri, CancellationToken, Task<IHypervisorDriver>> open)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        _hypervisors[scheme] = open;
    }

    public void RegisterStorage(string scheme, Func<Uri, CancellationToken, Task<IStorageDriver>> open)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        _storage[scheme] = open;
    }

    public async Task<VirtConnection> OpenAsync(string uri, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed))
        {
            throw new VirtException(VirtErrorCode.NoConnect, $"'{uri}' is not a connection URI such as qemu:///system or test:///default");
        }

        if (parsed.Scheme.Contains('+', StringComparison.Ordinal) || parsed.Host.Length > 0)
        {
            throw new VirtException(VirtErrorCode.NoConnect, $"remote connections ('{uri}') are not supported; connect to the local node with {parsed.Scheme.Split('+')[0]}:///…");
        }

        if (!_hypervisors.TryGetValue(parsed.Scheme, out var open))
        {
            throw new VirtException(VirtErrorCode.NoConnect, $"no driver for '{uri}'; available: {string.Join(", ", Schemes.Select(s => s + ":///"))}");
        }

        var hypervisor = await open(parsed, cancellationToken);
        var storage = _storage.TryGetValue(parsed.Scheme, out var openStorage) ? await openStorage(parsed, cancellationToken) : null;
        return new VirtConnection(parsed, hypervisor, storage);
    }
}

using Nimbus.Virt.Drivers;

namespace Nimbus.Virt;

/// <summary>
/// An open connection to one hypervisor, named by URI as in libvirt (<c>qemu:///system</c>,
/// <c>test:///default</c>). The drivers behind it are chosen by the URI's scheme.
/// </summary>
public sealed class VirtConnection : IAsyncDisposable
{
    internal VirtConnection(Uri uri, IHypervisorDriver hypervisor)
    {
        Uri = uri;
        Hypervisor = hypervisor;
    }

    public Uri Uri { get; }

    public IHypervisorDriver Hypervisor { get; }

    public ValueTask DisposeAsync() => Hypervisor.DisposeAsync();
}

/// <summary>Which driver opens which URI scheme. The test driver is always there; hosts add the others.</summary>
public sealed class DriverRegistry
{
    private readonly Dictionary<string, Func<Uri, CancellationToken, Task<IHypervisorDriver>>> _hypervisors = new(StringComparer.Ordinal);

    public DriverRegistry()
    {
        RegisterHypervisor("test", TestDriver.TestHypervisorDriver.OpenAsync);
    }

    public IEnumerable<string> Schemes => _hypervisors.Keys.Order(StringComparer.Ordinal);

    public void RegisterHypervisor(string scheme, Func<Uri, CancellationToken, Task<IHypervisorDriver>> open)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        _hypervisors[scheme] = open;
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

        return new VirtConnection(parsed, await open(parsed, cancellationToken));
    }
}

using System.Collections.Concurrent;
using Nimbus.Virt;

namespace Nimbus.Daemon.Virt;

/// <summary>
/// The hypervisor connections this daemon holds, one per URI, opened on first use and shared by
/// every caller (as libvirtd shares its drivers), closed when the daemon stops.
/// </summary>
internal sealed class VirtConnections(DriverRegistry registry) : IAsyncDisposable
{
    public const string DefaultUri = "qemu:///system";

    private readonly ConcurrentDictionary<string, Lazy<Task<VirtConnection>>> _connections = new(StringComparer.Ordinal);

    public async Task<VirtConnection> GetAsync(string? uri, CancellationToken cancellationToken)
    {
        var key = string.IsNullOrWhiteSpace(uri) ? DefaultUri : uri;
        var opening = _connections.GetOrAdd(key, k => new Lazy<Task<VirtConnection>>(() => registry.OpenAsync(k, CancellationToken.None)));
        try
        {
            return await opening.Value.WaitAsync(cancellationToken);
        }
        catch (VirtException)
        {
            // A URI that failed to open is not cached: the next call tries again.
            _connections.TryRemove(new KeyValuePair<string, Lazy<Task<VirtConnection>>>(key, opening));
            throw;
        }
    }

    /// <summary>The connections opened so far, by URI; none is opened by asking.</summary>
    public IEnumerable<(string Uri, VirtConnection Connection)> Open()
    {
        foreach (var (uri, opening) in _connections)
        {
            if (opening.IsValueCreated && opening.Value.IsCompletedSuccessfully)
            {
                yield return (uri, opening.Value.Result);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var opening in _connections.Values)
        {
            if (opening.IsValueCreated && opening.Value.IsCompletedSuccessfully)
            {
                await opening.Value.Result.DisposeAsync();
            }
        }
    }
}

using System.Collections.Concurrent;

namespace Nimbus.Virt.Drivers;

/// <summary>
/// Serializes changes to one object — a domain (libvirt's per-domain job), a pool — while different
/// objects proceed in parallel. A job holds only its object's gate; no global lock is held while it
/// awaits the hypervisor.
/// </summary>
public sealed class KeyedJobs
{
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _gates = new();

    public async Task<T> RunAsync<T>(Guid domain, Func<Task<T>> job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var gate = _gates.GetOrAdd(domain, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await job();
        }
        finally
        {
            gate.Release();
        }
    }

    public Task RunAsync(Guid domain, Func<Task> job, CancellationToken cancellationToken) =>
        RunAsync(
            domain,
            async () =>
            {
                await job();
                return true;
            },
            cancellationToken);
}

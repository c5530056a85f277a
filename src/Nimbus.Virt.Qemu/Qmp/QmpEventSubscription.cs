using System.Threading.Channels;

namespace Nimbus.Virt.Qemu.Qmp;

/// <summary>
/// Events from one <see cref="QmpClient"/>, from the moment of subscribing until disposal or disconnect
/// (then <see cref="Reader"/> completes). Subscribe before sending the command that causes an event,
/// so the event cannot slip by in between.
/// </summary>
internal sealed class QmpEventSubscription : IDisposable
{
    private readonly QmpClient _client;
    private readonly HashSet<string>? _names;
    private readonly Channel<QmpEvent> _channel;
    private long _dropped;

    internal QmpEventSubscription(QmpClient client, IReadOnlyCollection<string> names, int capacity)
    {
        _client = client;
        _names = names.Count == 0 ? null : new HashSet<string>(names, StringComparer.Ordinal);
        _channel = Channel.CreateBounded<QmpEvent>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    public ChannelReader<QmpEvent> Reader => _channel.Reader;

    /// <summary>Events lost because this subscriber fell more than the buffer capacity behind.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Reads events until one named <paramref name="name"/> arrives, discarding the others.
    /// Throws <see cref="QmpConnectionClosedException"/> if the connection ends first.
    /// </summary>
    public async Task<QmpEvent> WaitForEventAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        while (await _channel.Reader.WaitToReadAsync(cancellationToken))
        {
            while (_channel.Reader.TryRead(out var qmpEvent))
            {
                if (string.Equals(qmpEvent.Name, name, StringComparison.Ordinal))
                {
                    return qmpEvent;
                }
            }
        }

        throw _client.SubscriptionEnded(name);
    }

    public void Dispose()
    {
        _client.Unsubscribe(this);
        Complete();
    }

    internal bool Wants(string name) => _names is null || _names.Contains(name);

    internal void Publish(QmpEvent qmpEvent) => _channel.Writer.TryWrite(qmpEvent);

    internal void Complete() => _channel.Writer.TryComplete();
}

namespace Nimbus.Virt.Qemu.Qmp;

internal sealed record QmpClientOptions
{
    public static QmpClientOptions Default { get; } = new();

    /// <summary>
    /// The longest message accepted. The largest replies QEMU sends (query-qmp-schema, long HMP output)
    /// are well under a megabyte; anything beyond this is treated as a broken peer.
    /// </summary>
    public int MaxMessageBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Events buffered per subscription before the oldest is dropped (counted in
    /// <see cref="QmpEventSubscription.DroppedCount"/>); a slow subscriber never stalls command replies.
    /// </summary>
    public int EventCapacity { get; init; } = 1024;

    /// <summary>Called with each command as written to the socket and whether a descriptor went with it; for tests that record the exchange.</summary>
    public Action<string, bool>? CommandSent { get; init; }
}

using System.Text.Json.Nodes;

namespace Nimbus.Virt.Qemu.Qmp;

/// <summary>
/// An asynchronous QMP event (qmp-spec "Asynchronous events"), such as <c>SHUTDOWN</c>, <c>STOP</c>,
/// <c>RESUME</c> or <c>RESET</c>. <see cref="Timestamp"/> is QEMU's clock when it emitted the event.
/// </summary>
internal sealed record QmpEvent(string Name, JsonObject? Data, DateTimeOffset Timestamp);

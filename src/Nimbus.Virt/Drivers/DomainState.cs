using System.Text.Json;
using System.Text.Json.Serialization;

namespace Nimbus.Virt.Drivers;

/// <summary>libvirt's virDomainState.</summary>
public enum DomainState
{
    [JsonStringEnumMemberName("nostate")]
    NoState,

    [JsonStringEnumMemberName("running")]
    Running,

    [JsonStringEnumMemberName("blocked")]
    Blocked,

    [JsonStringEnumMemberName("paused")]
    Paused,

    [JsonStringEnumMemberName("shutdown")]
    Shutdown,

    [JsonStringEnumMemberName("shutoff")]
    Shutoff,

    [JsonStringEnumMemberName("crashed")]
    Crashed,

    [JsonStringEnumMemberName("pmsuspended")]
    PmSuspended,
}

/// <summary>A domain's state and why it is in it, with libvirt's reason names ("booted", "destroyed", …).</summary>
public sealed record DomainStatus(DomainState State, string Reason)
{
    [JsonIgnore]
    public bool IsActive => State is not (DomainState.Shutoff or DomainState.NoState);

    /// <summary>virsh's words: "running", "shut off", "paused"…</summary>
    [JsonIgnore]
    public string StateText => State switch
    {
        DomainState.NoState => "no state",
        DomainState.Running => "running",
        DomainState.Blocked => "idle",
        DomainState.Paused => "paused",
        DomainState.Shutdown => "in shutdown",
        DomainState.Shutoff => "shut off",
        DomainState.Crashed => "crashed",
        DomainState.PmSuspended => "pmsuspended",
        _ => "unknown",
    };

    public override string ToString() => $"{StateText} ({Reason})";

    public static DomainStatus Booted { get; } = new(DomainState.Running, "booted");

    public static DomainStatus NeverStarted { get; } = new(DomainState.Shutoff, "unknown");
}

/// <summary>One line of <c>list</c>: identity and state, no configuration.</summary>
public sealed record DomainSummary(string Name, Guid Uuid, int? Id, DomainStatus Status, bool Persistent, bool Autostart, bool HasManagedSave);

/// <summary>virDomainInfo: what <c>dominfo</c> shows.</summary>
public sealed record DomainInfo(
    DomainSummary Summary,
    [property: JsonPropertyName("max_memory_kib")] ulong MaxMemoryKiB,
    [property: JsonPropertyName("memory_kib")] ulong MemoryKiB,
    int Vcpus,
    [property: JsonPropertyName("cpu_time_ns"), JsonConverter(typeof(NanosecondsConverter))] TimeSpan CpuTime,
    string OsType);

/// <summary>CPU time as libvirt reports it: whole nanoseconds.</summary>
public sealed class NanosecondsConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        TimeSpan.FromTicks(reader.GetInt64() / 100);

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteNumberValue(value.Ticks * 100);
    }
}

public sealed record BlockStats(string Device, long ReadRequests, long ReadBytes, long WriteRequests, long WriteBytes, long Errors);

public sealed record InterfaceStats(string Device, long RxBytes, long RxPackets, long RxErrors, long RxDrops, long TxBytes, long TxPackets, long TxErrors, long TxDrops);

/// <summary>virNodeInfo: the host as the hypervisor sees it.</summary>
public sealed record NodeInfo(string CpuModel, [property: JsonPropertyName("memory_kib")] ulong MemoryKiB, int Cpus, int MhZ, int Nodes, int Sockets, int CoresPerSocket, int ThreadsPerCore);

/// <summary>Which domains <c>list</c> returns.</summary>
[Flags]
public enum ListFilter
{
    Active = 1,
    Inactive = 2,
    All = Active | Inactive,
}

[Flags]
public enum UndefineOptions
{
    None = 0,

    /// <summary>Also delete the managed save image, which otherwise blocks undefine.</summary>
    ManagedSave = 1,
}

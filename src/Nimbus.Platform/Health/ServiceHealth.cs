using System.Collections.Concurrent;
using System.Text.Json.Serialization;

namespace Nimbus.Platform.Health;

[JsonConverter(typeof(JsonStringEnumConverter<ServiceState>))]
public enum ServiceState
{
    [JsonStringEnumMemberName("starting")]
    Starting,

    [JsonStringEnumMemberName("running")]
    Running,

    [JsonStringEnumMemberName("stopping")]
    Stopping,

    [JsonStringEnumMemberName("failed")]
    Failed,
}

/// <summary>A service's state as <c>/healthz</c> reports it.</summary>
public sealed record ServiceStatus(
    [property: JsonPropertyName("state")] ServiceState State,
    [property: JsonPropertyName("detail"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail);

/// <summary>
/// The states of the services a node runs. Each service sets its own; <c>/healthz</c> reads them all.
/// </summary>
public sealed class ServiceHealthRegistry
{
    private readonly ConcurrentDictionary<string, ServiceStatus> _services = new(StringComparer.Ordinal);

    public void Set(string service, ServiceState state, string? detail = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        _services[service] = new ServiceStatus(state, detail);
    }

    public IReadOnlyDictionary<string, ServiceStatus> Snapshot() =>
        new SortedDictionary<string, ServiceStatus>(_services, StringComparer.Ordinal);

    /// <summary>Healthy when at least one service is registered and all are running.</summary>
    public bool IsHealthy()
    {
        var snapshot = _services.ToArray();
        return snapshot.Length > 0 && snapshot.All(s => s.Value.State == ServiceState.Running);
    }
}

/// <summary>The body of <c>GET /healthz</c>; the CLI reads the same contract.</summary>
public sealed record HealthReport(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("started_at")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("uptime_seconds")] double UptimeSeconds,
    [property: JsonPropertyName("services")] IReadOnlyDictionary<string, ServiceStatus> Services)
{
    public const string Healthy = "ok";
    public const string Unhealthy = "degraded";
}

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(HealthReport))]
public sealed partial class HealthJsonContext : JsonSerializerContext;

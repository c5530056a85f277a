using Nimbus.Platform.Health;

namespace Nimbus.Daemon;

internal static class HealthEndpoints
{
    /// <summary><c>GET /healthz</c>: 200 when every service runs, 503 otherwise, with each service's state.</summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", (DaemonInfo info, ServiceHealthRegistry health, TimeProvider clock) =>
        {
            var healthy = health.IsHealthy();
            var uptime = clock.GetUtcNow() - info.StartedAt;
            var report = new HealthReport(
                healthy ? HealthReport.Healthy : HealthReport.Unhealthy,
                info.Version,
                info.RoleName,
                info.StartedAt,
                Math.Round(Math.Max(0, uptime.TotalSeconds), 3),
                health.Snapshot());
            return Results.Json(report, HealthJsonContext.Default.HealthReport, statusCode: healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        return endpoints;
    }
}

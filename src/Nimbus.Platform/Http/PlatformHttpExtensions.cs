using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Nimbus.Platform.Health;
using Prometheus;

namespace Nimbus.Platform.Http;

/// <summary>The shared pieces every Nimbus HTTP host is built from.</summary>
public static class PlatformHttpExtensions
{
    /// <summary>
    /// Registers the clock, the service health registry, this host's metrics registry and the
    /// factory services make their metrics with. Tests
    /// register their own <see cref="TimeProvider"/> first to drive time.
    /// </summary>
    public static IServiceCollection AddNimbusPlatform(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ServiceHealthRegistry>();
        services.TryAddSingleton(_ =>
        {
            // One registry per host, not prometheus-net's static default, so hosts in one process stay apart.
            var registry = Metrics.NewCustomRegistry();
            DotNetStats.Register(registry);
            return registry;
        });
        // Services create their own series (tokens, objects, guests) in the host's registry through this.
        services.TryAddSingleton<IMetricFactory>(provider => Metrics.WithCustomRegistry(provider.GetRequiredService<CollectorRegistry>()));
        return services;
    }

    /// <summary>
    /// Request ids, fault bodies, the refusal of paths routing would rewrite (<see cref="RawPath"/>)
    /// and per-route request metrics, in that order, ahead of routing.
    /// </summary>
    public static IApplicationBuilder UseNimbusPlatform(this IApplicationBuilder app)
    {
        var registry = app.ApplicationServices.GetRequiredService<CollectorRegistry>();
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseMiddleware<FaultMiddleware>();
        app.Use((context, next) =>
        {
            RawPath.EnsurePlain(context);
            return next(context);
        });
        app.UseRouting();
        app.UseHttpMetrics(options =>
        {
            options.SetMetricFactory(Metrics.WithCustomRegistry(registry));
            options.ReduceStatusCodeCardinality();
        });
        return app;
    }

    /// <summary>Serves this host's metrics in the Prometheus text exposition format.</summary>
    public static IEndpointConventionBuilder MapNimbusMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        var registry = endpoints.ServiceProvider.GetRequiredService<CollectorRegistry>();
        return endpoints.MapMetrics(pattern, registry);
    }
}

using Nimbus.Platform.Contracts;

namespace Nimbus.Daemon.Objects;

/// <summary>
/// The Swift API on the API host (through the proxy pipeline), and the local operator API of the
/// all-in-one's storage nodes under <c>/objects/v1</c>, served only on the unix socket.
/// </summary>
internal static class ObjectsEndpoints
{
    /// <summary>Routes /v1, /auth, /info and /healthcheck to the proxy pipeline, ahead of the OpenStack fault handling.</summary>
    public static IApplicationBuilder UseSwiftProxy(this IApplicationBuilder app, ObjectStorage storage) =>
        app.MapWhen(context => Nimbus.Objects.Proxy.ProxyPipeline.Handles(context.Request.Path), branch => branch.Run(storage.HandleAsync));

    public static IEndpointRouteBuilder MapObjectsAdmin(this IEndpointRouteBuilder endpoints)
    {
        var objects = endpoints.MapGroup("/objects/v1").AddEndpointFilter(LocalOnly.FilterAsync);
        objects.MapGet("/nodes", (ObjectStorage storage) =>
            Results.Json(storage.Nodes.Select(Describe).ToList(), ContractsJson.Default.ListStorageNodeStatus));
        objects.MapPost("/nodes/{node:int}/stop", async (ObjectStorage storage, int node, CancellationToken ct) =>
        {
            var host = storage.Node(node);
            await host.StopAsync(ct);
            return Results.Json(Describe(host), ContractsJson.Default.StorageNodeStatus);
        });
        objects.MapPost("/nodes/{node:int}/start", async (ObjectStorage storage, int node, CancellationToken ct) =>
        {
            var host = storage.Node(node);
            await host.StartAsync(ct);
            return Results.Json(Describe(host), ContractsJson.Default.StorageNodeStatus);
        });
        return endpoints;
    }

    private static StorageNodeStatus Describe(Nimbus.Objects.Servers.StorageNodeHost host) =>
        new(host.Settings.Node, host.Url, host.Running ? "running" : "stopped", host.Settings.DevicesRoot);
}

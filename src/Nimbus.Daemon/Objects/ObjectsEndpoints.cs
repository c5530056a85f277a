using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Nimbus.Objects.Middleware;
using Nimbus.Platform.Contracts;
using Nimbus.Platform.Errors;

namespace Nimbus.Daemon.Objects;

/// <summary>
/// The Swift API on the API host (through the proxy pipeline), and the local operator API of the
/// all-in-one's storage nodes under <c>/objects/v1</c>, served only on the unix socket.
/// </summary>
internal static class ObjectsEndpoints
{
    /// <summary>Routes /v1, /auth, /info and /healthcheck to the proxy pipeline, ahead of the OpenStack fault handling.</summary>
    public static IApplicationBuilder UseSwiftProxy(this IApplicationBuilder app, ObjectStorage storage) =>
        app.MapWhen(context => Nimbus.Objects.Proxy.ProxyPipeline.Handles(context), branch => branch.Run(storage.HandleAsync));

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
        objects.MapGet("/tempauth/users", (ObjectStorage storage) =>
            Results.Json(storage.TempAuthUsers.Current.Users.Select(u => Describe(u, withKey: false)).ToList(), ContractsJson.Default.ListTempAuthUserStatus));
        objects.MapPost("/tempauth/users", async (HttpContext context, ObjectStorage storage, CancellationToken ct) =>
        {
            var request = await ReadBodyAsync(context, ContractsJson.Default.TempAuthUserRequest, ct);
            var added = await storage.TempAuthUsers.AddUserAsync(request.Account ?? string.Empty, request.User ?? string.Empty, request.Key, request.Groups ?? [], ct);
            return Results.Json(Describe(added, withKey: true), ContractsJson.Default.TempAuthUserStatus, statusCode: StatusCodes.Status201Created);
        });
        objects.MapPost("/tempauth/users/{account}/{user}/key", async (HttpContext context, ObjectStorage storage, string account, string user, CancellationToken ct) =>
        {
            var request = await ReadBodyAsync(context, ContractsJson.Default.TempAuthKeyRequest, ct);
            var changed = await storage.SetTempAuthKeyAsync(account, user, request.Key, ct);
            return Results.Json(Describe(changed, withKey: true), ContractsJson.Default.TempAuthUserStatus);
        });
        objects.MapDelete("/tempauth/users/{account}/{user}", async (ObjectStorage storage, string account, string user, CancellationToken ct) =>
        {
            await storage.TempAuthUsers.RemoveUserAsync(account, user, ct);
            return Results.NoContent();
        });
        return endpoints;
    }

    private static TempAuthUserStatus Describe(TempAuthUser user, bool withKey) =>
        new(user.Account, user.User, user.Groups, $"/v1/AUTH_{user.Account}", withKey ? user.Key : null);

    /// <summary>A JSON body of the local operator API; an empty body reads as <c>{}</c>.</summary>
    private static async Task<T> ReadBodyAsync<T>(HttpContext context, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, cancellationToken);
            return JsonSerializer.Deserialize(body.Length == 0 ? "{}"u8.ToArray() : body.ToArray(), type)
                ?? throw new JsonException("the body is null");
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException("objects.bad_request_body", $"the request body is not the JSON expected ({ex.Message}).", ex);
        }
    }

    private static StorageNodeStatus Describe(Nimbus.Objects.Servers.StorageNodeHost host) =>
        new(host.Settings.Node, host.Url, host.Running ? "running" : "stopped", host.Settings.DevicesRoot);
}

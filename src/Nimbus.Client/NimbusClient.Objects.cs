using Nimbus.Platform.Contracts;

namespace Nimbus.Client;

/// <summary>The all-in-one's storage nodes, through the local operator API (unix socket).</summary>
public sealed partial class NimbusClient
{
    public Task<List<StorageNodeStatus>> ListStorageNodesAsync(CancellationToken cancellationToken) =>
        GetJsonAsync("/objects/v1/nodes", ContractsJson.Default.ListStorageNodeStatus, cancellationToken);

    /// <summary>Stops or starts one storage node: <paramref name="action"/> is "stop" or "start".</summary>
    public async Task<StorageNodeStatus> StorageNodeActionAsync(int node, string action, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/objects/v1/nodes/{node}/{action}");
        return await ReadJsonAsync(request, ContractsJson.Default.StorageNodeStatus, cancellationToken);
    }
}

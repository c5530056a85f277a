using System.Net.Http.Json;
using Nimbus.Platform.Contracts;

namespace Nimbus.Client;

/// <summary>The all-in-one's storage nodes and tempauth users, through the local operator API (unix socket).</summary>
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

    public Task<List<TempAuthUserStatus>> ListTempAuthUsersAsync(CancellationToken cancellationToken) =>
        GetJsonAsync("/objects/v1/tempauth/users", ContractsJson.Default.ListTempAuthUserStatus, cancellationToken);

    /// <summary>Adds a tempauth user; the answer carries its key, the only time it is shown.</summary>
    public async Task<TempAuthUserStatus> AddTempAuthUserAsync(TempAuthUserRequest user, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/objects/v1/tempauth/users")
        {
            Content = JsonContent.Create(user, ContractsJson.Default.TempAuthUserRequest),
        };
        return await ReadJsonAsync(request, ContractsJson.Default.TempAuthUserStatus, cancellationToken);
    }

    /// <summary>Gives a tempauth user a new key (<paramref name="key"/> null makes one up); the answer carries it.</summary>
    public async Task<TempAuthUserStatus> SetTempAuthKeyAsync(string account, string user, string? key, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/objects/v1/tempauth/users/{Uri.EscapeDataString(account)}/{Uri.EscapeDataString(user)}/key")
        {
            Content = JsonContent.Create(new TempAuthKeyRequest(key), ContractsJson.Default.TempAuthKeyRequest),
        };
        return await ReadJsonAsync(request, ContractsJson.Default.TempAuthUserStatus, cancellationToken);
    }

    public async Task RemoveTempAuthUserAsync(string account, string user, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"/objects/v1/tempauth/users/{Uri.EscapeDataString(account)}/{Uri.EscapeDataString(user)}");
        using var _ = await SendCheckedAsync(request, cancellationToken);
    }
}

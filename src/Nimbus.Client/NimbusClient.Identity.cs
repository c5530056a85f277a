using Nimbus.Platform.Contracts;

namespace Nimbus.Client;

/// <summary>Identity's token keys, through the local operator API (unix socket).</summary>
public sealed partial class NimbusClient
{
    public Task<TokenKeysStatus> GetTokenKeysAsync(CancellationToken cancellationToken) =>
        GetJsonAsync("/identity-admin/v1/token-keys", ContractsJson.Default.TokenKeysStatus, cancellationToken);

    /// <summary>Rotates the keys: the staged key starts signing, a new one is staged, the oldest beyond the limit goes.</summary>
    public async Task<TokenKeysStatus> RotateTokenKeysAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/identity-admin/v1/token-keys/rotate");
        return await ReadJsonAsync(request, ContractsJson.Default.TokenKeysStatus, cancellationToken);
    }
}

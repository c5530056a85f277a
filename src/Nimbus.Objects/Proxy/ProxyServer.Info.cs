using Microsoft.AspNetCore.Http;

namespace Nimbus.Objects.Proxy;

/// <summary>
/// What the proxy knows of a container, as Swift's get_container_info gives it to middlewares: the
/// HEAD status and headers (ACLs, versioning, X-Container-Meta-*), read without authorization
/// and cached as the proxy caches its own lookups.
/// </summary>
public sealed record ContainerInfo(int Status, IReadOnlyDictionary<string, string> Headers)
{
    public bool Exists => Status is >= 200 and < 300;

    public string? ReadAcl => Headers.GetValueOrDefault("X-Container-Read");

    public string? WriteAcl => Headers.GetValueOrDefault("X-Container-Write");

    /// <summary>An X-Container-Meta-* value by its name after the prefix ("Web-Index"); empty when unset.</summary>
    public string Meta(string name) => Headers.GetValueOrDefault("X-Container-Meta-" + name, string.Empty);
}

public sealed partial class ProxyServer
{
    private static readonly object ItemKey = new();

    /// <summary>The proxy serving a request, for filters that read account or container info (Swift's infocache in the environ).</summary>
    public static ProxyServer? ForRequest(HttpContext context) => context.Items.TryGetValue(ItemKey, out var proxy) ? proxy as ProxyServer : null;

    internal void Attach(HttpContext context) => context.Items[ItemKey] = this;

    /// <summary>
    /// Swift's get_account_info / get_container_info for filters: HEAD's status and headers of an
    /// account (<paramref name="container"/> null) or container, from the proxy's short-lived cache,
    /// with no authorization applied.
    /// </summary>
    public async Task<(bool Found, IReadOnlyDictionary<string, string> Headers)> GetInfoHeadersAsync(string account, string? container, CancellationToken cancellationToken)
    {
        if (container is not null)
        {
            var info = await ContainerInfoAsync(account, container, cancellationToken);
            return (info.Status is >= 200 and < 300, info.Headers);
        }

        var ring = _rings.Accounts;
        var partition = ring.GetPartition(account);
        var accountInfo = await GetInfoAsync(AccountKey(account), ring, partition, "account", BackendPath(account), cancellationToken);
        return (accountInfo.Status is >= 200 and < 300, accountInfo.Headers);
    }

    /// <summary>Swift's get_container_info: no authorization is applied, so filters decide with it.</summary>
    public async Task<ContainerInfo> GetContainerInfoAsync(string account, string container, CancellationToken cancellationToken)
    {
        var info = await ContainerInfoAsync(account, container, cancellationToken);
        return new ContainerInfo(info.Status, info.Headers);
    }
}

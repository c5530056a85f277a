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
    /// <summary>Swift's get_container_info: no authorization is applied, so filters decide with it.</summary>
    public async Task<ContainerInfo> GetContainerInfoAsync(string account, string container, CancellationToken cancellationToken)
    {
        var info = await ContainerInfoAsync(account, container, cancellationToken);
        return new ContainerInfo(info.Status, info.Headers);
    }
}

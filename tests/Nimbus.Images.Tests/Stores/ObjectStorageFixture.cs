using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Nimbus.Objects.Cluster;
using Nimbus.Objects.Middleware;
using Nimbus.TestSupport;

namespace Nimbus.Images.Tests.Stores;

/// <summary>
/// Nimbus's object storage in the test process: four storage nodes with three replicas on loopback,
/// the proxy (with tempauth and SLO) on a port of its own, and the admin user's credentials.
/// </summary>
public sealed class ObjectStorageFixture : IAsyncLifetime, IDisposable
{
    private TempDirectory? _root;
    private LocalCluster? _cluster;
    private WebApplication? _proxy;

    public Uri ProxyUrl { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>account:user, as the swift CLI's --user.</summary>
    public string User { get; private set; } = null!;

    public string Key { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _root = new TempDirectory();
        var settings = new LocalClusterSettings(_root.Path, "127.0.0.1") { BasePort = LocalMachine.FreePortRange(4), PartPower = 6, RunDaemons = false };
        _cluster = await LocalCluster.StartAsync(settings, TimeProvider.System, NullLoggerFactory.Instance, CancellationToken.None);
        _proxy = LoopbackWebHost.CreateBuilder().Build();
        _proxy.Run(_cluster.HandleAsync);
        await _proxy.StartAsync();
        ProxyUrl = LoopbackWebHost.UrlOf(_proxy);
        var admin = _cluster.Auth.Users.First(u => u.Account == TempAuthStore.AdminAccount && u.User == TempAuthStore.AdminUser);
        User = $"{admin.Account}:{admin.User}";
        Key = admin.Key;
    }

    /// <summary>Names of the objects in <paramref name="container"/>, straight from its listing (none when it does not exist).</summary>
    public async Task<IReadOnlyList<string>> ListAsync(string container)
    {
        using var auth = new SwiftAdmin(this);
        var credentials = await auth.Auth.GetAsync(CancellationToken.None);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{credentials.StorageUrl}/{Uri.EscapeDataString(container)}?format=json");
        request.Headers.Add("X-Auth-Token", credentials.Token);
        using var response = await Http.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return [];
        }

        response.EnsureSuccessStatusCode();
        var listing = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
        return [.. listing.Select(o => o!["name"]!.GetValue<string>())];
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    // xunit disposes a fixture after DisposeAsync: the cluster has stopped writing by then.
    public void Dispose() => _root?.Dispose();

    /// <summary>Admin credentials through the store's own tempauth client.</summary>
    internal sealed class SwiftAdmin(ObjectStorageFixture fixture) : IDisposable
    {
        public Images.Stores.SwiftTempAuth Auth { get; } = new(fixture.Http, fixture.ProxyUrl, fixture.User, fixture.Key, TimeProvider.System);

        public void Dispose() => Auth.Dispose();
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nimbus.Objects.Cluster;
using Nimbus.Objects.Middleware;
using Nimbus.TestSupport;

namespace Nimbus.Objects.Tests.Proxy;

/// <summary>
/// A four-node, three-replica cluster on loopback in the test process, its proxy on a port of its
/// own, and an admin token; the clock advances a millisecond each time it is read, so every
/// request gets a newer timestamp as on a real clock.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly TempDirectory _root;
    private readonly WebApplication _proxy;

    private TestCluster(TempDirectory root, LocalCluster cluster, WebApplication proxy, FakeTimeProvider clock, Uri url)
    {
        _root = root;
        Cluster = cluster;
        _proxy = proxy;
        Clock = clock;
        Url = url;
        Http = new HttpClient(new SocketsHttpHandler
        {
            RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1,
            ResponseHeaderEncodingSelector = (_, _) => Encoding.Latin1,
        })
        { BaseAddress = url };
        Anonymous = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1,
            ResponseHeaderEncodingSelector = (_, _) => Encoding.Latin1,
        })
        { BaseAddress = url };
    }

    public LocalCluster Cluster { get; }

    public FakeTimeProvider Clock { get; }

    public Uri Url { get; }

    public HttpClient Http { get; }

    /// <summary>A client with no token that does not follow redirects, as a browser given a signed URL or form.</summary>
    public HttpClient Anonymous { get; }

    public string Root => _root.Path;

    public const string Account = "AUTH_admin";

    /// <summary>Starts the cluster; <paramref name="configure"/> adjusts its settings (filters' limits), <paramref name="users"/> adds tempauth users beside the admin.</summary>
    public static async Task<TestCluster> StartAsync(Func<LocalClusterSettings, LocalClusterSettings>? configure = null, IReadOnlyList<TempAuthUser>? users = null)
    {
        var root = new TempDirectory();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero)) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };
        var settings = new LocalClusterSettings(root.Path, "127.0.0.1") { BasePort = LocalMachine.FreePortRange(4), PartPower = 6, RunDaemons = false };
        settings = configure?.Invoke(settings) ?? settings;
        if (users is not null)
        {
            await AddUsersAsync(LocalCluster.TempAuthPathIn(root.Path), users);
        }

        var cluster = await LocalCluster.StartAsync(settings, clock, NullLoggerFactory.Instance, CancellationToken.None);
        var proxy = LoopbackWebHost.CreateBuilder().Build();
        proxy.Run(cluster.HandleAsync);
        await proxy.StartAsync();
        var url = LoopbackWebHost.UrlOf(proxy);
        var test = new TestCluster(root, cluster, proxy, clock, url);
        await test.AuthenticateAsync();
        return test;
    }

    /// <summary>Gets an admin token through /auth/v1.0 and sends it with every later request.</summary>
    public async Task AuthenticateAsync()
    {
        var admin = Cluster.Auth.Users[0];
        using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/v1.0");
        request.Headers.Add("X-Auth-User", $"{admin.Account}:{admin.User}");
        request.Headers.Add("X-Auth-Key", admin.Key);
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        Http.DefaultRequestHeaders.Remove("X-Auth-Token");
        Http.DefaultRequestHeaders.Add("X-Auth-Token", response.Headers.GetValues("X-Auth-Token").Single());
    }

    /// <summary>A token for another tempauth user; send it as X-Auth-Token to act as that user.</summary>
    public async Task<string> TokenForAsync(TempAuthUser user)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/v1.0");
        request.Headers.Add("X-Auth-User", $"{user.Account}:{user.User}");
        request.Headers.Add("X-Auth-Key", user.Key);
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return response.Headers.GetValues("X-Auth-Token").Single();
    }

    private static async Task AddUsersAsync(string path, IReadOnlyList<TempAuthUser> users)
    {
        await TempAuthStore.LoadOrCreateAsync(path, CancellationToken.None);
        var file = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        var list = file["users"]!.AsArray();
        foreach (var user in users)
        {
            list.Add(new JsonObject
            {
                ["account"] = user.Account,
                ["user"] = user.User,
                ["key"] = user.Key,
                ["groups"] = new JsonArray([.. user.Groups.Select(g => (JsonNode)g)]),
            });
        }

        await File.WriteAllTextAsync(path, file.ToJsonString());
    }

    public static string PathOf(string container, string? obj = null) =>
        $"/v1/{Account}/{Uri.EscapeDataString(container)}" + (obj is null ? string.Empty : "/" + Uri.EscapeDataString(obj).Replace("%2F", "/", StringComparison.Ordinal));

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, byte[]? body = null, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
        }

        foreach (var (name, value) in headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return await Http.SendAsync(request);
    }

    public async Task<HttpStatusCode> PutContainerAsync(string container, params (string Name, string Value)[] headers)
    {
        using var response = await SendAsync(HttpMethod.Put, PathOf(container), null, headers);
        return response.StatusCode;
    }

    public async Task<HttpResponseMessage> PutObjectAsync(string container, string obj, byte[] body, params (string Name, string Value)[] headers) =>
        await SendAsync(HttpMethod.Put, PathOf(container, obj), body, headers);

    /// <summary>One round of every node's consistency daemons, in Swift's order, as a quiet hour would run them.</summary>
    public async Task RunDaemonsOnceAsync()
    {
        foreach (var node in Cluster.Nodes.Where(n => n.Running))
        {
            foreach (var daemon in node.Daemons)
            {
                await daemon.RunOnceAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>Every .data file the cluster serves, on every node (quarantined ones are not served).</summary>
    public IReadOnlyList<string> DataFiles() =>
        Directory.EnumerateFiles(Path.Combine(Root, "nodes"), "*.data", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}quarantined{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();

    public static MediaTypeHeaderValue Json => new("application/json");

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Anonymous.Dispose();
        await _proxy.DisposeAsync();
        await Cluster.DisposeAsync();
        _root.Dispose();
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Nimbus.Identity.Bootstrap;
using Nimbus.Platform.Data;
using Nimbus.Platform.Http;
using Nimbus.TestSupport;

namespace Nimbus.Identity.Tests;

/// <summary>
/// Identity on a real WebApplication on a loopback port, with a fresh database and a fake clock,
/// bootstrapped with admin/admin-secret; tests drive it over HTTP as the openstack client does.
/// </summary>
public sealed class IdentityTestHost : IAsyncDisposable
{
    public const string AdminPassword = "admin-secret";

    private readonly TestDatabase _database;
    private readonly TempDirectory _home;

    private IdentityTestHost(TestDatabase database, TempDirectory home, WebApplication app, FakeTimeProvider clock, BootstrapResult bootstrap)
    {
        _database = database;
        _home = home;
        App = app;
        Clock = clock;
        Bootstrap = bootstrap;
        BaseUrl = LoopbackWebHost.UrlOf(app);
        Http = new HttpClient { BaseAddress = BaseUrl };
    }

    public WebApplication App { get; }

    public FakeTimeProvider Clock { get; }

    public BootstrapResult Bootstrap { get; }

    public Uri BaseUrl { get; }

    public HttpClient Http { get; }

    public static async Task<IdentityTestHost> StartAsync(DataProvider provider = DataProvider.Sqlite)
    {
        var database = await TestDatabase.CreateAsync(provider);
        var home = new TempDirectory();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero)) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };
        var settings = new IdentitySettings
        {
            KeyDirectory = home.Combine("keys"),
            PasswordHashIterations = 10,
            Bootstrap = new BootstrapSettings { PublicBaseUrl = new Uri("http://127.0.0.1:8700"), AdminPassword = AdminPassword },
        };

        var builder = LoopbackWebHost.CreateBuilder();
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddNimbusPlatform();
        builder.Services.AddSingleton<IDatabaseFactory>(database.Factory);
        builder.Services.AddNimbusIdentity(settings);
        var app = builder.Build();
        var bootstrap = await app.Services.InitializeIdentityAsync(CancellationToken.None);
        app.UseNimbusPlatform();
        app.MapIdentity();
        await app.StartAsync();
        return new IdentityTestHost(database, home, app, clock, bootstrap);
    }

    /// <summary>POST /identity/v3/auth/tokens with a password; returns the response (the caller disposes it).</summary>
    public Task<HttpResponseMessage> PasswordAuthAsync(string user, string password, JsonNode? scope = null, string domain = "Default")
    {
        var auth = new JsonObject
        {
            ["identity"] = new JsonObject
            {
                ["methods"] = new JsonArray("password"),
                ["password"] = new JsonObject { ["user"] = new JsonObject { ["name"] = user, ["domain"] = new JsonObject { ["name"] = domain }, ["password"] = password } },
            },
        };
        if (scope is not null)
        {
            auth["scope"] = scope;
        }

        return SendAsync(HttpMethod.Post, "/identity/v3/auth/tokens", null, new JsonObject { ["auth"] = auth });
    }

    /// <summary>A token for <paramref name="user"/> scoped to <paramref name="project"/> in the default domain.</summary>
    public async Task<string> TokenAsync(string user, string password, string? project)
    {
        var scope = project is null ? null : ProjectScope(project);
        using var response = await PasswordAuthAsync(user, password, scope);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return response.Headers.GetValues("X-Subject-Token").Single();
    }

    public Task<string> AdminTokenAsync() => TokenAsync("admin", AdminPassword, "admin");

    public static JsonObject ProjectScope(string project, string domain = "Default") =>
        new() { ["project"] = new JsonObject { ["name"] = project, ["domain"] = new JsonObject { ["name"] = domain } } };

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, JsonNode? body = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Add("X-Auth-Token", token);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(name, value);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        }

        return await Http.SendAsync(request);
    }

    /// <summary>Sends and reads a JSON answer, asserting its status.</summary>
    public async Task<JsonObject> JsonAsync(HttpMethod method, string path, string? token, JsonNode? body, HttpStatusCode expected)
    {
        using var response = await SendAsync(method, path, token, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? [] : (JsonNode.Parse(text) as JsonObject ?? []);
    }

    public async Task<HttpStatusCode> StatusAsync(HttpMethod method, string path, string? token, JsonNode? body = null)
    {
        using var response = await SendAsync(method, path, token, body);
        return response.StatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        await _database.DisposeAsync();
        _home.Dispose();
    }
}

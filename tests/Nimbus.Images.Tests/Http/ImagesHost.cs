using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Nimbus.Images.Http;
using Nimbus.Images.Stores;
using Nimbus.Platform.Auth;
using Nimbus.Platform.Data;
using Nimbus.Platform.Http;
using Nimbus.TestSupport;

namespace Nimbus.Images.Tests.Http;

/// <summary>A real web host on loopback serving only the Images API, on SQLite, with the in-memory store and test tokens.</summary>
internal sealed class ImagesHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TestDatabase _database;

    private ImagesHost(WebApplication app, TestDatabase database, MemoryImageStore store, Uri url)
    {
        _app = app;
        _database = database;
        Store = store;
        Url = url;
    }

    public MemoryImageStore Store { get; }

    public Uri Url { get; }

    public static async Task<ImagesHost> StartAsync(ImagesSettings? settings = null)
    {
        var database = await TestDatabase.CreateAsync(DataProvider.Sqlite);
        var store = new MemoryImageStore();
        var builder = LoopbackWebHost.CreateBuilder();
        builder.Services.AddNimbusPlatform();
        builder.Services.AddSingleton<IDatabaseFactory>(database.Factory);
        builder.Services.AddSingleton<ITokenValidator>(new TestTokens());
        builder.Services.AddNimbusImages(settings ?? new ImagesSettings(), _ => store);
        var app = builder.Build();
        app.UseNimbusPlatform();
        app.MapImages();
        await app.Services.InitializeNimbusImagesAsync(CancellationToken.None);
        await app.StartAsync();
        return new ImagesHost(app, database, store, LoopbackWebHost.UrlOf(app));
    }

    /// <summary>A client acting as the user named <paramref name="token"/> (see <see cref="Callers.ByToken"/>), or anonymous.</summary>
    public HttpClient Client(string? token)
    {
        var client = new HttpClient { BaseAddress = Url };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Add(TokenAuthentication.TokenHeader, token);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _database.DisposeAsync();
    }

    private sealed class TestTokens : ITokenValidator
    {
        public ValueTask<AuthContext?> ValidateAsync(string token, CancellationToken cancellationToken) =>
            ValueTask.FromResult(Callers.ByToken.TryGetValue(token, out var caller) ? caller : null);
    }
}

/// <summary>Requests the tests send often.</summary>
internal static class ImagesHttp
{
    public static StringContent Json(string json, string mediaType = "application/json") =>
        new(json, Encoding.UTF8, new MediaTypeHeaderValue(mediaType));

    public static ByteArrayContent Octets(byte[] data)
    {
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    public static async Task<JsonElement> CreateAsync(this HttpClient client, string json)
    {
        using var response = await client.PostAsync("/image/v2/images", Json(json));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    public static Task<HttpResponseMessage> PatchAsync(this HttpClient client, string id, string patch, string mediaType = "application/openstack-images-v2.1-json-patch") =>
        client.PatchAsync($"/image/v2/images/{id}", Json(patch, mediaType));
}

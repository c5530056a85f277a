using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Nimbus.Daemon.Objects;
using Nimbus.Platform.Storage;
using Nimbus.TestSupport;

namespace Nimbus.Daemon.Tests;

/// <summary>
/// Request paths as clients may send them (curl --path-as-is): dot segments, doubled and encoded
/// slashes. Each surface acts on the literal name in the caller's own account, or refuses.
/// </summary>
public sealed class RawPathTests
{
    [Fact]
    public async Task A_dot_segment_object_path_stores_the_literal_name_in_the_callers_account_never_in_another()
    {
        await using var daemon = await TestDaemon.StartAsync(settings: TestDaemon.WithObjects());
        var admin = await CloudCallers.AdminAsync(daemon);
        var demo = await CloudCallers.MemberAsync(daemon, admin, "demo");
        using (var photos = await CloudCallers.SendAsync(daemon.Http, admin.Token, HttpMethod.Put, $"/v1/{admin.Account}/photos"))
        using (var mine = await CloudCallers.SendAsync(daemon.Http, demo.Token, HttpMethod.Put, $"/v1/{demo.Account}/mine"))
        using (var direct = await CloudCallers.SendAsync(daemon.Http, demo.Token, HttpMethod.Put, $"/v1/{admin.Account}/photos/evil1", new StringContent("evil")))
        {
            Assert.Equal(HttpStatusCode.Created, photos.StatusCode);
            Assert.Equal(HttpStatusCode.Created, mine.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, direct.StatusCode);
        }

        var rawTarget = $"/v1/{demo.Account}/mine/../../{admin.Account}/photos/evil2";
        using var put = await CloudCallers.SendRawAsync(daemon.Http, demo.Token, HttpMethod.Put, rawTarget, new StringContent("evil"));
        await RunObjectUpdatersAsync(daemon);

        using var adminListing = await CloudCallers.SendAsync(daemon.Http, admin.Token, HttpMethod.Get, $"/v1/{admin.Account}/photos");
        using var adminRead = await CloudCallers.SendAsync(daemon.Http, admin.Token, HttpMethod.Get, $"/v1/{admin.Account}/photos/evil2");
        using var demoListing = await CloudCallers.SendAsync(daemon.Http, demo.Token, HttpMethod.Get, $"/v1/{demo.Account}/mine");
        using var demoRead = await CloudCallers.SendRawAsync(daemon.Http, demo.Token, HttpMethod.Get, rawTarget);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.DoesNotContain("evil2", await adminListing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, adminRead.StatusCode);
        Assert.Equal($"../../{admin.Account}/photos/evil2", (await demoListing.Content.ReadAsStringAsync()).Trim());
        Assert.Equal("evil", await demoRead.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Encoded_dot_segments_and_slashes_in_swift_paths_stay_literal_names_in_the_callers_account()
    {
        await using var daemon = await TestDaemon.StartAsync(settings: TestDaemon.WithObjects());
        var admin = await CloudCallers.AdminAsync(daemon);
        var demo = await CloudCallers.MemberAsync(daemon, admin, "demo");
        using (var photos = await CloudCallers.SendAsync(daemon.Http, admin.Token, HttpMethod.Put, $"/v1/{admin.Account}/photos"))
        using (var mine = await CloudCallers.SendAsync(daemon.Http, demo.Token, HttpMethod.Put, $"/v1/{demo.Account}/mine"))
        {
            Assert.Equal(HttpStatusCode.Created, photos.StatusCode);
            Assert.Equal(HttpStatusCode.Created, mine.StatusCode);
        }

        var stored = new Dictionary<string, string>
        {
            [$"/v1/{demo.Account}/mine/%2e%2e/%2E%2E/{admin.Account}/photos/e3"] = $"../../{admin.Account}/photos/e3",
            [$"/v1/{demo.Account}/mine/..%2F..%2F{admin.Account}%2Fphotos%2Fe4"] = $"../../{admin.Account}/photos/e4",
            [$"/v1/{demo.Account}/mine/./p/./q"] = "./p/./q",
            [$"/v1/{demo.Account}/mine//x"] = "/x",
        };
        foreach (var (rawTarget, name) in stored)
        {
            using var put = await CloudCallers.SendRawAsync(daemon.Http, demo.Token, HttpMethod.Put, rawTarget, new StringContent(name));
            Assert.True(put.StatusCode == HttpStatusCode.Created, $"{rawTarget}: {put.StatusCode}");
        }

        string[] refused =
        [
            $"/v1/{demo.Account}/../{admin.Account}/photos/e5",
            $"/v1/{demo.Account}/%2e%2e/{admin.Account}/photos/e6",
            $"/v1/%2e%2e/{admin.Account}/photos/e7",
            $"/v1/{demo.Account}%2F..%2F{admin.Account}/photos/e8",
            $"/v1/{demo.Account}//photos/e9",
            $"/identity/../v1/{admin.Account}/photos/e10",
            $"/v1/../v1/{admin.Account}/photos/e11",
        ];
        foreach (var rawTarget in refused)
        {
            using var put = await CloudCallers.SendRawAsync(daemon.Http, demo.Token, HttpMethod.Put, rawTarget, new StringContent("evil"));
            Assert.True((int)put.StatusCode is >= 400 and < 500, $"{rawTarget}: {put.StatusCode}");
        }

        await RunObjectUpdatersAsync(daemon);
        using var adminListing = await CloudCallers.SendAsync(daemon.Http, admin.Token, HttpMethod.Get, $"/v1/{admin.Account}/photos");
        using var demoListing = await CloudCallers.SendAsync(daemon.Http, demo.Token, HttpMethod.Get, $"/v1/{demo.Account}/mine");
        Assert.Equal(HttpStatusCode.NoContent, adminListing.StatusCode);
        Assert.Equal(stored.Values.Order(StringComparer.Ordinal), (await demoListing.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Dot_segments_and_encoded_slashes_on_identity_and_images_are_refused_before_routing()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var admin = await CloudCallers.AdminAsync(daemon);
        var demo = await CloudCallers.MemberAsync(daemon, admin, "demo");
        using var created = await CloudCallers.SendAsync(daemon.Http, admin.Token, HttpMethod.Post, "/image/v2/images", JsonContent.Create(new JsonObject { ["name"] = "keep", ["disk_format"] = "raw", ["container_format"] = "bare" }));
        var image = (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!;
        var other = Guid.NewGuid().ToString();

        (HttpMethod Method, string Target)[] refused =
        [
            (HttpMethod.Delete, $"/image/v2/images/{other}/../{image}"),
            (HttpMethod.Delete, $"/image/v2/images/{other}/%2e%2e/{image}"),
            (HttpMethod.Delete, $"/image/v2/images/{other}%2F..%2F{image}"),
            (HttpMethod.Delete, $"/image/v2/./images/{image}/."),
            (HttpMethod.Delete, $"/identity/v3/projects/nothing/../{demo.ProjectId}"),
            (HttpMethod.Delete, $"/identity/v3/projects/nothing/%2E%2E/{demo.ProjectId}"),
            (HttpMethod.Get, "/identity/v3/users/..%2F..%2Fprojects"),
            (HttpMethod.Get, "/image/../identity/v3/projects"),
            (HttpMethod.Get, "/healthz/.."),
        ];
        foreach (var (method, rawTarget) in refused)
        {
            using var response = await CloudCallers.SendRawAsync(daemon.Http, admin.Token, method, rawTarget);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {rawTarget}: {response.StatusCode}");
            Assert.Contains("badRequest", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var doubled = await CloudCallers.SendRawAsync(daemon.Http, admin.Token, HttpMethod.Delete, $"/image/v2//images/{image}");
        using var imageAfter = await CloudCallers.SendAsync(daemon.Http, admin.Token, HttpMethod.Get, $"/image/v2/images/{image}");
        using var projectAfter = await CloudCallers.SendAsync(daemon.Http, admin.Token, HttpMethod.Get, $"/identity/v3/projects/{demo.ProjectId}");
        Assert.Equal(HttpStatusCode.NotFound, doubled.StatusCode);
        Assert.Equal(HttpStatusCode.OK, imageAfter.StatusCode);
        Assert.Equal(HttpStatusCode.OK, projectAfter.StatusCode);
    }

    [Fact]
    public async Task Dot_segments_and_encoded_slashes_on_the_local_virt_socket_are_refused_before_routing()
    {
        await using var daemon = await TestDaemon.StartAsync();
        using var socket = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await client.ConnectAsync(new UnixDomainSocketEndPoint(LocalApiSocket.PathIn(daemon.Home)), cancellationToken);
                return new NetworkStream(client, ownsSocket: true);
            },
        })
        { BaseAddress = new Uri("http://localhost") };

        using var node = await CloudCallers.SendRawAsync(socket, null, HttpMethod.Get, "/virt/v1/node?connect=test:///default");
        Assert.Equal(HttpStatusCode.OK, node.StatusCode);
        string[] refused =
        [
            "/virt/v1/domains/test/../../pools?connect=test:///default",
            "/virt/v1/domains/%2e%2e?connect=test:///default",
            "/virt/v1/pools/default/..%2F..%2Fdomains/test?connect=test:///default",
            "/virt/v1/./node?connect=test:///default",
        ];
        foreach (var rawTarget in refused)
        {
            using var response = await CloudCallers.SendRawAsync(socket, null, HttpMethod.Delete, rawTarget);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{rawTarget}: {response.StatusCode}");
        }

        using var domain = await CloudCallers.SendRawAsync(socket, null, HttpMethod.Get, "/virt/v1/domains/test?connect=test:///default");
        Assert.Equal(HttpStatusCode.OK, domain.StatusCode);
    }

    /// <summary>The updaters deliver container updates a write could not make at once; an object stored elsewhere shows up after them.</summary>
    private static async Task RunObjectUpdatersAsync(TestDaemon daemon)
    {
        foreach (var node in daemon.Daemon.Services.GetRequiredService<ObjectStorage>().Nodes)
        {
            await node.ObjectUpdater.RunOnceAsync(CancellationToken.None);
        }
    }
}

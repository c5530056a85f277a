using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Nimbus.TestSupport;

namespace Nimbus.Bench;

/// <summary>
/// GET /image/v2/images?limit=100 over HTTP against a nimbusd whose catalogue holds N images (100,000):
/// the first page and a page from the middle (by marker), as the admin (who sees every image) and as a
/// member of another project (who sees the public ones and its own: the visibility rules at work).
/// </summary>
internal static class ImageListBenchmark
{
    private const int PageSize = 100;

    public static async Task<int> RunAsync(string[] args)
    {
        var count = Option(args, "--images", 100_000);
        var runs = Option(args, "--runs", 200);
        var work = Directory.CreateTempSubdirectory("nimbus-bench-image-list-").FullName;
        try
        {
            Console.Error.WriteLine("image-list: starting nimbusd");
            await using var nimbusd = await NimbusdProcess.StartAsync(LocalMachine.RepositoryRoot, work);
            var rc = OpenRc.Read(work);
            using var admin = new HttpClient { BaseAddress = rc.ApiUrl, Timeout = TimeSpan.FromMinutes(5) };
            admin.DefaultRequestHeaders.Add("X-Auth-Token", await rc.IssueTokenAsync(admin));

            // The admin's project is the owner of an image the admin creates.
            var probe = await SendAsync(admin, HttpMethod.Post, "image/v2/images", new JsonObject { ["name"] = "probe" }, HttpStatusCode.Created);
            var adminProject = probe["owner"]!.GetValue<string>();
            var (memberProject, member) = await MemberAsync(admin, rc);

            Console.Error.WriteLine($"image-list: writing {count} images into the images database");
            var seeded = Stopwatch.StartNew();
            var middle = Seed(Path.Combine(work, "data", "images.db"), count, adminProject, memberProject);
            Console.Error.WriteLine($"image-list: seeded in {seeded.Elapsed.TotalSeconds:0.0} s");

            var scenarios = new JsonObject();
            foreach (var (name, http, query) in new[]
            {
                ("admin_first_page", admin, $"limit={PageSize}"),
                ("admin_middle_page", admin, $"limit={PageSize}&marker={middle}"),
                ("member_first_page", member, $"limit={PageSize}"),
                ("member_middle_page", member, $"limit={PageSize}&marker={middle}"),
                ("member_sorted_by_name", member, $"limit={PageSize}&sort=name:asc"),
            })
            {
                Console.Error.WriteLine($"image-list: {name}");
                scenarios[name] = await MeasureAsync(http, $"image/v2/images?{query}", runs);
            }

            var results = new JsonObject
            {
                ["benchmark"] = "image-list",
                ["machine"] = new JsonObject { ["cores"] = Environment.ProcessorCount, ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription },
                ["images"] = count,
                ["page"] = PageSize,
                ["runs"] = runs,
                ["latency_ms"] = scenarios,
                ["goal_median_ms"] = 50,
                ["notes"] = "one client, sequential requests after 20 warm-up ones, SQLite store; images written straight into images.db (60% public and 10% shared owned by a third project, 20% the admin's, 10% the member's own); the middle page's marker is the image in the middle of the default order (created_at desc)",
            };
            Console.WriteLine(results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<JsonObject> MeasureAsync(HttpClient http, string path, int runs)
    {
        var latency = new Latency();
        for (var i = -20; i < runs; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            if (i >= 0)
            {
                latency.AddSince(started);
            }

            Require(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)response.StatusCode}: {body}");
            var shown = JsonNode.Parse(body)!["images"]!.AsArray().Count;
            Require(shown == PageSize, $"GET {path} listed {shown} images, not {PageSize}");
        }

        return latency.ToJson(2, 0.9, 0.99);
    }

    /// <summary>A project with a member user, through the Identity API; returns its id and a client holding the user's token.</summary>
    private static async Task<(string Project, HttpClient Client)> MemberAsync(HttpClient admin, OpenRc rc)
    {
        const string Password = "bench-member-password";
        var identity = new Uri(rc.AuthUrl, "v3/");
        var role = (await SendAsync(admin, HttpMethod.Get, new Uri(identity, "roles?name=member").ToString(), null, HttpStatusCode.OK))["roles"]![0]!["id"]!.GetValue<string>();
        var project = (await SendAsync(admin, HttpMethod.Post, new Uri(identity, "projects").ToString(), new JsonObject { ["project"] = new JsonObject { ["name"] = "bench-member", ["domain_id"] = "default" } }, HttpStatusCode.Created))["project"]!["id"]!.GetValue<string>();
        var user = (await SendAsync(admin, HttpMethod.Post, new Uri(identity, "users").ToString(), new JsonObject { ["user"] = new JsonObject { ["name"] = "bench-member", ["domain_id"] = "default", ["password"] = Password } }, HttpStatusCode.Created))["user"]!["id"]!.GetValue<string>();
        using (var assigned = await admin.PutAsync(new Uri(identity, $"projects/{project}/users/{user}/roles/{role}"), null))
        {
            Require(assigned.StatusCode == HttpStatusCode.NoContent, $"role assignment answered {(int)assigned.StatusCode}");
        }

        var client = new HttpClient { BaseAddress = rc.ApiUrl, Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Add("X-Auth-Token", await (rc with { User = "bench-member", Password = Password, Project = "bench-member" }).IssueTokenAsync(client));
        return (project, client);
    }

    /// <summary>Writes <paramref name="count"/> active images in one transaction; returns the id in the middle of the default order.</summary>
    private static string Seed(string database, int count, string adminProject, string memberProject)
    {
        using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO images (id, name, status, disk_format, container_format, visibility, protected, min_disk, min_ram, size, virtual_size,
                checksum, os_hash_algo, os_hash_value, owner, os_hidden, location, created_at, updated_at)
            VALUES ($id, $name, 'active', 'qcow2', 'bare', $visibility, 0, 0, 0, 1048576, 1048576, NULL, NULL, NULL, $owner, 0, NULL, $at, $at)
            """;
        var id = insert.Parameters.Add("$id", SqliteType.Text);
        var name = insert.Parameters.Add("$name", SqliteType.Text);
        var visibility = insert.Parameters.Add("$visibility", SqliteType.Text);
        var owner = insert.Parameters.Add("$owner", SqliteType.Text);
        var at = insert.Parameters.Add("$at", SqliteType.Integer);
        var start = DateTimeOffset.UtcNow.AddDays(-1).ToUnixTimeMilliseconds();
        var middle = string.Empty;
        for (var i = 0; i < count; i++)
        {
            id.Value = Guid.NewGuid().ToString("D");
            name.Value = "image-" + ((i * 7919) % count).ToString("D6", CultureInfo.InvariantCulture);
            (visibility.Value, owner.Value) = (i % 10) switch
            {
                < 6 => ("public", "bench-third-project"),
                6 => ("shared", "bench-third-project"),
                7 or 8 => ("private", adminProject),
                _ => ("private", memberProject),
            };
            at.Value = start + i;
            insert.ExecuteNonQuery();
            if (i == count / 2 - (count / 2 % 10))
            {
                // A public image, so that both callers may use it as a marker.
                middle = (string)id.Value;
            }
        }

        transaction.Commit();
        return middle;
    }

    private static async Task<JsonNode> SendAsync(HttpClient http, HttpMethod method, string path, JsonObject? body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Require(response.StatusCode == expected, $"{method} {path} answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}

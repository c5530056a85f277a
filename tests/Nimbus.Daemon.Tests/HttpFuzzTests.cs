using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nimbus.TestSupport;

namespace Nimbus.Daemon.Tests;

/// <summary>
/// Seeded random paths, headers, queries and bodies against each HTTP surface of the all-in-one:
/// bad input is refused with a 4xx, never a 5xx, and nothing is logged as an error. The seed makes
/// every run send the same requests; a failure names the request to replay.
/// </summary>
public sealed class HttpFuzzTests
{
    private const int RequestsPerSurface = 100;

    private static readonly string[] Methods = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "COPY", "OPTIONS"];

    private static readonly string[] Pieces =
    [
        "a", "photos", "AUTH_admin", "AUTH_x", ".", "..", "%2e%2e", "%2E", "%2F", "%2f..", "%", "%z", "%zz", "%0", "%00", "%0A", "%0D%0A",
        "%C3%28", "%FF", "%E2%82", "%C3%A9", "%20", "+", ";", ":", "@", "!", "$", "'", "(", ")", "*", ",", "=", "~", "%22", "%5C", "%7F",
        "%01", "%09", "%3F", "%23", "00000000-0000-0000-0000-000000000000", "default", "admin", "v3", "v2", "images", "file", "tokens",
        "users", "projects", "roles", "tags", "members", "auth", "info", "stage", "import", "schemas", "regions", "services", "endpoints",
        "OS-EC2", "application_credentials", new string('a', 300), "%E0%A4%A",
    ];

    private static readonly string[] HeaderNames =
    [
        "X-Auth-Token", "X-Storage-Token", "X-Auth-User", "X-Auth-Key", "X-Storage-User", "X-Storage-Pass", "X-Subject-Token",
        "X-Container-Read", "X-Container-Write", "X-Object-Meta-A", "X-Container-Meta-B", "X-Account-Meta-C", "X-Delete-At",
        "X-Delete-After", "X-Copy-From", "Destination", "X-Object-Manifest", "X-Static-Large-Object", "Range", "If-Match",
        "If-None-Match", "If-Modified-Since", "Accept", "X-Openstack-Request-Id", "Origin", "Access-Control-Request-Method",
        "X-Container-Meta-Quota-Bytes", "X-Account-Meta-Quota-Bytes", "X-Versions-Location", "X-History-Location", "Referer",
        "X-Trans-Id-Extra", "X-Detect-Content-Type", "X-Fresh-Metadata", "X-Image-Meta-Name", "OpenStack-API-Version",
        "X-Container-Meta-Temp-URL-Key", "X-Account-Meta-Temp-URL-Key", "X-Remove-Container-Meta-B", "X-Newest",
    ];

    private static readonly string[] HeaderValues =
    [
        "", "a", "a:b", ":", "AUTH_", "AUTH_tk", "AUTH_tk.", "AUTH_tkAAAA.BBBB", "gAAAAA", "-1", "0", "99999999999999999999", "1.5", "bytes=",
        "bytes=5-1", "bytes=-0", "bytes=0-0,1-1,2-2", "*", "\"\"", "W/\"x\"", ".r:*", ".r:-*,.rlistings", "*:*", "x/y", "/", "//", "c",
        "c/", "/c/o", "c/../../AUTH_admin/o", "..", "%", "%ZZ", "\u00e9", "\u00ff\u00fe", "application/json", "text/plain;charset=x",
        "Mon, 32 Foo 2026", "true", "yes", "false", "null", "{}", "[", "put", "\t", "a\u0001b", new string('x', 5000),
    ];

    private static readonly string[] QueryNames =
    [
        "format", "limit", "marker", "end_marker", "prefix", "delimiter", "path", "reverse", "multipart-manifest", "temp_url_sig",
        "temp_url_expires", "filename", "name", "domain_id", "enabled", "sort_key", "sort_dir", "sort", "member_status", "visibility",
        "owner", "status", "tag", "size_min", "size_max", "created_at", "nocatalog", "allow_expired", "include_names", "user.id",
        "scope.project.id", "effective", "bulk-delete", "extract-archive", "symlink", "version-id", "connect", "parent_id",
    ];

    private static readonly string[] QueryValues =
    [
        "", "json", "xml", "plain", "-1", "0", "1", "10001", "99999999999999999999", "a", "%", "%zz", "%00", "%C3%28", "true", "false",
        "gte:2020", "in:a,b", "lt:x", "name:desc", "name:asc,", "get", "put", "delete", "tar", "tar.gz", "..", "%2e%2e%2F", "%0A",
    ];

    [Fact]
    public async Task Fuzzed_requests_to_object_storage_identity_and_images_get_no_5xx_and_log_no_errors()
    {
        var logs = new CapturedLogs();
        await using var daemon = await TestDaemon.StartAsync(settings: TestDaemon.WithObjects(), services: services => services.AddSingleton<ILoggerProvider>(logs));
        var admin = await CloudCallers.AdminAsync(daemon);
        using (var container = await CloudCallers.SendAsync(daemon.Http, admin.Token, HttpMethod.Put, $"/v1/{admin.Account}/a"))
        {
            Assert.True(container.IsSuccessStatusCode);
        }

        // Header values go as Latin-1 bytes, as nimbusd reads them; redirects are answers, not followed.
        using var http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1,
            ResponseHeaderEncodingSelector = (_, _) => Encoding.Latin1,
        })
        { BaseAddress = daemon.Url };
        string[] surfaces = ["/v1/" + admin.Account, "/v1", "/auth/v1.0", "/identity/v3", "/identity", "/image/v2", "/image"];
        var failures = new List<string>();
        for (var s = 0; s < surfaces.Length; s++)
        {
            var random = new Random(1100 + s);
            var count = surfaces[s].Length > 6 ? RequestsPerSurface : RequestsPerSurface / 3;
            for (var i = 0; i < count; i++)
            {
                var (method, target, headers, body) = Generate(random, surfaces[s], admin.Token);
                var status = await SendAsync(http, method, target, headers, body);
                if (status >= 500)
                {
                    failures.Add($"{status} for {Describe(method, target, headers, body)}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(20)));
        Assert.True(logs.Failures.Count == 0, string.Join('\n', logs.Failures.Take(20)));
    }

    private static (string Method, string Target, List<(string Name, string Value)> Headers, byte[]? Body) Generate(Random random, string surface, string token)
    {
        var method = Methods[random.Next(Methods.Length)];
        var path = new StringBuilder(surface);
        var segments = random.Next(0, 6);
        for (var i = 0; i < segments; i++)
        {
            path.Append(random.Next(12) == 0 ? "//" : "/");
            var parts = random.Next(1, 3);
            for (var p = 0; p < parts; p++)
            {
                path.Append(Pieces[random.Next(Pieces.Length)]);
            }
        }

        if (random.Next(3) == 0)
        {
            path.Append('?');
            var parameters = random.Next(1, 4);
            for (var p = 0; p < parameters; p++)
            {
                path.Append(p == 0 ? string.Empty : "&").Append(QueryNames[random.Next(QueryNames.Length)]);
                if (random.Next(5) != 0)
                {
                    path.Append('=').Append(QueryValues[random.Next(QueryValues.Length)]);
                }
            }
        }

        var headers = new List<(string, string)>();
        if (random.Next(3) != 0)
        {
            headers.Add(("X-Auth-Token", token));
        }

        var headerCount = random.Next(0, 4);
        for (var h = 0; h < headerCount; h++)
        {
            headers.Add((HeaderNames[random.Next(HeaderNames.Length)], HeaderValues[random.Next(HeaderValues.Length)]));
        }

        byte[]? body = null;
        if (method is "PUT" or "POST" or "PATCH" && random.Next(2) == 0)
        {
            string[] bodies = ["{}", "[]", "{\"auth\":{}}", "{\"image\":null}", "[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}]", "not json", "{\"a\":", "\u00ff\u00fe"];
            body = Encoding.UTF8.GetBytes(bodies[random.Next(bodies.Length)]);
        }

        return (method, path.ToString(), headers, body);
    }

    private static async Task<int> SendAsync(HttpClient http, string method, string target, List<(string Name, string Value)> headers, byte[]? body)
    {
        var url = new Uri(http.BaseAddress!.GetLeftPart(UriPartial.Authority) + target, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
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

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return (int)response.StatusCode;
    }

    private static string Describe(string method, string target, List<(string Name, string Value)> headers, byte[]? body) =>
        $"{method} {target} [{string.Join("; ", headers.Select(h => $"{h.Name}: {(h.Value.Length > 40 ? h.Value[..40] + "…" : h.Value)}"))}]"
        + (body is null ? string.Empty : " body " + Encoding.UTF8.GetString(body));
}

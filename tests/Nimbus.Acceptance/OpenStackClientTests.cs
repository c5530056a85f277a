using System.Security.Cryptography;
using System.Text.Json;
using Nimbus.TestSupport;

namespace Nimbus.Acceptance;

/// <summary>
/// The real <c>openstack</c> client (python3-openstackclient) against bin/nimbusd's Identity and
/// Image services, with nothing but the openrc the all-in-one writes.
/// </summary>
public sealed class OpenStackClientTests
{
    [Fact]
    public async Task A_new_user_issues_tokens_manages_projects_users_roles_and_application_credentials()
    {
        using var home = new TempDirectory();
        using var daemon = DaemonProcess.Start(home.Path, LocalMachine.FreePort());
        await daemon.WaitUntilReadyAsync();
        var admin = await OpenStackCli.FromOpenRcAsync(Path.Combine(home.Path, "openrc"));

        var token = await admin.JsonAsync("token", "issue");
        Assert.False(string.IsNullOrEmpty(token.GetProperty("id").GetString()));
        Assert.False(string.IsNullOrEmpty(token.GetProperty("project_id").GetString()));

        var catalog = await admin.JsonAsync("catalog", "list");
        var types = catalog.EnumerateArray().Select(e => e.GetProperty("Type").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "identity", "image", "object-store" }, types);

        var project = await admin.JsonAsync("project", "create", "--description", "the demo project", "demo");
        Assert.Equal("demo", project.GetProperty("name").GetString());
        Assert.Contains(
            (await admin.JsonAsync("project", "list")).EnumerateArray(),
            p => p.GetProperty("Name").GetString() == "demo");

        await admin.JsonAsync("user", "create", "--password", "alice-secret", "--project", "demo", "alice");
        await admin.RunAsync("role", "add", "--user", "alice", "--project", "demo", "member");
        var alice = admin.As("alice", "alice-secret", "demo");
        var aliceToken = await alice.JsonAsync("token", "issue");
        Assert.Equal(project.GetProperty("id").GetString(), aliceToken.GetProperty("project_id").GetString());

        var credential = await alice.JsonAsync("application", "credential", "create", "--role", "member", "ci");
        var secret = credential.GetProperty("secret").GetString()!;
        var byCredential = admin.WithApplicationCredential(credential.GetProperty("id").GetString()!, secret);
        var credentialToken = await byCredential.JsonAsync("token", "issue");
        Assert.Equal(project.GetProperty("id").GetString(), credentialToken.GetProperty("project_id").GetString());

        var (exitCode, _, error) = await admin.As("alice", "wrong-password", "demo").TryRunAsync("token", "issue");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("The request you have made requires authentication.", error, StringComparison.Ordinal);
        Assert.Contains("HTTP 401", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Images_upload_list_show_update_download_and_delete_and_stay_private_to_their_project()
    {
        using var home = new TempDirectory();
        using var daemon = DaemonProcess.Start(home.Path, LocalMachine.FreePort());
        await daemon.WaitUntilReadyAsync();
        var admin = await OpenStackCli.FromOpenRcAsync(Path.Combine(home.Path, "openrc"));
        var qcow2 = await MakeQcow2Async(home.Path);

        var image = await admin.JsonAsync("image", "create", "--file", qcow2, "--disk-format", "qcow2", "--container-format", "bare", "--private", "tiny");
        var id = image.GetProperty("id").GetString()!;
        var uploaded = await admin.JsonAsync("image", "show", id);
        Assert.Equal("active", uploaded.GetProperty("status").GetString());
        Assert.Equal(Md5Of(qcow2), uploaded.GetProperty("checksum").GetString());

        Assert.Contains((await admin.JsonAsync("image", "list")).EnumerateArray(), i => i.GetProperty("ID").GetString() == id);
        await admin.RunAsync("image", "set", "--property", "os_distro=nimbus", "--min-ram", "64", "tiny");
        var shown = await admin.JsonAsync("image", "show", "tiny");
        Assert.Equal(64, shown.GetProperty("min_ram").GetInt32());
        Assert.Equal(32L * 1024 * 1024, shown.GetProperty("virtual_size").GetInt64());
        Assert.Equal(new FileInfo(qcow2).Length, shown.GetProperty("size").GetInt64());
        Assert.Contains("nimbus", shown.GetProperty("properties").ToString(), StringComparison.Ordinal);

        var saved = Path.Combine(home.Path, "saved.qcow2");
        await admin.RunAsync("image", "save", "--file", saved, "tiny");
        Assert.Equal(Md5Of(qcow2), Md5Of(saved));

        await admin.RunAsync("project", "create", "other");
        await admin.RunAsync("user", "create", "--password", "bob-secret", "--project", "other", "bob");
        await admin.RunAsync("role", "add", "--user", "bob", "--project", "other", "member");
        var bob = admin.As("bob", "bob-secret", "other");
        Assert.DoesNotContain((await bob.JsonAsync("image", "list")).EnumerateArray(), i => i.GetProperty("ID").GetString() == id);
        var (exitCode, _, _) = await bob.TryRunAsync("image", "show", id);
        Assert.NotEqual(0, exitCode);

        var notQcow2 = Path.Combine(home.Path, "raw.bin");
        await File.WriteAllBytesAsync(notQcow2, RandomNumberGenerator.GetBytes(128 * 1024));
        var (mismatchExit, _, mismatchError) = await admin.TryRunAsync("image", "create", "--file", notQcow2, "--disk-format", "qcow2", "--container-format", "bare", "not-qcow2");
        Assert.NotEqual(0, mismatchExit);
        Assert.Contains("qcow2", mismatchError, StringComparison.Ordinal);

        await admin.RunAsync("image", "delete", "tiny");
        Assert.DoesNotContain((await admin.JsonAsync("image", "list")).EnumerateArray(), i => i.GetProperty("ID").GetString() == id);
    }

    /// <summary>A 32 MiB qcow2 holding 1 MiB of random data, made by qemu-img from a raw file.</summary>
    private static async Task<string> MakeQcow2Async(string directory)
    {
        var raw = Path.Combine(directory, "disk.raw");
        await using (var file = File.Create(raw))
        {
            file.SetLength(32L * 1024 * 1024);
            await file.WriteAsync(RandomNumberGenerator.GetBytes(1024 * 1024));
        }

        var qcow2 = Path.Combine(directory, "disk.qcow2");
        var (exitCode, output, error) = await Executables.RunAsync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow2]);
        Assert.True(exitCode == 0, $"qemu-img convert failed: {error}{output}");
        return qcow2;
    }

    private static string Md5Of(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(MD5.HashData(file));
    }
}

/// <summary>The openstack client with the environment an openrc sets, or variations of it.</summary>
internal sealed class OpenStackCli(IReadOnlyDictionary<string, string> environment)
{
    public static async Task<OpenStackCli> FromOpenRcAsync(string openRc)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in await File.ReadAllLinesAsync(openRc))
        {
            if (line.StartsWith("export ", StringComparison.Ordinal) && line.IndexOf('=', StringComparison.Ordinal) is var equals and > 0)
            {
                variables[line[7..equals]] = line[(equals + 1)..].Trim('\'', '"');
            }
        }

        foreach (var name in new[] { "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME", "OS_IDENTITY_API_VERSION", "OS_REGION_NAME" })
        {
            Assert.True(variables.ContainsKey(name), $"{openRc} does not set {name}");
        }

        return new OpenStackCli(variables);
    }

    /// <summary>The same cloud as another user of the Default domain, scoped to a project.</summary>
    public OpenStackCli As(string user, string password, string project) =>
        new(new Dictionary<string, string>(environment, StringComparer.Ordinal)
        {
            ["OS_USERNAME"] = user,
            ["OS_PASSWORD"] = password,
            ["OS_PROJECT_NAME"] = project,
        });

    /// <summary>The same cloud authenticated by an application credential instead of a password.</summary>
    public OpenStackCli WithApplicationCredential(string id, string secret)
    {
        var variables = environment
            .Where(e => e.Key is not ("OS_USERNAME" or "OS_PASSWORD" or "OS_PROJECT_NAME" or "OS_USER_DOMAIN_NAME" or "OS_PROJECT_DOMAIN_NAME"))
            .ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        variables["OS_AUTH_TYPE"] = "v3applicationcredential";
        variables["OS_APPLICATION_CREDENTIAL_ID"] = id;
        variables["OS_APPLICATION_CREDENTIAL_SECRET"] = secret;
        return new OpenStackCli(variables);
    }

    public async Task<JsonElement> JsonAsync(params string[] args)
    {
        var output = await RunAsync([.. args, "-f", "json"]);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    public async Task<string> RunAsync(params string[] args)
    {
        var (exitCode, output, error) = await TryRunAsync(args);
        Assert.True(exitCode == 0, $"openstack {string.Join(' ', args)} exited {exitCode}: {error}{output}");
        return output;
    }

    public Task<(int ExitCode, string Output, string Error)> TryRunAsync(params string[] args) =>
        Executables.RunAsync("openstack", args, environment);
}

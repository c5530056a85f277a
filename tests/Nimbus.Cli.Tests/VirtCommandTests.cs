using System.Text.Json;
using Nimbus.TestSupport;

namespace Nimbus.Cli.Tests;

/// <summary>nimbus virt against a real daemon over its unix socket, on the in-memory test driver.</summary>
public sealed class VirtCommandTests
{
    private const string Test = "test:///default";

    private static Dictionary<string, string?> Home(TestDaemon daemon) => new() { ["NIMBUS_HOME"] = daemon.Home };

    [Fact]
    public async Task List_all_shows_the_test_drivers_running_domain_in_a_table()
    {
        await using var daemon = await TestDaemon.StartAsync();

        var result = await CliRunner.RunAsync(Home(daemon), "virt", "-c", Test, "list", "--all");

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"1\s+│\s+test\s+│\s+running", result.Output);
    }

    [Fact]
    public async Task Define_start_domstate_dumpxml_and_undefine_work_as_in_virsh()
    {
        await using var daemon = await TestDaemon.StartAsync();
        using var directory = new TempDirectory();
        var file = directory.Combine("web1.xml");
        await File.WriteAllTextAsync(file, "<domain type='qemu'><name>web1</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>");
        var env = Home(daemon);

        var define = await CliRunner.RunAsync(env, "virt", "-c", Test, "define", file);
        var start = await CliRunner.RunAsync(env, "virt", "-c", Test, "start", "web1");
        var state = await CliRunner.RunAsync(env, "virt", "-c", Test, "domstate", "web1", "--reason");
        var xml = await CliRunner.RunAsync(env, "virt", "-c", Test, "dumpxml", "web1");
        var destroy = await CliRunner.RunAsync(env, "virt", "-c", Test, "destroy", "web1");
        var undefine = await CliRunner.RunAsync(env, "virt", "-c", Test, "undefine", "web1");

        Assert.Equal("Domain 'web1' defined from web1.xml\n", define.Output);
        Assert.Equal("Domain 'web1' started\n", start.Output);
        Assert.Equal("running (booted)\n", state.Output);
        Assert.Contains("<memory unit='KiB'>65536</memory>", xml.Output, StringComparison.Ordinal);
        Assert.Equal("Domain 'web1' destroyed\n", destroy.Output);
        Assert.Equal("Domain 'web1' has been undefined\n", undefine.Output);
    }

    [Fact]
    public async Task List_json_is_machine_readable()
    {
        await using var daemon = await TestDaemon.StartAsync();

        var result = await CliRunner.RunAsync(Home(daemon), "virt", "-c", Test, "list", "--all", "--json");
        using var json = JsonDocument.Parse(result.Output);

        var domain = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal("test", domain.GetProperty("name").GetString());
        Assert.Equal("running", domain.GetProperty("status").GetProperty("state").GetString());
    }

    [Fact]
    public async Task Screenshot_of_a_domain_without_video_says_why_and_leaves_no_file_behind()
    {
        await using var daemon = await TestDaemon.StartAsync();
        using var directory = new TempDirectory();
        var file = directory.Combine("test.ppm");

        var result = await CliRunner.RunAsync(Home(daemon), "virt", "-c", Test, "screenshot", "test", file);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("no screens to take screenshot from", result.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(directory.Path));
    }

    [Fact]
    public async Task Screenshot_of_a_domain_with_video_is_saved_to_the_file()
    {
        await using var daemon = await TestDaemon.StartAsync();
        using var directory = new TempDirectory();
        var xml = directory.Combine("screen.xml");
        await File.WriteAllTextAsync(xml, "<domain type='qemu'><name>screen</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices><video><model type='vga'/></video></devices></domain>");
        var env = Home(daemon);
        await CliRunner.RunAsync(env, "virt", "-c", Test, "define", xml);
        await CliRunner.RunAsync(env, "virt", "-c", Test, "start", "screen");
        var file = directory.Combine("screen.ppm");

        var result = await CliRunner.RunAsync(env, "virt", "-c", Test, "screenshot", "screen", file);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal($"Screenshot saved to {file}\n", result.Output);
        Assert.StartsWith("P6\n", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        Assert.Equal(["screen.ppm", "screen.xml"], Directory.GetFileSystemEntries(directory.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Unknown_domain_exits_with_the_not_found_code()
    {
        await using var daemon = await TestDaemon.StartAsync();

        var result = await CliRunner.RunAsync(Home(daemon), "virt", "-c", Test, "start", "nosuch");

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("no domain with matching name or uuid 'nosuch'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_errors_carry_the_stable_code_the_daemon_gave_the_fault()
    {
        await using var daemon = await TestDaemon.StartAsync();

        var result = await CliRunner.RunAsync(Home(daemon), "virt", "-c", Test, "start", "nosuch", "--json");
        using var json = JsonDocument.Parse(result.Error);

        Assert.Equal(4, result.ExitCode);
        var error = json.RootElement.GetProperty("error");
        Assert.Equal("virt.no_domain", error.GetProperty("code").GetString());
        Assert.Equal("not_found", error.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Invalid_xml_exits_with_the_invalid_input_code_and_defines_nothing()
    {
        await using var daemon = await TestDaemon.StartAsync();
        using var directory = new TempDirectory();
        var file = directory.Combine("bad.xml");
        await File.WriteAllTextAsync(file, "<domain type='qemu'><name>bad</name><memory>0</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>");

        var result = await CliRunner.RunAsync(Home(daemon), "virt", "-c", Test, "define", file);
        var list = await CliRunner.RunAsync(Home(daemon), "virt", "-c", Test, "list", "--all", "--json");

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("memory must be at least 1 KiB", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("\"bad\"", list.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Starting_a_running_domain_exits_with_the_conflict_code()
    {
        await using var daemon = await TestDaemon.StartAsync();

        var result = await CliRunner.RunAsync(Home(daemon), "virt", "-c", Test, "start", "test");

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("already running", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pool_and_volume_verbs_make_an_overlay_volume_and_refuse_a_wrong_upload()
    {
        await using var daemon = await TestDaemon.StartAsync();
        using var directory = new TempDirectory();
        var env = Home(daemon);
        var images = directory.Combine("images");

        Assert.Equal("Pool images defined\n", (await CliRunner.RunAsync(env, "virt", "pool-define-as", "images", images)).Output);
        Assert.Equal("Pool images built\n", (await CliRunner.RunAsync(env, "virt", "pool-build", "images")).Output);
        Assert.Equal("Pool images started\n", (await CliRunner.RunAsync(env, "virt", "pool-start", "images")).Output);
        Assert.Equal("Vol base.qcow2 created\n", (await CliRunner.RunAsync(env, "virt", "vol-create-as", "images", "base.qcow2", "1G", "--format", "qcow2")).Output);
        Assert.Equal("Vol web.qcow2 created\n", (await CliRunner.RunAsync(env, "virt", "vol-create-as", "images", "web.qcow2", "1G", "--format", "qcow2", "--backing-vol", "base.qcow2")).Output);
        var list = await CliRunner.RunAsync(env, "virt", "vol-list", "images", "--json");
        var upload = directory.Combine("payload.bin");
        await File.WriteAllBytesAsync(upload, new byte[4096]);
        var wrongFormat = await CliRunner.RunAsync(env, "virt", "vol-upload", "web.qcow2", upload, "--pool", "images");

        using var volumes = JsonDocument.Parse(list.Output);
        var web = volumes.RootElement.EnumerateArray().Single(v => v.GetProperty("name").GetString() == "web.qcow2");
        Assert.Equal("qcow2", web.GetProperty("format").GetString());
        Assert.Equal(Path.Combine(images, "base.qcow2"), web.GetProperty("backing_chain")[0].GetString());
        Assert.Equal(3, wrongFormat.ExitCode);
        Assert.Contains("is a raw image but volume 'web.qcow2' is qcow2", wrongFormat.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("on", true)]
    [InlineData("off", false)]
    public async Task Capabilities_offer_kvm_domains_only_when_kvm_is_usable(string setting, bool offered)
    {
        await using var daemon = await TestDaemon.StartAsync(settings: new Dictionary<string, string?> { ["Virt:Kvm"] = setting });

        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        CliResult result;
        do
        {
            result = await CliRunner.RunAsync(Home(daemon), "virt", "capabilities");
        }
        while (!limit.IsCancellationRequested && offered && !result.Output.Contains("<domain type='kvm'/>", StringComparison.Ordinal));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("<domain type='qemu'/>", result.Output, StringComparison.Ordinal);
        Assert.Equal(offered, result.Output.Contains("<domain type='kvm'/>", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Edit_defines_the_changed_xml()
    {
        await using var daemon = await TestDaemon.StartAsync();
        using var directory = new TempDirectory();
        var editor = await EditorAsync(directory, "s|<vcpu placement='static'>2</vcpu>|<vcpu placement='static'>3</vcpu>|");
        var env = new Dictionary<string, string?>(Home(daemon)) { ["EDITOR"] = editor };

        var result = await CliRunner.RunAsync(env, "virt", "-c", Test, "edit", "test");

        Assert.Equal("Domain 'test' XML configuration edited.\n", result.Output);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("<vcpu placement='static'>3</vcpu>", await DefinitionAsync(env), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Edit_that_breaks_the_xml_is_refused_and_changes_nothing()
    {
        await using var daemon = await TestDaemon.StartAsync();
        using var directory = new TempDirectory();
        var editor = await EditorAsync(directory, "s|<memory unit='KiB'>[0-9]*<|<memory unit='KiB'>0<|");
        var env = new Dictionary<string, string?>(Home(daemon)) { ["EDITOR"] = editor };
        var before = await DefinitionAsync(env);

        var result = await CliRunner.RunWithInputAsync(env, "n\n", "virt", "-c", Test, "edit", "test");

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("memory must be at least 1 KiB", result.Error, StringComparison.Ordinal);
        Assert.Contains("Try again? [y,n]", result.Error, StringComparison.Ordinal);
        Assert.Equal(before, await DefinitionAsync(env));
    }

    private static async Task<string> EditorAsync(TempDirectory directory, string sedExpression)
    {
        var editor = directory.Combine("editor.sh");
        await File.WriteAllTextAsync(editor, $"#!/bin/sh\nsed -i \"{sedExpression}\" \"$1\"\n");
        File.SetUnixFileMode(editor, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return editor;
    }

    private static async Task<string> DefinitionAsync(Dictionary<string, string?> env)
    {
        // The running test domain shows its live XML; the persistent definition is what edit changes.
        await CliRunner.RunAsync(env, "virt", "-c", Test, "destroy", "test");
        var xml = await CliRunner.RunAsync(env, "virt", "-c", Test, "dumpxml", "test");
        await CliRunner.RunAsync(env, "virt", "-c", Test, "start", "test");
        return xml.Output;
    }

    [Fact]
    public async Task Without_a_running_daemon_virt_says_how_to_start_one()
    {
        using var home = new TempDirectory();

        var result = await CliRunner.RunAsync(new Dictionary<string, string?> { ["NIMBUS_HOME"] = home.Path }, "virt", "list");

        Assert.Equal(10, result.ExitCode);
        Assert.Contains("./run.sh", result.Error, StringComparison.Ordinal);
    }
}

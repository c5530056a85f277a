using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Nimbus.Daemon;

namespace Nimbus.TestSupport;

/// <summary>
/// A whole nimbusd running in the test process on a free loopback port, with its own state
/// directory and a clock the test drives.
/// </summary>
public sealed class TestDaemon : IAsyncDisposable
{
    private readonly TempDirectory? _ownedHome;

    private TestDaemon(RunningDaemon daemon, FakeTimeProvider clock, TempDirectory? ownedHome)
    {
        Daemon = daemon;
        Clock = clock;
        _ownedHome = ownedHome;
        Http = new HttpClient { BaseAddress = daemon.Url };
    }

    public RunningDaemon Daemon { get; }

    public FakeTimeProvider Clock { get; }

    public HttpClient Http { get; }

    public Uri Url => Daemon.Url;

    public string Home => Daemon.Home;

    /// <summary>
    /// Starts a daemon; <paramref name="home"/> defaults to a temporary directory removed on dispose;
    /// <paramref name="services"/> adds services (a log capture) before the host is built.
    /// </summary>
    public static async Task<TestDaemon> StartAsync(
        string? home = null,
        IReadOnlyDictionary<string, string?>? settings = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        Action<IServiceCollection>? services = null)
    {
        var ownedHome = home is null ? new TempDirectory() : null;
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        // No KVM probe boots in component tests: they would cost a guest boot per daemon. Object
        // storage runs only where a test asks for it (WithObjects), on ports of its own.
        var allSettings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["Daemon:Port"] = "0", ["Virt:Kvm"] = "off", ["Objects:Enabled"] = "false" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            allSettings[key] = value;
        }

        var launch = new DaemonLaunch(home ?? ownedHome!.Path, null, allSettings, environment ?? new Dictionary<string, string?>());
        try
        {
            var daemon = await NimbusDaemon.StartAsync(
                launch,
                collection =>
                {
                    collection.AddSingleton<TimeProvider>(clock);
                    services?.Invoke(collection);
                },
                CancellationToken.None);
            return new TestDaemon(daemon, clock, ownedHome);
        }
        catch
        {
            ownedHome?.Dispose();
            throw;
        }
    }

    /// <summary>Settings that turn object storage on, its four storage nodes on free loopback ports.</summary>
    public static Dictionary<string, string?> WithObjects() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Objects:Enabled"] = "true",
        ["Objects:BasePort"] = LocalMachine.FreePortRange(4).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Daemon.DisposeAsync();
        _ownedHome?.Dispose();
    }
}

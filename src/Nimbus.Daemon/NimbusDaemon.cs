using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging.Console;
using Nimbus.Daemon.Identity;
using Nimbus.Daemon.Images;
using Nimbus.Daemon.Objects;
using Nimbus.Daemon.Virt;
using Nimbus.Platform.Configuration;
using Nimbus.Platform.Errors;
using Nimbus.Platform.Health;
using Nimbus.Platform.Http;
using Nimbus.Platform.Storage;

namespace Nimbus.Daemon;

/// <summary>
/// Composes and runs the services of one node. Every start-up check runs before anything is
/// written, so a refused start leaves the state directory and any running daemon untouched.
/// </summary>
public static class NimbusDaemon
{
    /// <summary>The services nimbusd composes, in the order they are registered, started and shown; each brings one module.</summary>
    internal static readonly IReadOnlyList<IDaemonModule> Modules =
    [
        new PlatformModule(),
        new VirtModule(),
        new IdentityModule(),
        new ImagesModule(),
        new ObjectsModule(),
    ];

    /// <summary>The options classes whose keys nimbusd accepts: every module's, whatever the role.</summary>
    internal static IEnumerable<Type> OptionsTypes => Modules.SelectMany(m => m.OptionsTypes);

    private const string ApiService = "api";

    /// <summary>Runs until SIGINT/SIGTERM; returns the process exit code. Refusals are one line on <paramref name="error"/>.</summary>
    public static async Task<int> RunAsync(DaemonLaunch launch, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        RunningDaemon daemon;
        try
        {
            daemon = await StartAsync(launch, configureServices: null, cancellationToken);
        }
        catch (NimbusException ex)
        {
            await error.WriteLineAsync($"nimbusd: {ex.Message}");
            return ErrorMapping.ExitCode(ex.Kind);
        }

        await using (daemon)
        {
            await output.WriteLineAsync(Banner(daemon));
            await daemon.WaitForShutdownAsync(cancellationToken);
        }

        return ErrorMapping.SuccessExitCode;
    }

    /// <summary>
    /// Starts the daemon and returns once it serves and has written nimbus.env. Tests pass
    /// <c>configureServices</c> to replace services (the clock) before the host is built.
    /// </summary>
    public static async Task<RunningDaemon> StartAsync(DaemonLaunch launch, Action<IServiceCollection>? configureServices, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(launch);
        var home = StateDirectory.Resolve(launch.Home, launch.Environment.GetValueOrDefault(StateDirectory.EnvironmentVariable));
        var configuration = NimbusConfiguration.Build(
            launch.ConfigFile ?? Path.Combine(home, "nimbus.json"),
            jsonFileRequired: launch.ConfigFile is not null,
            launch.Environment,
            launch.Settings);
        StrictOptionsBinder.RejectUnknownKeys(configuration, OptionsTypes);
        var context = new DaemonContext(configuration, home);
        foreach (var module in Modules)
        {
            module.Validate(context);
        }

        var options = context.Daemon;
        var modules = Modules.Where(m => m.RunsIn(options.Role)).ToList();
        StateDirectory.EnsureWritable(home);
        var address = IPAddress.Parse(options.Listen);
        EnsurePortFree(address, options.Port);

        var stateDirectory = StateDirectory.Acquire(home);
        WebApplication? app = null;
        try
        {
            app = Build(context, modules, configureServices);
            foreach (var module in modules)
            {
                await module.PrepareAsync(context, app.Services, cancellationToken);
            }

            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw PortTaken(address, options.Port, ex);
            }

            var url = BoundUrl(app);
            File.SetUnixFileMode(LocalApiSocket.PathIn(home), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var startup = new DaemonStartup(context, app.Services, url);
            foreach (var module in modules)
            {
                await module.StartedAsync(startup, cancellationToken);
            }

            app.Services.GetRequiredService<ServiceHealthRegistry>().Set(ApiService, ServiceState.Running);
            await RuntimeEnvFile.WriteAsync(home, url, cancellationToken);

            var info = app.Services.GetRequiredService<DaemonInfo>();
            var urlText = url.ToString();
            DaemonLog.Ready(app.Logger, info.Version, urlText, info.RoleName, home);
            return new RunningDaemon(app, url, info, stateDirectory, modules) { GeneratedAdminPassword = startup.GeneratedAdminPassword };
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            stateDirectory.Dispose();
            throw;
        }
    }

    private static WebApplication Build(DaemonContext context, IReadOnlyList<IDaemonModule> modules, Action<IServiceCollection>? configureServices)
    {
        var options = context.Daemon;
        var home = context.Home;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = home });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
            ["Logging:LogLevel:Prometheus"] = "Warning",
            ["Logging:Console:FormatterName"] = "simple",
            ["Logging:Console:FormatterOptions:SingleLine"] = "true",
            ["Logging:Console:FormatterOptions:UseUtcTimestamp"] = "true",
            ["Logging:Console:FormatterOptions:TimestampFormat"] = "yyyy-MM-ddTHH:mm:ss.fffZ ",
        });
        builder.Configuration.AddConfiguration(context.Configuration);

        builder.Logging.ClearProviders();
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddConsole();
        // The slim builder pins the simple formatter in code, after configuration is bound; the setting must win.
        builder.Services.PostConfigure<ConsoleLoggerOptions>(console =>
            console.FormatterName = builder.Configuration["Logging:Console:FormatterName"] ?? ConsoleFormatterNames.Simple);
        // The shared timestamp format ends in the space the simple formatter needs as a separator; JSON needs none.
        // Scopes (request, trace and connection ids) are fields of a JSON line; in front of a text line they
        // would bury the message, so the simple formatter leaves them out unless asked.
        var includeScopes = builder.Configuration.GetValue<bool?>("Logging:Console:FormatterOptions:IncludeScopes");
        builder.Services.PostConfigure<JsonConsoleFormatterOptions>(json =>
        {
            json.TimestampFormat = json.TimestampFormat?.TrimEnd();
            json.IncludeScopes = includeScopes ?? true;
        });

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Swift's metadata headers carry UTF-8 bytes; Latin-1 keeps each byte as one char both ways.
            kestrel.RequestHeaderEncodingSelector = _ => Encoding.Latin1;
            kestrel.ResponseHeaderEncodingSelector = _ => Encoding.Latin1;
            kestrel.Listen(IPAddress.Parse(options.Listen), options.Port);
            kestrel.ListenUnixSocket(LocalApiSocket.Prepare(home));
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(options.ShutdownTimeoutSeconds));

        configureServices?.Invoke(builder.Services);
        foreach (var module in modules)
        {
            module.ConfigureServices(context, builder.Services);
        }

        var app = builder.Build();
        app.Services.GetRequiredService<ServiceHealthRegistry>().Set(ApiService, ServiceState.Starting);
        foreach (var module in modules)
        {
            module.UseAheadOfPlatform(app);
        }

        app.UseNimbusPlatform();
        app.UseWebSockets();
        foreach (var module in modules)
        {
            module.MapEndpoints(app);
        }

        app.Lifetime.ApplicationStopping.Register(() =>
        {
            app.Services.GetRequiredService<ServiceHealthRegistry>().Set(ApiService, ServiceState.Stopping);
            DaemonLog.Stopping(app.Logger);
        });
        return app;
    }

    /// <summary>Fails before anything is written when the port is taken, so a second start disturbs nothing.</summary>
    private static void EnsurePortFree(IPAddress address, int port)
    {
        if (port == 0)
        {
            return;
        }

        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw PortTaken(address, port, ex);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            throw new ConfigurationException(
                "config.listen_unavailable",
                "Daemon:Listen",
                $"cannot listen on {address}: no interface of this machine has that address; set Daemon:Listen (--listen) to one it has, such as 127.0.0.1.",
                ex);
        }
    }

    private static ConflictException PortTaken(IPAddress address, int port, Exception inner) =>
        new(
            "daemon.port_in_use",
            $"cannot listen on {address}:{port}: the port is already taken (another nimbusd may be running — `nimbus status` tells); stop it, or choose another port with --port or NIMBUS__Daemon__Port.",
            inner);

    private static Uri BoundUrl(WebApplication app)
    {
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal) && !a.StartsWith("http://unix:", StringComparison.Ordinal));
        var uri = new Uri(bound);
        // A wildcard listener is reached through loopback from this machine.
        var host = uri.Host is "0.0.0.0" or "[::]" ? "127.0.0.1" : uri.Host;
        return new UriBuilder(uri.Scheme, host, uri.Port).Uri;
    }

    /// <summary>The admin password bootstrap made up, shown this once (openrc keeps it, owner-only).</summary>
    private static string AdminPasswordLine(RunningDaemon daemon) =>
        daemon.GeneratedAdminPassword is { } password
            ? $"Identity admin (shown once; also in openrc):  user admin  project admin  password {password}\n"
            : string.Empty;

    private static string Banner(RunningDaemon daemon)
    {
        var url = daemon.Url.GetLeftPart(UriPartial.Authority);
        var services = string.Concat(daemon.Modules.SelectMany(m => m.BannerLines(daemon, url)).Select(line => line + "\n"));
        return $"""
            nimbusd {daemon.Info.Version} is running (role {daemon.Info.RoleName}, state in {daemon.Info.Home})
            {services}  env file  {RuntimeEnvFile.PathIn(daemon.Info.Home)}  (source it for NIMBUS_URL)
            {AdminPasswordLine(daemon)}Check it with:  ./bin/nimbus status     or   curl -s {url}/healthz
            Stop it with Ctrl-C.
            """;
    }
}

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
using Nimbus.Identity;
using Nimbus.Identity.Bootstrap;
using Nimbus.Images;
using Nimbus.Images.Http;
using Nimbus.Platform.Configuration;
using Nimbus.Platform.Data;
using Nimbus.Platform.Errors;
using Nimbus.Platform.Health;
using Nimbus.Platform.Http;
using Nimbus.Platform.Storage;
using Nimbus.Virt;
using Nimbus.Virt.Qemu.Driver;
using Nimbus.Virt.Storage;

namespace Nimbus.Daemon;

/// <summary>
/// Composes and runs the services of one node. Every start-up check runs before anything is
/// written, so a refused start leaves the state directory and any running daemon untouched.
/// </summary>
public static class NimbusDaemon
{
    /// <summary>The options classes whose keys nimbusd accepts; each service adds its own here.</summary>
    internal static readonly Type[] OptionsTypes = [typeof(DaemonOptions), typeof(DataOptions), typeof(IdentityOptions), typeof(ImagesOptions), typeof(VirtOptions), typeof(ObjectsOptions)];

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
        var options = StrictOptionsBinder.Bind<DaemonOptions>(configuration);
        var virtOptions = StrictOptionsBinder.Bind<VirtOptions>(configuration);
        var objectsOptions = StrictOptionsBinder.Bind<ObjectsOptions>(configuration);
        var dataOptions = StrictOptionsBinder.Bind<DataOptions>(configuration);
        var identityOptions = StrictOptionsBinder.Bind<IdentityOptions>(configuration);
        var imagesOptions = StrictOptionsBinder.Bind<ImagesOptions>(configuration);
        if (imagesOptions.Store == ImageStoreKind.Swift && !objectsOptions.Enabled)
        {
            throw new ConfigurationException(
                "config.images_store_needs_objects",
                "Images:Store",
                "Images:Store is swift but object storage is off (Objects:Enabled is false); turn object storage on, or keep images in files with Images:Store file.");
        }

        StateDirectory.EnsureWritable(home);
        var address = IPAddress.Parse(options.Listen);
        EnsurePortFree(address, options.Port);

        var stateDirectory = StateDirectory.Acquire(home);
        WebApplication? app = null;
        try
        {
            app = Build(configuration, options, dataOptions, identityOptions, imagesOptions, virtOptions, objectsOptions, home, configureServices);
            if (options.Role == DaemonRole.All)
            {
                // Schemas, token keys and revocations before the first request; bootstrap needs the address.
                await app.Services.PrepareIdentityAsync(cancellationToken);
                await app.Services.InitializeNimbusImagesAsync(cancellationToken);
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
            string? adminPassword = null;
            if (options.Role == DaemonRole.All)
            {
                adminPassword = await IdentityStartup.BootstrapAsync(app.Services, identityOptions, home, url, cancellationToken);
                app.Services.GetService<ImageStoreSwiftAccess>()?.Started(url);
            }

            app.Services.GetRequiredService<ServiceHealthRegistry>().Set(ApiService, ServiceState.Running);
            // swiftrc and openrc first: nimbus.env appearing is the signal that everything is ready.
            if (app.Services.GetService<ObjectStorage>() is { } objects)
            {
                await objects.WriteSwiftRcAsync(home, url, cancellationToken);
            }

            await RuntimeEnvFile.WriteAsync(home, url, cancellationToken);

            var info = app.Services.GetRequiredService<DaemonInfo>();
            var urlText = url.ToString();
            DaemonLog.Ready(app.Logger, info.Version, urlText, info.RoleName, home);
            return new RunningDaemon(app, url, info, stateDirectory) { GeneratedAdminPassword = adminPassword };
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

    private static WebApplication Build(IConfigurationRoot configuration, DaemonOptions options, DataOptions dataOptions, IdentityOptions identityOptions, ImagesOptions imagesOptions, VirtOptions virtOptions, ObjectsOptions objectsOptions, string home, Action<IServiceCollection>? configureServices)
    {
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
            ["Logging:Console:FormatterOptions:IncludeScopes"] = "true",
            ["Logging:Console:FormatterOptions:UseUtcTimestamp"] = "true",
            ["Logging:Console:FormatterOptions:TimestampFormat"] = "yyyy-MM-ddTHH:mm:ss.fffZ ",
        });
        builder.Configuration.AddConfiguration(configuration);

        builder.Logging.ClearProviders();
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddConsole();
        // The slim builder pins the simple formatter in code, after configuration is bound; the setting must win.
        builder.Services.PostConfigure<ConsoleLoggerOptions>(console =>
            console.FormatterName = builder.Configuration["Logging:Console:FormatterName"] ?? ConsoleFormatterNames.Simple);
        // The shared timestamp format ends in the space the simple formatter needs as a separator; JSON needs none.
        builder.Services.PostConfigure<JsonConsoleFormatterOptions>(json => json.TimestampFormat = json.TimestampFormat?.TrimEnd());

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
        builder.Services.AddNimbusPlatform();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(dataOptions);
        builder.Services.AddSingleton<IDatabaseFactory>(_ => new DatabaseFactory(dataOptions, home));
        builder.Services.AddSingleton(virtOptions);
        builder.Services.AddSingleton<KvmAvailability>();
        if (options.Role == DaemonRole.All)
        {
            builder.Services.AddHostedService<KvmProbeService>();
        }

        builder.Services.AddSingleton(services =>
        {
            var registry = new DriverRegistry(Path.Combine(home, "virt", "test-storage"));
            var qemu = new QemuDriverOptions
            {
                StateDirectory = Path.Combine(home, "virt", "qemu"),
                Emulator = KvmProbeService.Emulator,
                Kvm = services.GetRequiredService<KvmAvailability>(),
                Clock = services.GetRequiredService<TimeProvider>(),
            };
            registry.RegisterHypervisor("qemu", async (uri, ct) => uri.AbsolutePath == "/system"
                ? await QemuHypervisorDriver.OpenAsync(qemu, ct)
                : throw new VirtException(VirtErrorCode.NoConnect, $"the qemu driver serves qemu:///system, not '{uri}'"));
            registry.RegisterStorage("qemu", async (_, ct) => await StorageDriver.OpenAsync(Path.Combine(home, "virt", "storage"), ct));
            return registry;
        });
        if (options.Role == DaemonRole.All)
        {
            builder.Services.AddHostedService<VirtAutostart>();
        }

        builder.Services.AddSingleton(objectsOptions);
        if (options.Role == DaemonRole.Storage)
        {
            builder.Services.AddSingleton<StorageNodeService>();
            builder.Services.AddHostedService(services => services.GetRequiredService<StorageNodeService>());
        }
        else if (objectsOptions.Enabled)
        {
            builder.Services.AddSingleton<ObjectStorage>();
            builder.Services.AddHostedService(services => services.GetRequiredService<ObjectStorage>());
        }

        if (options.Role == DaemonRole.All)
        {
            builder.Services.AddNimbusIdentity(IdentityStartup.Settings(identityOptions, home));
            if (imagesOptions.Store == ImageStoreKind.Swift)
            {
                builder.Services.AddSingleton<ImageStoreSwiftAccess>();
            }

            builder.Services.AddNimbusImages(ImagesStartup.Settings(imagesOptions), ImagesStartup.Store(imagesOptions, home));
        }

        builder.Services.AddSingleton<VirtConnections>();
        builder.Services.AddSingleton(services => new DaemonInfo(
            DaemonInfo.ProductVersion(),
            options.Role,
            home,
            services.GetRequiredService<TimeProvider>().GetUtcNow()));

        var app = builder.Build();
        app.Services.GetRequiredService<ServiceHealthRegistry>().Set(ApiService, ServiceState.Starting);
        if (app.Services.GetService<ObjectStorage>() is { } objectStorage)
        {
            app.UseSwiftProxy(objectStorage);
        }

        app.UseNimbusPlatform();
        app.UseWebSockets();
        app.MapHealth();
        app.MapVirt();
        if (options.Role == DaemonRole.All)
        {
            app.MapIdentity();
            app.MapIdentityAdmin();
            app.MapImages();
        }

        if (app.Services.GetService<ObjectStorage>() is not null)
        {
            app.MapObjectsAdmin();
        }

        app.MapNimbusMetrics();
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

    /// <summary>Identity and Images run only in the all-in-one, not on a storage node.</summary>
    private static string CloudLines(RunningDaemon daemon, string url) =>
        daemon.Info.Role == DaemonRole.All
            ? $"  identity  {url}/identity  (openstack client: source {Path.Combine(daemon.Info.Home, ClientConfigFiles.OpenRcFileName)})\n  images    {url}/image\n"
            : string.Empty;

    private static string Banner(RunningDaemon daemon)
    {
        var url = daemon.Url.GetLeftPart(UriPartial.Authority);
        return $"""
            nimbusd {daemon.Info.Version} is running (role {daemon.Info.RoleName}, state in {daemon.Info.Home})
              API       {url}
              health    {url}/healthz
              metrics   {url}/metrics
            {CloudLines(daemon, url)}  objects   {url}/v1  (swift client: source {ObjectStorage.SwiftRcPath(daemon.Info.Home)})
              env file  {RuntimeEnvFile.PathIn(daemon.Info.Home)}  (source it for NIMBUS_URL)
            {AdminPasswordLine(daemon)}Check it with:  ./bin/nimbus status     or   curl -s {url}/healthz
            Stop it with Ctrl-C.
            """;
    }
}

namespace Nimbus.Daemon;

/// <summary>
/// One service as nimbusd composes it: the options it reads, the roles it runs in, its
/// registrations, its endpoints, what it does before and after the API host listens, and its lines
/// of the start-up banner. nimbusd lists the modules once (<see cref="NimbusDaemon.Modules"/>);
/// adding a service adds one module there.
/// </summary>
internal interface IDaemonModule
{
    /// <summary>The options classes whose sections this module reads; their keys are accepted in every role.</summary>
    IReadOnlyList<Type> OptionsTypes { get; }

    /// <summary>Whether this module has anything to run in a process of <paramref name="role"/>.</summary>
    bool RunsIn(DaemonRole role);

    /// <summary>
    /// Binds and checks this module's options, in every role, before anything is written: a refusal
    /// here leaves the state directory untouched.
    /// </summary>
    void Validate(DaemonContext context);

    /// <summary>Registers the module's services; called only where it <see cref="RunsIn"/>.</summary>
    void ConfigureServices(DaemonContext context, IServiceCollection services);

    /// <summary>Branches taken ahead of the platform's middleware (request ids, faults, routing).</summary>
    void UseAheadOfPlatform(WebApplication app)
    {
    }

    void MapEndpoints(WebApplication app);

    /// <summary>Work that must be done after the host is built and before it serves (schemas, keys).</summary>
    Task PrepareAsync(DaemonContext context, IServiceProvider services, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Work that needs the address the API host listens on (bootstrap, rc files); runs before nimbus.env is written.</summary>
    Task StartedAsync(DaemonStartup startup, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The module's lines of the start-up banner, each without its line break.</summary>
    IEnumerable<string> BannerLines(RunningDaemon daemon, string url) => [];
}

/// <summary>What a module sees at composition: the configuration (each options class bound once), the state directory and the role.</summary>
internal sealed class DaemonContext(IConfigurationRoot configuration, string home)
{
    private readonly Dictionary<Type, object> _bound = [];

    public IConfigurationRoot Configuration => configuration;

    public string Home => home;

    public DaemonOptions Daemon => Options<DaemonOptions>();

    public DaemonRole Role => Daemon.Role;

    /// <summary>The options class <typeparamref name="T"/> bound and validated; a refusal is a <see cref="Platform.Errors.ConfigurationException"/>.</summary>
    public T Options<T>()
        where T : class, new()
    {
        if (!_bound.TryGetValue(typeof(T), out var options))
        {
            options = Platform.Configuration.StrictOptionsBinder.Bind<T>(configuration);
            _bound[typeof(T)] = options;
        }

        return (T)options;
    }
}

/// <summary>A start under way, once the API host listens: what <see cref="IDaemonModule.StartedAsync"/> works with.</summary>
internal sealed class DaemonStartup(DaemonContext context, IServiceProvider services, Uri url)
{
    public DaemonContext Context => context;

    public IServiceProvider Services => services;

    /// <summary>The address the API host listens on (the port it was given when 0 was asked for).</summary>
    public Uri Url => url;

    public string Home => context.Home;

    /// <summary>A password this start made up and shows once in the banner.</summary>
    public string? GeneratedAdminPassword { get; set; }
}

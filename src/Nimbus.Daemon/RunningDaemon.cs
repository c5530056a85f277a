using Nimbus.Platform.Storage;

namespace Nimbus.Daemon;

/// <summary>A started daemon. Disposing stops it, removes nimbus.env and releases the state directory.</summary>
public sealed class RunningDaemon : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IDisposable _stateDirectory;
    private int _disposed;

    internal RunningDaemon(WebApplication app, Uri url, DaemonInfo info, IDisposable stateDirectory, IReadOnlyList<IDaemonModule> modules)
    {
        Modules = modules;
        _app = app;
        Url = url;
        Info = info;
        _stateDirectory = stateDirectory;
    }

    public Uri Url { get; }

    /// <summary>The Identity admin's password when this start created the admin and made it up; shown once.</summary>
    public string? GeneratedAdminPassword { get; init; }

    public string Home => Info.Home;

    internal DaemonInfo Info { get; }

    /// <summary>The modules this process runs (those whose roles include its own).</summary>
    internal IReadOnlyList<IDaemonModule> Modules { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Completes when the host is asked to stop (SIGINT, SIGTERM, or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _app.StopAsync(CancellationToken.None);
        RuntimeEnvFile.Remove(Info.Home);
        DaemonLog.Stopped(_app.Logger);
        await _app.DisposeAsync();
        _stateDirectory.Dispose();
    }
}

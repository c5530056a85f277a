using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Nimbus.Identity.Api;
using Nimbus.Identity.Authentication;
using Nimbus.Identity.Bootstrap;
using Nimbus.Identity.Data;
using Nimbus.Identity.Resources;
using Nimbus.Identity.Tokens;
using Nimbus.Platform.Auth;
using Nimbus.Platform.Data;
using Prometheus;

namespace Nimbus.Identity;

/// <summary>
/// How a host runs Identity: <see cref="AddNimbusIdentity"/> at composition,
/// <see cref="InitializeIdentityAsync"/> once after Build and before Start (schema, token keys,
/// revocations, bootstrap), then <see cref="MapIdentity"/> for the API under /identity.
/// </summary>
public static class IdentityHosting
{
    public const string DatabaseName = "identity";

    /// <summary>
    /// Registers the directory, the authenticator, the token service, <see cref="TokenValidator"/> as
    /// the host's <see cref="ITokenValidator"/>, and the <see cref="RevocationSync"/> hosted service.
    /// Needs an <see cref="IDatabaseFactory"/> and a <see cref="TimeProvider"/> (AddNimbusPlatform).
    /// </summary>
    public static IServiceCollection AddNimbusIdentity(this IServiceCollection services, IdentitySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        services.AddSingleton(settings);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IdentityRuntime>();
        services.AddSingleton(sp => new PasswordHasher(settings.PasswordHashIterations));
        services.AddSingleton(sp => new RevocationList(
            sp.GetRequiredService<IdentityRuntime>().Database,
            sp.GetRequiredService<TimeProvider>(),
            settings.TokenLifetime,
            sp.GetRequiredService<ILogger<RevocationList>>()));
        services.AddSingleton(sp => sp.GetRequiredService<IdentityRuntime>().Keys);
        services.AddSingleton(sp => new TokenService(
            sp.GetRequiredService<TokenKeyRing>(),
            sp.GetRequiredService<RevocationList>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<IMetricFactory>() is { } metrics ? new TokenMetrics(metrics) : null));
        services.AddSingleton<TokenValidator>();
        services.AddSingleton<ITokenValidator>(sp => sp.GetRequiredService<TokenValidator>());
        services.AddSingleton<ITokenRevoker, TokenServiceRevoker>();
        services.AddSingleton(sp => new IdentityDirectory(
            sp.GetRequiredService<IdentityRuntime>().Database,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<PasswordHasher>(),
            sp.GetRequiredService<ITokenRevoker>(),
            sp.GetRequiredService<ILogger<IdentityDirectory>>()));
        services.AddSingleton<Authenticator>();
        services.AddSingleton<IdentityBootstrap>();
        services.AddHostedService<RevocationSync>();
        return services;
    }

    /// <summary>
    /// Applies the identity schema, loads or creates the token keys, loads the revocation events
    /// and runs bootstrap. Call once after the host is built and before it starts; the result says
    /// whether the admin was created and carries a generated password to show once.
    /// </summary>
    public static async Task<BootstrapResult> InitializeIdentityAsync(this IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        await services.PrepareIdentityAsync(cancellationToken);
        var settings = services.GetRequiredService<IdentitySettings>();
        return await services.BootstrapIdentityAsync(
            settings.Bootstrap ?? throw new InvalidOperationException("IdentitySettings.Bootstrap is not set; call PrepareIdentityAsync and BootstrapIdentityAsync instead."),
            cancellationToken);
    }

    /// <summary>
    /// The part of initialization that must come before the host serves: the schema, the token keys
    /// and the revocation events. A host that learns its address only once it listens (port 0)
    /// calls this first and <see cref="BootstrapIdentityAsync"/> after it starts.
    /// </summary>
    public static async Task PrepareIdentityAsync(this IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        await services.GetRequiredService<IdentityRuntime>().InitializeAsync(cancellationToken);
        await services.GetRequiredService<RevocationList>().SyncAsync(cancellationToken);
    }

    /// <summary>keystone-manage bootstrap for <paramref name="settings"/>; idempotent.</summary>
    public static Task<BootstrapResult> BootstrapIdentityAsync(this IServiceProvider services, BootstrapSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetRequiredService<IdentityBootstrap>().BootstrapAsync(settings, cancellationToken);
    }

    /// <summary>Maps the Keystone v3 API under /identity with Keystone's fault bodies.</summary>
    public static IEndpointRouteBuilder MapIdentity(this IEndpointRouteBuilder endpoints)
    {
        IdentityApi.Map(endpoints);
        return endpoints;
    }
}

/// <summary>The parts of Identity that exist only after <see cref="IdentityHosting.InitializeIdentityAsync"/>.</summary>
internal sealed class IdentityRuntime(IDatabaseFactory databases, IdentitySettings settings, TimeProvider clock, ILogger<IdentityRuntime> logger) : IDisposable
{
    private TokenKeyRing? _keys;

    public Database Database { get; } = databases.Open(IdentityHosting.DatabaseName);

    public TokenKeyRing Keys => _keys ?? throw new InvalidOperationException("Identity is not initialized: call InitializeIdentityAsync after building the host and before starting it.");

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await Database.MigrateAsync(IdentitySchema.Migrations, cancellationToken);
        IdentityLog.Migrated(logger, Database.Location);
        _keys ??= await TokenKeyRing.LoadOrCreateAsync(settings.KeyDirectory, Math.Max(settings.MaxActiveKeys, TokenKeyRing.MinActiveKeys), clock, logger, cancellationToken);
    }

    public void Dispose() => _keys?.Dispose();
}

/// <summary>The directory's revocations go to the token service, which honours them at once.</summary>
internal sealed class TokenServiceRevoker(TokenService tokens) : ITokenRevoker
{
    public Task RevokeAsync(RevocationEvent revocation, CancellationToken cancellationToken) => tokens.RevokeAsync(revocation, cancellationToken);
}

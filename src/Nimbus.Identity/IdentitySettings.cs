namespace Nimbus.Identity;

/// <summary>
/// What the daemon tells Identity at start-up. Plain data: nimbusd builds it from its own
/// configuration; tests build it directly.
/// </summary>
public sealed record IdentitySettings
{
    /// <summary>How long an issued token is valid (Keystone's [token] expiration, 3600 s).</summary>
    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>PBKDF2-SHA512 iterations for passwords and application credential secrets; tens of milliseconds per hash by default.</summary>
    public int PasswordHashIterations { get; init; } = 100_000;

    /// <summary>Where the token keys live ($NIMBUS_HOME/identity/keys).</summary>
    public required string KeyDirectory { get; init; }

    /// <summary>How many token keys stay valid for validation across rotations.</summary>
    public int MaxActiveKeys { get; init; } = 3;

    /// <summary>What <see cref="IdentityHosting.InitializeIdentityAsync"/> bootstraps; hosts that bootstrap once they listen pass it to BootstrapIdentityAsync instead.</summary>
    public BootstrapSettings? Bootstrap { get; init; }
}

/// <summary>The first administrator, the region and the catalog's base address (keystone-manage bootstrap).</summary>
public sealed record BootstrapSettings
{
    /// <summary>The address clients reach this host on, such as http://127.0.0.1:8700; catalog URLs hang off it.</summary>
    public required Uri PublicBaseUrl { get; init; }

    public string RegionId { get; init; } = "RegionOne";

    public string AdminUserName { get; init; } = "admin";

    public string AdminProjectName { get; init; } = "admin";

    /// <summary>The admin's password on first start; null generates one, which bootstrap returns once.</summary>
    public string? AdminPassword { get; init; }
}

using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Nimbus.Platform.Configuration;

namespace Nimbus.Daemon.Identity;

/// <summary>Identity (Keystone v3) in nimbusd. Section <c>Identity</c>; see docs/identity.md.</summary>
[OptionsSection("Identity")]
public sealed class IdentityOptions
{
    [Description("How long a token is valid, in seconds (Keystone's [token] expiration).")]
    [Range(60, 7 * 24 * 3600, ErrorMessage = "must be from 60 seconds to 7 days.")]
    public int TokenExpirationSeconds { get; set; } = 3600;

    [Description("PBKDF2-SHA512 iterations for stored passwords and application credential secrets.")]
    [Range(1000, 10_000_000, ErrorMessage = "must be from 1,000 to 10,000,000.")]
    public int PasswordHashIterations { get; set; } = 100_000;

    [Description("Token keys kept: the primary, the staged key and the rest secondaries (Keystone's max_active_keys).")]
    [Range(3, 100, ErrorMessage = "must be from 3 to 100.")]
    public int MaxActiveKeys { get; set; } = 3;

    [Description("The region the bootstrap puts the catalog's endpoints in.")]
    [MinLength(1, ErrorMessage = "must not be empty.")]
    public string Region { get; set; } = "RegionOne";

    [Description("The admin user's password at the first start; empty generates one and prints it once.")]
    public string BootstrapPassword { get; set; } = string.Empty;

    [Description("The base URL the catalog advertises (http://cloud.example.com:8700); empty uses the address nimbusd listens on.")]
    public string PublicUrl { get; set; } = string.Empty;
}

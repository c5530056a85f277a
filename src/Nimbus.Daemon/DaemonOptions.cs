using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Net;
using Nimbus.Platform.Configuration;

namespace Nimbus.Daemon;

/// <summary>The services a <c>nimbusd</c> process composes. Roles for single services arrive with those services.</summary>
public enum DaemonRole
{
    /// <summary>Every service on one node: the all-in-one cloud.</summary>
    All,

    /// <summary>One object storage node (object, container and account servers and their daemons), for a cluster whose rings name it.</summary>
    Storage,
}

/// <summary>How <c>nimbusd</c> itself runs. Section <c>Daemon</c>; see docs/configuration.md.</summary>
[OptionsSection("Daemon")]
public sealed class DaemonOptions : IValidatableObject
{
    public const int DefaultPort = 8700;

    [Description("IP address the API host listens on.")]
    public string Listen { get; set; } = "127.0.0.1";

    [Description("TCP port of the API host; 0 picks a free port.")]
    [Range(0, 65535, ErrorMessage = "must be a port number from 0 to 65535 (0 picks a free port).")]
    public int Port { get; set; } = DefaultPort;

    [Description("Which services this process runs.")]
    public DaemonRole Role { get; set; } = DaemonRole.All;

    [Description("Seconds given to services to stop cleanly on SIGINT/SIGTERM.")]
    [Range(1, 3600, ErrorMessage = "must be from 1 to 3600 seconds.")]
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!IPAddress.TryParse(Listen, out _))
        {
            yield return new ValidationResult(
                $"'{Listen}' is not an IP address; use one such as 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).",
                [nameof(Listen)]);
        }
    }
}

namespace Nimbus.Platform.Errors;

/// <summary>
/// The base of every error Nimbus reports on purpose. <see cref="Code"/> is stable across releases
/// (scripts may match on it); the message says what was wrong and how to fix it.
/// </summary>
public class NimbusException : Exception
{
    public NimbusException(ErrorKind kind, string code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(code);
        Kind = kind;
        Code = code;
    }

    public ErrorKind Kind { get; }

    /// <summary>A stable, dotted identifier such as <c>config.unknown_key</c>.</summary>
    public string Code { get; }
}

public sealed class InvalidInputException(string code, string message, Exception? innerException = null)
    : NimbusException(ErrorKind.InvalidInput, code, message, innerException);

public sealed class NotFoundException(string code, string message)
    : NimbusException(ErrorKind.NotFound, code, message);

public sealed class ConflictException(string code, string message, Exception? innerException = null)
    : NimbusException(ErrorKind.Conflict, code, message, innerException);

public sealed class UnauthorizedException(string code, string message)
    : NimbusException(ErrorKind.Unauthorized, code, message);

public sealed class ForbiddenException(string code, string message)
    : NimbusException(ErrorKind.Forbidden, code, message);

public sealed class OverLimitException(string code, string message)
    : NimbusException(ErrorKind.OverLimit, code, message);

/// <summary>The one "not supported by this driver/backend" error every pluggable part raises.</summary>
public sealed class UnsupportedException(string code, string message)
    : NimbusException(ErrorKind.Unsupported, code, message);

public sealed class ServiceUnavailableException(string code, string message, Exception? innerException = null)
    : NimbusException(ErrorKind.Unavailable, code, message, innerException);

public sealed class NimbusTimeoutException(string code, string message, Exception? innerException = null)
    : NimbusException(ErrorKind.Timeout, code, message, innerException);

/// <summary>
/// Start-up configuration that cannot be used. <see cref="Key"/> names the offending setting
/// (<c>Daemon:Port</c>) when there is one.
/// </summary>
public sealed class ConfigurationException(string code, string? key, string message, Exception? innerException = null)
    : NimbusException(ErrorKind.InvalidInput, code, message, innerException)
{
    public string? Key { get; } = key;
}

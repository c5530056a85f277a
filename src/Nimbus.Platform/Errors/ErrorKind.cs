namespace Nimbus.Platform.Errors;

/// <summary>
/// What went wrong, from the caller's point of view. Each kind maps to one HTTP status and
/// OpenStack fault name and to one CLI exit code, in <see cref="ErrorMapping"/> only.
/// </summary>
public enum ErrorKind
{
    /// <summary>The request or configuration is malformed or fails validation.</summary>
    InvalidInput,

    /// <summary>No credentials, or credentials that are not valid.</summary>
    Unauthorized,

    /// <summary>Valid credentials that do not allow this action.</summary>
    Forbidden,

    /// <summary>The named resource does not exist.</summary>
    NotFound,

    /// <summary>The resource is in a state that does not allow the action, or already exists.</summary>
    Conflict,

    /// <summary>A quota or rate limit would be exceeded, or the request is too large.</summary>
    OverLimit,

    /// <summary>The action is valid but not supported by this driver, backend or deployment.</summary>
    Unsupported,

    /// <summary>A service the action needs is not running or not reachable.</summary>
    Unavailable,

    /// <summary>The action did not finish within its time limit.</summary>
    Timeout,

    /// <summary>An unexpected failure inside Nimbus.</summary>
    Internal,
}

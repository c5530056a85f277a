namespace Nimbus.Platform.Errors;

/// <summary>
/// The one place where an <see cref="ErrorKind"/> becomes an HTTP status, an OpenStack fault name
/// and a CLI exit code.
/// </summary>
public static class ErrorMapping
{
    /// <summary>The command line itself could not be parsed (unknown option, missing argument).</summary>
    public const int UsageExitCode = 2;

    public const int SuccessExitCode = 0;

    /// <summary>
    /// The response header that carries a fault's stable dotted code (docs/errors.md), beside a fault body whose
    /// shape the OpenStack clients expect unchanged; <c>nimbus</c> reports it as the error's code.
    /// </summary>
    public const string ErrorCodeHeader = "X-Nimbus-Error-Code";

    public static int HttpStatus(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidInput => 400,
        ErrorKind.Unauthorized => 401,
        ErrorKind.Forbidden => 403,
        ErrorKind.NotFound => 404,
        ErrorKind.Conflict => 409,
        ErrorKind.OverLimit => 413,
        ErrorKind.Unsupported => 501,
        ErrorKind.Unavailable => 503,
        ErrorKind.Timeout => 504,
        ErrorKind.Internal => 500,
        _ => 500,
    };

    /// <summary>The top-level key of the fault body, as Nova writes it (api-ref "Faults").</summary>
    public static string FaultName(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidInput => "badRequest",
        ErrorKind.Unauthorized => "unauthorized",
        ErrorKind.Forbidden => "forbidden",
        ErrorKind.NotFound => "itemNotFound",
        ErrorKind.Conflict => "conflictingRequest",
        ErrorKind.OverLimit => "overLimit",
        ErrorKind.Unsupported => "notImplemented",
        ErrorKind.Unavailable => "serviceUnavailable",
        ErrorKind.Timeout => "gatewayTimeout",
        ErrorKind.Internal => "computeFault",
        _ => "computeFault",
    };

    /// <summary>The fault kind for an HTTP status produced outside Nimbus code (routing, Kestrel).</summary>
    public static ErrorKind KindForStatus(int status) => status switch
    {
        400 => ErrorKind.InvalidInput,
        401 => ErrorKind.Unauthorized,
        403 => ErrorKind.Forbidden,
        404 => ErrorKind.NotFound,
        409 => ErrorKind.Conflict,
        413 => ErrorKind.OverLimit,
        501 => ErrorKind.Unsupported,
        503 => ErrorKind.Unavailable,
        504 => ErrorKind.Timeout,
        _ when status is >= 400 and < 500 => ErrorKind.InvalidInput,
        _ => ErrorKind.Internal,
    };

    /// <summary>Distinct exit codes so scripts can tell failures apart; 2 is kept for usage errors.</summary>
    public static int ExitCode(ErrorKind kind) => kind switch
    {
        ErrorKind.Internal => 1,
        ErrorKind.InvalidInput => 3,
        ErrorKind.NotFound => 4,
        ErrorKind.Conflict => 5,
        ErrorKind.Unauthorized => 6,
        ErrorKind.Forbidden => 7,
        ErrorKind.OverLimit => 8,
        ErrorKind.Unsupported => 9,
        ErrorKind.Unavailable => 10,
        ErrorKind.Timeout => 11,
        _ => 1,
    };
}

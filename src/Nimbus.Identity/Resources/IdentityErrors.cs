using Nimbus.Platform.Errors;

namespace Nimbus.Identity.Resources;

/// <summary>Keystone's words for the errors its clients and tests match on (keystone/exception.py).</summary>
internal static class IdentityErrors
{
    public static NotFoundException NotFound(string kind, string id) =>
        new($"identity.{kind.Replace(' ', '_').ToLowerInvariant()}_not_found", $"Could not find {kind}: {id}.");

    public static ConflictException Duplicate(string kind, string name, string? domainId) =>
        new(
            "identity.duplicate",
            domainId is null
                ? $"Conflict occurred attempting to store {kind} - Duplicate entry found with name {name}."
                : $"Conflict occurred attempting to store {kind} - Duplicate entry found with name {name} at domain ID {domainId}.");

    public static InvalidInputException Invalid(string field, string detail) =>
        new("identity.invalid_input", $"Invalid input for field '{field}': {detail}");

    public static InvalidInputException Missing(string field, string target) =>
        new("identity.missing_field", $"Expecting to find {field} in {target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.");

    public static ForbiddenException Forbidden(string code, string message) => new($"identity.{code}", message);

    public static UnauthorizedException Unauthorized(string code = "identity.unauthorized") =>
        new(code, "The request you have made requires authentication.");
}

using Nimbus.Platform.Errors;

namespace Nimbus.Platform.Data;

/// <summary>
/// A write broke a unique or primary-key constraint. Services catch it to say which name is taken;
/// left uncaught it is a 409.
/// </summary>
public sealed class DuplicateKeyException(string constraint, Exception innerException)
    : NimbusException(ErrorKind.Conflict, "data.duplicate", $"a record with the same key already exists ({constraint}).", innerException)
{
    /// <summary>The index or constraint the engine named, for diagnostics.</summary>
    public string Constraint { get; } = constraint;
}

/// <summary>The database cannot be used: unreachable, or its schema is not one this release knows.</summary>
public sealed class DataUnavailableException(string code, string message, Exception? innerException = null)
    : NimbusException(ErrorKind.Unavailable, code, message, innerException);

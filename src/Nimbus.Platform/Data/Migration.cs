using System.Security.Cryptography;
using System.Text;

namespace Nimbus.Platform.Data;

/// <summary>
/// One step of a service's schema. Versions start at 1 and increase by one; a migration that has
/// landed is never edited (its checksum is recorded, and a changed one refuses to start).
/// The SQL must run unchanged on SQLite and PostgreSQL: TEXT, BIGINT, BOOLEAN, DOUBLE PRECISION,
/// no autoincrement, timestamps as BIGINT milliseconds since the epoch, JSON as TEXT.
/// </summary>
public sealed record Migration(int Version, string Name, string Sql)
{
    /// <summary>SHA-256 of the SQL; computed from it each time so that a copy made with <c>with</c> has its own.</summary>
    public string Checksum => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
}

using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Nimbus.Platform.Configuration;

namespace Nimbus.Platform.Data;

/// <summary>Which engine holds the services' state.</summary>
public enum DataProvider
{
    /// <summary>One embedded SQLite file per service under <c>$NIMBUS_HOME/data</c>: the all-in-one default.</summary>
    Sqlite,

    /// <summary>A PostgreSQL database shared by every node, one schema per service.</summary>
    Postgres,
}

/// <summary>Where services keep their state. Section <c>Data</c>; see docs/configuration.md.</summary>
[OptionsSection("Data")]
public sealed class DataOptions : IValidatableObject
{
    [Description("The engine that holds services' state: sqlite (embedded, the default) or postgres.")]
    public DataProvider Provider { get; set; } = DataProvider.Sqlite;

    [Description("PostgreSQL connection string (Host=…;Port=…;Username=…;Password=…;Database=…); required with Provider postgres.")]
    public string ConnectionString { get; set; } = string.Empty;

    [Description("Seconds a SQLite write waits for another writer before giving up.")]
    [Range(1, 600, ErrorMessage = "must be from 1 to 600 seconds.")]
    public int BusyTimeoutSeconds { get; set; } = 30;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider == DataProvider.Postgres && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult(
                "is required when Data:Provider is postgres; set it to a PostgreSQL connection string such as 'Host=db1;Username=nimbus;Password=…;Database=nimbus'.",
                [nameof(ConnectionString)]);
        }

        if (Provider == DataProvider.Sqlite && !string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult(
                "is only used with Data:Provider postgres (SQLite files live under $NIMBUS_HOME/data); set Data:Provider to postgres or remove the connection string.",
                [nameof(ConnectionString)]);
        }
    }
}

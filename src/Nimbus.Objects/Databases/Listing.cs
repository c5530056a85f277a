using Nimbus.Objects.Common;

namespace Nimbus.Objects.Databases;

/// <summary>
/// A container or account listing request, with Swift's query parameters (api-ref: "Show container
/// details and list objects"). Names compare as UTF-8 bytes, as Swift's do.
/// </summary>
/// <param name="Limit">At most this many entries (Swift's cap is 10,000).</param>
/// <param name="Marker">Only names after this one (before it when <paramref name="Reverse"/>).</param>
/// <param name="EndMarker">Only names before this one (after it when <paramref name="Reverse"/>).</param>
/// <param name="Prefix">Only names that start with this.</param>
/// <param name="Delimiter">
/// Names that contain the delimiter after the prefix roll up into one pseudo-directory entry
/// (prefix + text up to and including the delimiter), listed once in name order.
/// </param>
/// <param name="Reverse">Descending name order.</param>
/// <param name="Path">
/// Swift's <c>path</c>: the objects directly under a pseudo-directory, as prefix "path/" with
/// delimiter '/', but without pseudo-directory entries. Overrides prefix and delimiter.
/// </param>
public sealed record ListingQuery(
    int Limit = ListingQuery.MaxLimit,
    string? Marker = null,
    string? EndMarker = null,
    string? Prefix = null,
    char? Delimiter = null,
    bool Reverse = false,
    string? Path = null)
{
    public const int MaxLimit = 10_000;
}

/// <summary>One entry of a listing: an object, a container, or a pseudo-directory.</summary>
public abstract record ListingEntry(string Name);

/// <summary>A pseudo-directory ("subdir" in JSON listings).</summary>
public sealed record SubdirEntry(string Name) : ListingEntry(Name);

public sealed record ObjectListingEntry(string Name, long Bytes, string ContentType, string ETag, SwiftTimestamp LastModified)
    : ListingEntry(Name);

public sealed record ContainerListingEntry(string Name, long ObjectCount, long BytesUsed, SwiftTimestamp LastModified)
    : ListingEntry(Name);

/// <summary>
/// One object row of a container database, live or deleted; the row with the newest
/// <paramref name="CreatedAt"/> for a name wins when rows merge (updates, replication).
/// </summary>
public sealed record ObjectRecord(string Name, SwiftTimestamp CreatedAt, long Size, string ContentType, string ETag, bool Deleted)
{
    /// <summary>The row's position in its database, for replication ("rows since"); 0 before it is stored.</summary>
    public long RowId { get; init; }
}

/// <summary>
/// One container row of an account database, as container servers report it; the newest report
/// (by put or delete timestamp) wins.
/// </summary>
public sealed record ContainerRecord(string Name, SwiftTimestamp PutTimestamp, SwiftTimestamp DeleteTimestamp, long ObjectCount, long BytesUsed)
{
    /// <summary>Deleted when the delete timestamp is newer than the put timestamp.</summary>
    public bool Deleted => DeleteTimestamp > PutTimestamp;

    public long RowId { get; init; }
}

/// <summary>A metadata value with the time it was set; an empty value records a removal.</summary>
public sealed record MetadataValue(string Value, SwiftTimestamp Timestamp);

public sealed record ContainerInfo(
    string Account,
    string Container,
    SwiftTimestamp CreatedAt,
    SwiftTimestamp PutTimestamp,
    SwiftTimestamp DeleteTimestamp,
    long ObjectCount,
    long BytesUsed,
    IReadOnlyDictionary<string, MetadataValue> Metadata,
    SwiftTimestamp ReportedPutTimestamp,
    SwiftTimestamp ReportedDeleteTimestamp,
    long ReportedObjectCount,
    long ReportedBytesUsed)
{
    /// <summary>Deleted when the delete timestamp is newer than the put timestamp and no object is left.</summary>
    public bool IsDeleted => DeleteTimestamp > PutTimestamp && ObjectCount == 0;

    /// <summary>True when the account has not yet heard this container's current stats.</summary>
    public bool NeedsReport =>
        ReportedPutTimestamp != PutTimestamp || ReportedDeleteTimestamp != DeleteTimestamp
        || ReportedObjectCount != ObjectCount || ReportedBytesUsed != BytesUsed;

    /// <summary>The database's identity, for replication sync points (Swift's <c>id</c>).</summary>
    public string DatabaseId { get; init; } = string.Empty;

    /// <summary>The highest row id ever stored: the replicator's "rows since" position.</summary>
    public long MaxRowId { get; init; }
}

public sealed record AccountInfo(
    string Account,
    SwiftTimestamp CreatedAt,
    SwiftTimestamp PutTimestamp,
    SwiftTimestamp DeleteTimestamp,
    long ContainerCount,
    long ObjectCount,
    long BytesUsed,
    IReadOnlyDictionary<string, MetadataValue> Metadata)
{
    public bool IsDeleted => DeleteTimestamp > PutTimestamp;

    /// <summary>The database's identity, for replication sync points (Swift's <c>id</c>).</summary>
    public string DatabaseId { get; init; } = string.Empty;

    /// <summary>The highest row id ever stored: the replicator's "rows since" position.</summary>
    public long MaxRowId { get; init; }
}

using Dapper;
using Nimbus.Images.Service;

namespace Nimbus.Images.Data;

/// <summary>
/// One page of GET /v2/images as one SQL statement: who may see what and every filter in the WHERE
/// clause, the sort keys (id last, breaking ties) in ORDER BY, and "after the marker" as a keyset
/// condition on those keys; so the database reads a page (and one row more, to tell whether another
/// follows) whatever the catalogue's size. The order is <see cref="ImageListQuery.Compare"/>'s on
/// both engines: text by byte (<c>COLLATE BINARY</c>), nulls before every value.
/// </summary>
internal sealed class ImageListing
{
    private readonly DynamicParameters _args = new();
    private readonly List<string> _where = [];
    private int _parameters;

    private ImageListing()
    {
    }

    /// <summary>The SQL and its arguments for <paramref name="limit"/> rows of the listing after <paramref name="marker"/>.</summary>
    public static (string Sql, DynamicParameters Args) Build(ImageListQuery query, string? project, bool admin, Image? marker, int limit, string columns)
    {
        ArgumentNullException.ThrowIfNull(query);
        var listing = new ImageListing();
        listing.Visibility(query, project, admin);
        listing.Filters(query);
        var keys = query.Sort.Append(new SortKey("id", query.Sort.LastOrDefault()?.Descending ?? true)).ToList();
        if (marker is not null)
        {
            listing.After(keys, marker);
        }

        var order = string.Join(", ", keys.Select(k =>
        {
            var column = Column.Of(k.Key);
            var nulls = column.Nullable ? (k.Descending ? " NULLS LAST" : " NULLS FIRST") : string.Empty;
            return $"{column.Sortable} {(k.Descending ? "DESC" : "ASC")}{nulls}";
        }));
        var from = admin ? "FROM images i" : "FROM images i LEFT JOIN image_members m ON m.image_id = i.id AND m.member = @project";
        var where = listing._where.Count == 0 ? string.Empty : "WHERE " + string.Join(" AND ", listing._where);
        if (!admin)
        {
            listing._args.Add("project", project);
        }

        listing._args.Add("limit", limit);
        return ($"SELECT {columns} {from} {where} ORDER BY {order} LIMIT @limit", listing._args);
    }

    /// <summary>ImageService.Listed in SQL: Glance's default set, or the visibility asked for.</summary>
    private void Visibility(ImageListQuery query, string? project, bool admin)
    {
        if (query.Visibility is { } wanted && wanted != "all")
        {
            _where.Add($"i.visibility = {Add(wanted)}");
        }

        if (admin)
        {
            return;
        }

        var owns = project is null ? "1 = 0" : "i.owner = @project";
        var member = project is null ? "1 = 0"
            : query.MemberStatus == "all" ? "m.status IS NOT NULL"
            : $"m.status = {Add(query.MemberStatus)}";

        // Others' community images show only when asked for, so they do not crowd every listing.
        var community = query.Visibility is ImageVisibility.Community or "all" ? "1 = 1" : owns;

        // One CASE rather than ORs: an OR of visibilities tempts SQLite into reading them through
        // the visibility and owner indexes and sorting every visible image, where walking the
        // listing's own index in order stops after one page.
        _where.Add(
            $"(CASE WHEN i.visibility = '{ImageVisibility.Public}' THEN 1"
            + $" WHEN i.visibility = '{ImageVisibility.Community}' AND ({community}) THEN 1"
            + $" WHEN i.visibility = '{ImageVisibility.Shared}' AND ({owns} OR {member}) THEN 1"
            + $" WHEN i.visibility NOT IN ('{ImageVisibility.Public}', '{ImageVisibility.Community}', '{ImageVisibility.Shared}') AND {owns} THEN 1"
            + " ELSE 0 END) = 1");
    }

    /// <summary>ImageListQuery.Matches in SQL.</summary>
    private void Filters(ImageListQuery query)
    {
        foreach (var (key, values) in query.Exact)
        {
            // A missing value matches the empty string, as it does in ImageListQuery.Matches.
            var column = Column.Of(key);
            _where.Add($"{(column.Nullable ? $"COALESCE({column.Name}, '')" : column.Name)} IN {Add(values.ToArray())}");
        }

        foreach (var (key, op, value) in query.Comparisons)
        {
            _where.Add(Comparison(Column.Of(key), op, value));
        }

        foreach (var tag in query.Tags)
        {
            _where.Add($"EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag = {Add(tag)})");
        }

        if (query.Protected is { } isProtected)
        {
            _where.Add($"i.protected = {Add(isProtected)}");
        }

        _where.Add($"i.os_hidden = {Add(query.OsHidden ?? false)}");
        foreach (var (name, value) in query.Properties)
        {
            _where.Add($"EXISTS (SELECT 1 FROM image_properties p WHERE p.image_id = i.id AND p.name = {Add(name)} AND p.value = {Add(value)})");
        }
    }

    private string Comparison(Column column, string op, IComparable value)
    {
        var sql = op switch
        {
            "eq" => "=",
            "neq" => "<>",
            "gt" => ">",
            "gte" => ">=",
            "lt" => "<",
            _ => "<=",
        };
        if (value is not DateTimeOffset at)
        {
            return $"{column.Name} {sql} {Add(value)}";
        }

        // Times are stored to the millisecond; a bound between two milliseconds compares as
        // ImageListQuery.Matches compares it with the stored (whole) millisecond.
        var floor = at.ToUnixTimeMilliseconds();
        if (at.UtcTicks % TimeSpan.TicksPerMillisecond == 0)
        {
            return $"{column.Name} {sql} {Add(floor)}";
        }

        return op switch
        {
            "eq" => "1 = 0",
            "neq" => $"{column.Name} IS NOT NULL",
            "gt" or "gte" => $"{column.Name} > {Add(floor)}",
            _ => $"{column.Name} <= {Add(floor)}",
        };
    }

    /// <summary>
    /// Rows after the marker in the sort order: for some key, every earlier key equal and this one
    /// after. The first key's bound is repeated on its own so that an index on it starts there.
    /// </summary>
    private void After(List<SortKey> keys, Image marker)
    {
        var alternatives = new List<string>();
        var equal = new List<string>();
        foreach (var key in keys)
        {
            var column = Column.Of(key.Key);
            var value = column.Value(marker);
            var parameter = value is null ? null : Add(value);
            string after;
            if (parameter is null)
            {
                // Nulls come first: after a null ascending is any value; descending, nothing.
                after = key.Descending ? "1 = 0" : $"{column.Name} IS NOT NULL";
            }
            else
            {
                after = key.Descending
                    ? (column.Nullable ? $"({column.Sortable} < {parameter} OR {column.Name} IS NULL)" : $"{column.Sortable} < {parameter}")
                    : $"{column.Sortable} > {parameter}";
            }

            alternatives.Add(equal.Count == 0 ? after : $"({string.Join(" AND ", equal)} AND {after})");
            equal.Add(parameter is null ? $"{column.Name} IS NULL" : $"{column.Name} = {parameter}");
        }

        var first = Column.Of(keys[0].Key);
        var firstValue = first.Value(marker);
        if (firstValue is not null)
        {
            var bound = Add(firstValue);
            _where.Add(keys[0].Descending
                ? (first.Nullable ? $"({first.Sortable} <= {bound} OR {first.Name} IS NULL)" : $"{first.Sortable} <= {bound}")
                : $"{first.Sortable} >= {bound}");
        }

        _where.Add("(" + string.Join(" OR ", alternatives) + ")");
    }

    private string Add(object value)
    {
        var name = "p" + _parameters++.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _args.Add(name, value);
        return "@" + name;
    }

    /// <summary>A sortable attribute's column: its name, whether it may be null, and how it orders.</summary>
    private sealed record Column(string Name, bool Nullable, bool Text, Func<Image, object?> Value)
    {
        public string Sortable => Text ? Name + " COLLATE BINARY" : Name;

        public static Column Of(string key) => key switch
        {
            "name" => new("i.name", true, true, i => i.Name),
            "status" => new("i.status", false, true, i => i.Status),
            "container_format" => new("i.container_format", true, true, i => i.ContainerFormat),
            "disk_format" => new("i.disk_format", true, true, i => i.DiskFormat),
            "size" => new("i.size", true, false, i => i.Size),
            "virtual_size" => new("i.virtual_size", true, false, i => i.VirtualSize),
            "id" => new("i.id", false, true, i => i.Id),
            "created_at" => new("i.created_at", false, false, i => i.CreatedAt.ToUnixTimeMilliseconds()),
            "updated_at" => new("i.updated_at", false, false, i => i.UpdatedAt.ToUnixTimeMilliseconds()),
            "min_disk" => new("i.min_disk", false, false, i => i.MinDisk),
            "min_ram" => new("i.min_ram", false, false, i => i.MinRam),
            "owner" => new("i.owner", true, true, i => i.Owner),
            "visibility" => new("i.visibility", false, true, i => i.Visibility),
            "protected" => new("i.protected", false, false, i => i.Protected),
            "os_hidden" => new("i.os_hidden", false, false, i => i.OsHidden),
            _ => throw new ArgumentOutOfRangeException(nameof(key), key, "not a sortable or filterable image attribute"),
        };
    }
}

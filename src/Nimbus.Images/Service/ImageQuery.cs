using System.Collections.Immutable;
using System.Globalization;
using Nimbus.Platform.Errors;

namespace Nimbus.Images.Service;

/// <summary>One sort key of a listing.</summary>
internal sealed record SortKey(string Key, bool Descending);

/// <summary>
/// GET /v2/images parameters as a typed query (api-ref "List images"): filters, sort keys,
/// limit and marker. Parsing refuses what Glance refuses, with its messages. <see cref="Shows"/>,
/// <see cref="Matches"/> and <see cref="Compare"/> state the listing's rules on one image; the
/// database applies the same rules in SQL (Data/ImageListing), and tests hold the two equal.
/// </summary>
internal sealed record ImageListQuery
{
    public const int DefaultLimit = 25;
    public const int MaxLimit = 1000;

    /// <summary>The keys Glance sorts by (its image schema's sortable attributes).</summary>
    public static readonly ImmutableArray<string> SortKeys =
        ["name", "status", "container_format", "disk_format", "size", "virtual_size", "id", "created_at", "updated_at", "min_disk", "min_ram", "owner", "visibility", "protected", "os_hidden"];

    private static readonly ImmutableHashSet<string> Operators = ImmutableHashSet.Create(StringComparer.Ordinal, "eq", "neq", "gt", "gte", "lt", "lte");

    public int Limit { get; init; } = DefaultLimit;

    public string? Marker { get; init; }

    public ImmutableArray<SortKey> Sort { get; init; } = [new("created_at", true), new("id", true)];

    /// <summary>null: Glance's default set (public, own, accepted shared); otherwise one visibility or "all".</summary>
    public string? Visibility { get; init; }

    /// <summary>Which memberships count for shared images: accepted (default), pending, rejected or all.</summary>
    public string MemberStatus { get; init; } = Service.MemberStatus.Accepted;

    /// <summary>Exact or <c>in:</c> matches on name, id, status, formats, owner; value lists are alternatives.</summary>
    public ImmutableDictionary<string, ImmutableArray<string>> Exact { get; init; } = ImmutableDictionary<string, ImmutableArray<string>>.Empty;

    /// <summary>Comparisons on size, min_disk, min_ram, created_at, updated_at (<c>gte:</c>, <c>lt:</c>…).</summary>
    public ImmutableArray<(string Key, string Operator, IComparable Value)> Comparisons { get; init; } = [];

    public ImmutableArray<string> Tags { get; init; } = [];

    public bool? Protected { get; init; }

    /// <summary>null: hidden images are left out, as Glance does unless os_hidden is asked for.</summary>
    public bool? OsHidden { get; init; }

    public ImmutableDictionary<string, string> Properties { get; init; } = ImmutableDictionary<string, string>.Empty;

    public static ImageListQuery Parse(IEnumerable<KeyValuePair<string, string?>> parameters)
    {
        var query = new ImageListQuery();
        var sortKeys = new List<string>();
        var sortDirs = new List<string>();
        string? sort = null;
        var matches = ImmutableDictionary.CreateBuilder<string, ImmutableArray<string>>(StringComparer.Ordinal);
        var comparisons = ImmutableArray.CreateBuilder<(string, string, IComparable)>();
        var tags = ImmutableArray.CreateBuilder<string>();
        var properties = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var (key, raw) in parameters)
        {
            var value = raw ?? string.Empty;
            switch (key)
            {
                case "limit":
                    query = query with { Limit = ParseLimit(value) };
                    break;
                case "marker":
                    query = query with { Marker = value };
                    break;
                case "sort":
                    sort = value;
                    break;
                case "sort_key":
                    sortKeys.Add(value);
                    break;
                case "sort_dir":
                    sortDirs.Add(value);
                    break;
                case "visibility":
                    query = query with
                    {
                        Visibility = value == "all" || ImageVisibility.All.Contains(value)
                            ? value
                            : throw Bad($"Invalid visibility value: {value}"),
                    };
                    break;
                case "member_status":
                    query = query with
                    {
                        MemberStatus = value == "all" || Service.MemberStatus.All.Contains(value)
                            ? value
                            : throw Bad($"Invalid status value: {value}"),
                    };
                    break;
                case "protected":
                    query = query with { Protected = Boolean(key, value) };
                    break;
                case "os_hidden":
                    query = query with { OsHidden = Boolean(key, value) };
                    break;
                case "tag":
                    tags.Add(value);
                    break;
                case "size_min":
                    comparisons.Add(("size", "gte", Integer(key, value)));
                    break;
                case "size_max":
                    comparisons.Add(("size", "lte", Integer(key, value)));
                    break;
                case "name" or "id" or "status" or "disk_format" or "container_format" or "owner":
                    matches[key] = Alternatives(value);
                    break;
                case "size" or "min_disk" or "min_ram" or "virtual_size":
                    comparisons.Add(Comparison(key, value, v => Integer(key, v)));
                    break;
                case "created_at" or "updated_at":
                    comparisons.Add(Comparison(key, value, v => Timestamp(key, v)));
                    break;
                default:
                    // Anything else filters on a free-form property, as Glance does.
                    properties[key] = value;
                    break;
            }
        }

        return query with
        {
            Sort = SortOrder(sort, sortKeys, sortDirs),
            Exact = matches.ToImmutable(),
            Comparisons = comparisons.ToImmutable(),
            Tags = tags.ToImmutable(),
            Properties = properties.ToImmutable(),
        };
    }

    /// <summary>
    /// Whether the image belongs in the listing of <paramref name="project"/> (of an administrator:
    /// <paramref name="admin"/>) for the query's visibility and member_status, given that project's
    /// membership of it (<paramref name="memberStatus"/>).
    /// </summary>
    public bool Shows(Image image, string? project, bool admin, string? memberStatus)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (Visibility is { } wanted && wanted != "all" && image.Visibility != wanted)
        {
            return false;
        }

        if (admin)
        {
            return true;
        }

        var owns = project is not null && string.Equals(image.Owner, project, StringComparison.Ordinal);
        var memberMatches = memberStatus is not null && (MemberStatus == "all" || memberStatus == MemberStatus);
        return image.Visibility switch
        {
            ImageVisibility.Public => true,
            // Others' community images show only when asked for, so they do not crowd every listing.
            ImageVisibility.Community => owns || Visibility is ImageVisibility.Community or "all",
            ImageVisibility.Shared => owns || memberMatches,
            _ => owns,
        };
    }

    /// <summary>Whether <paramref name="image"/> passes every filter except visibility (<see cref="Shows"/>).</summary>
    public bool Matches(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        foreach (var (key, values) in Exact)
        {
            if (!values.Contains(Text(image, key) ?? string.Empty))
            {
                return false;
            }
        }

        foreach (var (key, op, value) in Comparisons)
        {
            var actual = Value(image, key);
            if (actual is null)
            {
                return false;
            }

            var order = actual.CompareTo(value);
            var pass = op switch
            {
                "eq" => order == 0,
                "neq" => order != 0,
                "gt" => order > 0,
                "gte" => order >= 0,
                "lt" => order < 0,
                _ => order <= 0,
            };
            if (!pass)
            {
                return false;
            }
        }

        return Tags.All(image.Tags.Contains)
            && (Protected is null || image.Protected == Protected)
            && image.OsHidden == (OsHidden ?? false)
            && Properties.All(p => image.Properties.TryGetValue(p.Key, out var v) && v == p.Value);
    }

    /// <summary>Orders images by the sort keys; id breaks ties so pages never overlap.</summary>
    public int Compare(Image left, Image right)
    {
        foreach (var key in Sort.Append(new SortKey("id", Sort.LastOrDefault()?.Descending ?? true)))
        {
            var order = CompareValues(Value(left, key.Key), Value(right, key.Key));
            if (order != 0)
            {
                return key.Descending ? -order : order;
            }
        }

        return 0;
    }

    private static int CompareValues(IComparable? left, IComparable? right) =>
        (left, right) switch
        {
            (null, null) => 0,
            (null, _) => -1,
            (_, null) => 1,
            (string l, string r) => string.CompareOrdinal(l, r),
            _ => left.CompareTo(right),
        };

    private static IComparable? Value(Image image, string key) => key switch
    {
        "size" => image.Size,
        "virtual_size" => image.VirtualSize,
        "min_disk" => image.MinDisk,
        "min_ram" => image.MinRam,
        "created_at" => image.CreatedAt,
        "updated_at" => image.UpdatedAt,
        "protected" => image.Protected,
        "os_hidden" => image.OsHidden,
        _ => Text(image, key),
    };

    private static string? Text(Image image, string key) => key switch
    {
        "name" => image.Name,
        "id" => image.Id,
        "status" => image.Status,
        "disk_format" => image.DiskFormat,
        "container_format" => image.ContainerFormat,
        "owner" => image.Owner,
        "visibility" => image.Visibility,
        _ => null,
    };

    private static ImmutableArray<SortKey> SortOrder(string? sort, List<string> keys, List<string> dirs)
    {
        if (sort is not null)
        {
            if (keys.Count > 0 || dirs.Count > 0)
            {
                throw Bad("The parameters 'sort_key' and 'sort_dir' cannot be used together with 'sort'.");
            }

            return [.. sort.Split(',').Select(part =>
            {
                var pieces = part.Trim().Split(':');
                return pieces.Length switch
                {
                    1 => new SortKey(Key(pieces[0]), true),
                    2 => new SortKey(Key(pieces[0]), Direction(pieces[1])),
                    _ => throw Bad($"Invalid sort value: {part}"),
                };
            })];
        }

        if (keys.Count == 0)
        {
            return dirs.Count switch
            {
                0 => [new SortKey("created_at", true), new SortKey("id", true)],
                1 => [new SortKey("created_at", Direction(dirs[0])), new SortKey("id", Direction(dirs[0]))],
                _ => throw Bad("The number of sort_dir values must be one, or match the number of sort_key values."),
            };
        }

        if (dirs.Count > 1 && dirs.Count != keys.Count)
        {
            throw Bad("The number of sort_dir values must be one, or match the number of sort_key values.");
        }

        // Glance applies a lone sort_dir to every key.
        return [.. keys.Select((k, i) => new SortKey(Key(k), dirs.Count == 0 || Direction(dirs[dirs.Count == 1 ? 0 : i])))];
    }

    private static string Key(string key) =>
        SortKeys.Contains(key)
            ? key
            : throw Bad($"Invalid sort key: {key}. It must be one of the following: {string.Join(", ", SortKeys)}.");

    private static bool Direction(string dir) => dir switch
    {
        "desc" => true,
        "asc" => false,
        _ => throw Bad($"Invalid sort direction: {dir}"),
    };

    private static int ParseLimit(string value)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit))
        {
            throw Bad(value.StartsWith('-') ? "limit param must be positive" : "limit param must be an integer");
        }

        // Glance caps rather than refuses a limit above api_limit_max.
        return Math.Min(limit, MaxLimit);
    }

    private static ImmutableArray<string> Alternatives(string value)
    {
        if (value.StartsWith("in:", StringComparison.Ordinal))
        {
            return [.. value[3..].Split(',').Select(v => v.Trim('"'))];
        }

        return [value.StartsWith("eq:", StringComparison.Ordinal) ? value[3..] : value];
    }

    private static (string, string, IComparable) Comparison(string key, string value, Func<string, IComparable> parse)
    {
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && Operators.Contains(value[..colon]))
        {
            return (key, value[..colon], parse(value[(colon + 1)..]));
        }

        return (key, "eq", parse(value));
    }

    private static long Integer(string key, string value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw Bad($"Invalid value for {key}: '{value}' is not an integer.");

    private static DateTimeOffset Timestamp(string key, string value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw Bad($"Invalid value for {key}: '{value}' is not an ISO 8601 time.");

    private static bool Boolean(string key, string value) => value.ToLowerInvariant() switch
    {
        "true" => true,
        "false" => false,
        _ => throw Bad($"Invalid value '{value}' for parameter '{key}': must be true or false."),
    };

    private static InvalidInputException Bad(string message) => new("images.bad_query", message);
}

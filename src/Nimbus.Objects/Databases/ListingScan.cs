namespace Nimbus.Objects.Databases;

/// <summary>
/// One indexed range read of live rows: names between <see cref="Lower"/> and <see cref="Upper"/>
/// (each inclusive or not), in name order (descending when <see cref="Descending"/>), at most <see cref="Limit"/>.
/// </summary>
internal readonly record struct NameRange(string? Lower, bool LowerInclusive, string? Upper, bool UpperInclusive, bool Descending, int Limit);

/// <summary>
/// Swift's listing walk (ContainerBroker.list_objects_iter, AccountBroker.list_containers_iter), shared
/// by both databases: range queries on the name index that jump past a whole pseudo-directory as soon
/// as one name under it is seen, so a page costs about limit rows however many names roll up.
/// </summary>
internal static class ListingScan
{
    /// <param name="query">The request, validated here.</param>
    /// <param name="allowPath">Accounts have no <c>path</c> parameter.</param>
    /// <param name="read">Reads one range lazily; the walk stops reading as soon as it jumps.</param>
    /// <param name="cancellationToken">Stops the walk.</param>
    public static async Task<ListingResult> RunAsync(
        ListingQuery query,
        bool allowPath,
        Func<NameRange, CancellationToken, IAsyncEnumerable<ListingEntry>> read,
        CancellationToken cancellationToken)
    {
        Validate(query, allowPath);
        var limit = query.Limit;
        var reverse = query.Reverse;
        var marker = string.IsNullOrEmpty(query.Marker) ? null : query.Marker;
        var endMarker = string.IsNullOrEmpty(query.EndMarker) ? null : query.EndMarker;
        if (reverse)
        {
            (marker, endMarker) = (endMarker, marker);
        }

        var prefix = string.IsNullOrEmpty(query.Prefix) ? null : query.Prefix;
        var delimiter = query.Delimiter;
        string? path = null;
        if (query.Path is not null)
        {
            prefix = path = query.Path.Length == 0 ? string.Empty : query.Path.TrimEnd('/') + "/";
            delimiter = '/';
        }
        else if (delimiter is not null)
        {
            prefix ??= string.Empty;
        }

        var endPrefix = string.IsNullOrEmpty(prefix) ? null : NameOrder.After(prefix);
        var originalMarker = marker;
        var forceInclusive = false;
        var forceUpperInclusive = false;
        var results = new List<ListingEntry>();
        var rowsRead = 0;
        while (results.Count < limit)
        {
            string? upper = null;
            var upperInclusive = false;
            if (endMarker is not null && (string.IsNullOrEmpty(prefix) || endPrefix is null || NameOrder.Compare(endMarker, endPrefix) < 0))
            {
                (upper, upperInclusive, forceUpperInclusive) = (endMarker, forceUpperInclusive, false);
            }
            else if (!string.IsNullOrEmpty(prefix))
            {
                upper = endPrefix;
            }

            string? lower = null;
            var lowerInclusive = false;
            if (forceInclusive)
            {
                // The marker is the first name after a pseudo-directory, which may itself exist.
                (lower, lowerInclusive, forceInclusive) = (marker, true, false);
            }
            else if (marker is not null && (string.IsNullOrEmpty(prefix) || NameOrder.Compare(marker, prefix) >= 0))
            {
                lower = marker;
            }
            else if (!string.IsNullOrEmpty(prefix))
            {
                (lower, lowerInclusive) = (prefix, true);
            }

            var range = new NameRange(lower, lowerInclusive, upper, upperInclusive, reverse, limit - results.Count);
            if (delimiter is null)
            {
                await foreach (var entry in read(range, cancellationToken))
                {
                    rowsRead++;
                    results.Add(entry);
                }

                break;
            }

            var rowCount = 0;
            await foreach (var entry in read(range, cancellationToken))
            {
                rowCount++;
                var name = entry.Name;
                if (reverse)
                {
                    endMarker = name;
                }
                else
                {
                    marker = name;
                }

                var end = name.IndexOf(delimiter.Value, prefix!.Length);
                if (path is not null)
                {
                    if (name == path)
                    {
                        continue;
                    }

                    if (end >= 0 && name.Length > end + 1)
                    {
                        // A name deeper than one level under path: skip its whole pseudo-directory, but not
                        // the names on either side of it, which Swift's walk drops: "a/b0" forward (the
                        // jump target itself) and the marker object "a/b/" in reverse.
                        Jump(name, end, reverse, ref marker, ref endMarker, ref forceInclusive);
                        forceUpperInclusive = reverse;
                        break;
                    }
                }
                else if (end >= 0)
                {
                    Jump(name, end, reverse, ref marker, ref endMarker, ref forceInclusive);
                    var directory = name[..(end + 1)];
                    if (directory != originalMarker)
                    {
                        results.Add(new SubdirEntry(directory));
                    }

                    break;
                }

                results.Add(entry);
            }

            rowsRead += rowCount;
            if (rowCount == 0)
            {
                break;
            }
        }

        return new ListingResult(results, rowsRead);
    }

    private static void Jump(string name, int end, bool reverse, ref string? marker, ref string? endMarker, ref bool forceInclusive)
    {
        var directory = name[..(end + 1)];
        if (reverse)
        {
            endMarker = directory;
            return;
        }

        // The delimiter is at most U+FFFF, so a name after the pseudo-directory always exists.
        (marker, forceInclusive) = (NameOrder.After(directory)!, true);
    }

    private static void Validate(ListingQuery query, bool allowPath)
    {
        if (query.Limit is < 1 or > ListingQuery.MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, $"A listing limit must be 1 to {ListingQuery.MaxLimit}.");
        }

        if (query.Path is not null && !allowPath)
        {
            throw new ArgumentException("Account listings have no path parameter.", nameof(query));
        }

        if (query.Delimiter is { } delimiter && char.IsSurrogate(delimiter))
        {
            throw new ArgumentException("The delimiter must be one character of the Basic Multilingual Plane.", nameof(query));
        }

        foreach (var text in (ReadOnlySpan<string?>)[query.Marker, query.EndMarker, query.Prefix, query.Path])
        {
            if (text is not null && !NameOrder.IsValid(text))
            {
                throw new ArgumentException("Listing markers, prefix and path must be valid UTF-8.", nameof(query));
            }
        }
    }
}

/// <summary>A listing page and how many rows the walk read to build it.</summary>
internal sealed record ListingResult(IReadOnlyList<ListingEntry> Entries, int RowsRead);

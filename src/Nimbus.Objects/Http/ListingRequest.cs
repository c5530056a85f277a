using System.Globalization;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Common;
using Nimbus.Objects.Databases;

namespace Nimbus.Objects.Http;

/// <summary>Reads a listing's query parameters as Swift does, refusing what Swift refuses with 412/400.</summary>
public static class ListingRequest
{
    public static bool TryParse(HttpRequest request, int maxLimit, out ListingQuery query, out ListingFormat format, out (int Status, string Message) refusal)
    {
        query = new ListingQuery();
        format = ListingFormat.Plain;
        refusal = default;
        var parameters = request.Query;
        var limit = maxLimit;
        if (parameters.TryGetValue("limit", out var limitText) && limitText.ToString().Length > 0)
        {
            if (!int.TryParse(limitText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit))
            {
                refusal = (StatusCodes.Status412PreconditionFailed, "Value of limit must be a positive integer");
                return false;
            }

            if (limit > maxLimit)
            {
                refusal = (StatusCodes.Status412PreconditionFailed, $"Maximum limit is {maxLimit}");
                return false;
            }
        }

        char? delimiter = null;
        var delimiterText = parameters["delimiter"].ToString();
        if (delimiterText.Length > 0)
        {
            if (delimiterText.Length > 1 || delimiterText[0] > 254)
            {
                refusal = (StatusCodes.Status412PreconditionFailed, "Bad delimiter");
                return false;
            }

            delimiter = delimiterText[0];
        }

        foreach (var name in (string[])["marker", "end_marker", "prefix", "path", "delimiter"])
        {
            var value = parameters[name].ToString();
            if (value.Contains('\0', StringComparison.Ordinal))
            {
                refusal = (StatusCodes.Status400BadRequest, $"Invalid {name}: contains a NUL byte");
                return false;
            }
        }

        string? Text(string name) => parameters.TryGetValue(name, out var value) && value.ToString().Length > 0 ? value.ToString() : null;
        query = new ListingQuery(
            Limit: limit,
            Marker: Text("marker"),
            EndMarker: Text("end_marker"),
            Prefix: Text("prefix"),
            Delimiter: delimiter,
            Reverse: IsTrue(parameters["reverse"].ToString()),
            Path: parameters.ContainsKey("path") ? parameters["path"].ToString() : null);
        format = Format(request);
        return true;
    }

    /// <summary>Swift's format choice: <c>?format=json|xml|plain</c>, else the best of Accept, else plain.</summary>
    public static ListingFormat Format(HttpRequest request)
    {
        var explicitFormat = request.Query["format"].ToString().ToLowerInvariant();
        switch (explicitFormat)
        {
            case "json":
                return ListingFormat.Json;
            case "xml":
                return ListingFormat.Xml;
            case "plain":
                return ListingFormat.Plain;
        }

        var accept = request.Headers.Accept.ToString();
        if (accept.Contains("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return ListingFormat.Json;
        }

        if (accept.Contains("application/xml", StringComparison.OrdinalIgnoreCase) || accept.Contains("text/xml", StringComparison.OrdinalIgnoreCase))
        {
            return ListingFormat.Xml;
        }

        return ListingFormat.Plain;
    }

    public static string ContentType(ListingFormat format) => format switch
    {
        ListingFormat.Json => "application/json; charset=utf-8",
        ListingFormat.Xml => "application/xml; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };

    /// <summary>Swift's config_true_value.</summary>
    public static bool IsTrue(string value) => value.ToLowerInvariant() is "true" or "1" or "yes" or "on" or "t" or "y";

    /// <summary>A header's timestamp, or <paramref name="fallback"/> when absent or malformed.</summary>
    public static SwiftTimestamp TimestampOr(HttpRequest request, string name, SwiftTimestamp fallback) =>
        SwiftTimestamp.TryParse(request.Headers[name].ToString(), out var timestamp) ? timestamp : fallback;
}

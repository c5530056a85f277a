using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Nimbus.Platform.Errors;

namespace Nimbus.Platform.Http;

/// <summary>
/// The request path as the client sent it. Kestrel decodes the path and resolves "." and ".."
/// segments before the app sees it (RFC 3986 §5.2.4), so routing would act on a path other than
/// the one written: a caller's <c>/a/mine/../../b</c> becomes <c>/b</c>. Nimbus's OpenStack APIs
/// never name anything "." or ".." nor put a slash inside a name, so such paths are refused before
/// routing; object storage, whose names are literal, reads the raw path itself.
/// </summary>
public static class RawPath
{
    /// <summary>The raw request target without its query, still percent-encoded.</summary>
    public static string Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(rawTarget))
        {
            return context.Request.PathBase.Value + context.Request.Path.Value;
        }

        var query = rawTarget.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? rawTarget : rawTarget[..query];
    }

    /// <summary>
    /// Why routing on the decoded path could act elsewhere than <paramref name="rawPath"/> names:
    /// a dot segment (also as %2E), an encoded slash, or a target that is not an absolute path.
    /// Doubled slashes pass: routing keeps them, so they match no route. Null when the path is plain.
    /// </summary>
    public static string? Problem(string rawPath)
    {
        ArgumentNullException.ThrowIfNull(rawPath);
        if (rawPath == "*")
        {
            return null;
        }

        if (!rawPath.StartsWith('/'))
        {
            return "the request target must be a path starting with '/'";
        }

        foreach (var segment in rawPath[1..].Split('/'))
        {
            if (segment.Contains("%2F", StringComparison.OrdinalIgnoreCase))
            {
                return "the request path has an encoded slash (%2F) inside a segment";
            }

            var plain = segment.Replace("%2E", ".", StringComparison.OrdinalIgnoreCase);
            if (plain is "." or "..")
            {
                return $"the request path has a '{plain}' segment";
            }
        }

        return null;
    }

    /// <summary>Refuses a request whose raw path has a <see cref="Problem"/>, before anything routes on it.</summary>
    public static void EnsurePlain(HttpContext context)
    {
        if (Problem(Of(context)) is { } problem)
        {
            throw new InvalidInputException("http.path_not_plain", problem + "; send each name as it is, without '.' or '..' segments, and percent-encode no slashes.");
        }
    }
}

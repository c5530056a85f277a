using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>
/// What an object write adds, as the quota filters judge it: the container it lands in and its
/// size. Copies are done by the proxy here (Swift's copy filter sits before the quotas and turns
/// them into plain PUTs), so a copy's size is its source's, read with a pre-authorized HEAD.
/// </summary>
internal static class QuotaUpload
{
    /// <summary>The target container and length of an object PUT or COPY; null for any other request.</summary>
    public static async Task<(string Container, long Length)?> ResolveAsync(HttpContext context, SwiftContext swift, RequestDelegate downstream)
    {
        var request = context.Request;
        if (swift.Container is null || swift.ObjectName is null)
        {
            return null;
        }

        var accountPath = $"/{SwiftPath.Encode(swift.Version)}/{SwiftPath.Encode(swift.Account)}";
        if (HttpMethods.IsPut(request.Method))
        {
            var copyFrom = request.Headers["X-Copy-From"].ToString();
            if (copyFrom.Length == 0)
            {
                // A chunked upload's size is unknown: it is refused only once the quota is already used up.
                return (swift.Container, request.ContentLength ?? 0);
            }

            return (swift.Container, await LengthOfAsync(context, downstream, accountPath + "/" + copyFrom.TrimStart('/')));
        }

        if (request.Method == "COPY")
        {
            var destination = request.Headers["Destination"].ToString();
            if (!SwiftPath.TrySplit("/" + destination.TrimStart('/'), 2, 2, out var parts, out _) || parts[1] is null)
            {
                // The proxy refuses a malformed Destination with 412.
                return null;
            }

            var source = $"{accountPath}/{SwiftPath.Encode(swift.Container)}/{SwiftPath.Encode(swift.ObjectName, keepSlashes: true)}";
            return (parts[0]!, await LengthOfAsync(context, downstream, source));
        }

        return null;
    }

    /// <summary>
    /// HEADs an account, container or object for the quota filters, whoever the caller is, as Swift's
    /// get_account_info and get_container_info do: accounts and containers from the proxy's info cache
    /// unless <paramref name="fresh"/> stats are needed to enforce a quota that is set.
    /// </summary>
    public static async Task<(bool Found, IHeaderDictionary Headers)> HeadAsync(HttpContext context, RequestDelegate downstream, string rawPath, bool fresh = false)
    {
        if (!fresh && ProxyServer.ForRequest(context) is { } proxy && SwiftPath.TrySplit(rawPath, 2, 4, out var parts, out _) && parts[3] is null)
        {
            var (found, cached) = await proxy.GetInfoHeadersAsync(parts[1]!, parts[2], context.RequestAborted);
            var headers = new HeaderDictionary();
            foreach (var (name, value) in cached)
            {
                headers[name] = value;
            }

            return (found, headers);
        }

        await using var response = await SubRequest.SendPreAuthorizedAsync(context, downstream, HttpMethods.Head, rawPath);
        return (response.IsSuccess, response.Headers);
    }

    /// <summary>Python's int() on a header: optional sign and surrounding spaces; null when it is not a number.</summary>
    public static long? ParseInteger(string? value) =>
        long.TryParse(value?.Trim(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var number) ? number : null;

    /// <summary>str.isdigit for a quota: non-empty and ASCII digits only.</summary>
    public static bool IsDigits(string value) => value.Length > 0 && value.All(char.IsAsciiDigit);

    /// <summary>
    /// Refuses an upload over quota; a caller who could not have written there at all learns that
    /// instead (401/403), so the refusal does not reveal that the container exists.
    /// </summary>
    public static Task RefuseAsync(HttpContext context, SwiftContext swift, string? writeAcl, string message)
    {
        if ((swift.Authorize is not null || swift.Authorized) && swift.Check(context, new AccessControl(null, writeAcl)) is { } status)
        {
            return SwiftResponse.WriteAsync(context, status);
        }

        return SwiftResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, message);
    }

    private static async Task<long> LengthOfAsync(HttpContext context, RequestDelegate downstream, string rawPath)
    {
        var (found, headers) = await HeadAsync(context, downstream, rawPath);
        return found ? headers.ContentLength ?? 0 : 0;
    }
}

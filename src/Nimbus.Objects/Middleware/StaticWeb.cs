using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>
/// Swift's staticweb (swift/common/middleware/staticweb.py): serves a container as a web site to
/// anonymous readers, or to anyone who sends <c>X-Web-Mode: true</c>. The container's
/// X-Container-Meta-Web-Index names the page served for a directory, -Web-Error the suffix of
/// custom error pages (<c>404error.html</c>), -Web-Listings turns on generated HTML listings, styled
/// by -Web-Listings-CSS and titled by -Web-Listings-Label; objects of -Web-Directory-Type are
/// directory markers. Sits right after the auth filter, whose authorization it relies on.
/// </summary>
public sealed class StaticWeb : IProxyMiddleware
{
    private readonly ProxyServer _proxy;

    public StaticWeb(ProxyServer proxy, SwiftInfo info)
    {
        _proxy = proxy;
        info.Register("staticweb", new JsonObject());
    }

    public string Name => "staticweb";

    public Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        var swift = SwiftContext.Get(context);
        var method = context.Request.Method;
        if (swift?.Authorize is null || swift.Container is null
            || !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method))
            || (swift.Identity is not null && !WebMode(context)))
        {
            // Not a web request: no auth filter ran, an account, a write, or an authenticated API client.
            return downstream(context);
        }

        var site = new Site(_proxy, context, swift, downstream);
        return swift.ObjectName is null ? site.HandleContainerAsync() : site.HandleObjectAsync();
    }

    private static bool WebMode(HttpContext context) => ListingRequest.IsTrue(context.Request.Headers["X-Web-Mode"].ToString());

    /// <summary>One web request, with the container's web settings once read (Swift's _StaticWebContext).</summary>
    private sealed class Site(ProxyServer proxy, HttpContext context, SwiftContext swift, RequestDelegate downstream)
    {
        private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
        {
            "Host", "Content-Length", "Transfer-Encoding", "Connection", "User-Agent",
        };

        private readonly string _rawPath = SwiftPath.RawPath(context);
        private string _index = string.Empty;
        private string _error = string.Empty;
        private string _listings = string.Empty;
        private string _listingsLabel = string.Empty;
        private string _listingsCss = string.Empty;
        private string _directoryType = string.Empty;

        private bool EndsWithSlash => _rawPath.EndsWith('/');

        /// <summary>The decoded request path, as Swift's PATH_INFO.</summary>
        private string PathInfo => SwiftPath.TryDecode(_rawPath, out var path, out _) ? path : _rawPath;

        private string ContainerPath => $"/{swift.Version}/{SwiftPath.Encode(swift.Account)}/{SwiftPath.Encode(swift.Container!)}";

        public async Task HandleContainerAsync()
        {
            var info = await LoadContainerInfoAsync();
            if (swift.Check(context, new AccessControl(info.ReadAcl, null)) is { } refusal)
            {
                await ErrorAsync(refusal, null);
                return;
            }

            if (_listings.Length == 0 && _index.Length == 0)
            {
                if (WebMode(context))
                {
                    await SwiftResponse.WriteAsync(context, StatusCodes.Status404NotFound);
                    return;
                }

                await downstream(context);
                return;
            }

            if (!EndsWithSlash)
            {
                await RedirectWithSlashAsync();
                return;
            }

            if (_index.Length == 0)
            {
                await ListingAsync(string.Empty);
                return;
            }

            var page = await ForwardAsync(_rawPath + SwiftPath.Encode(_index, keepSlashes: true) + context.Request.QueryString.Value);
            if (page.Status == StatusCodes.Status404NotFound)
            {
                await page.DisposeAsync();
                await ListingAsync(string.Empty);
                return;
            }

            if (!IsSuccessOrRedirect(page.Status))
            {
                await ErrorAsync(page.Status, page);
                return;
            }

            await using (page)
            {
                await page.RelayAsync(context);
            }
        }

        public async Task HandleObjectAsync()
        {
            var response = await ForwardAsync(_rawPath + context.Request.QueryString.Value);
            var status = response.Status;
            await LoadContainerInfoAsync();
            if (IsSuccessOrRedirect(status))
            {
                // A directory marker (an empty object of the directory type) is treated as not found.
                var directoryType = _directoryType.Length == 0 ? "application/directory" : _directoryType;
                if (response.Headers.ContentType.ToString() == directoryType && (response.Headers.ContentLength ?? 0) <= 1)
                {
                    status = StatusCodes.Status404NotFound;
                }
                else
                {
                    await using (response)
                    {
                        await response.RelayAsync(context);
                    }

                    return;
                }
            }

            if (status != StatusCodes.Status404NotFound || (_listings.Length == 0 && _index.Length == 0))
            {
                // Custom error pages are only for not-found objects, as Swift's.
                await using (response)
                {
                    await response.RelayAsync(context);
                }

                return;
            }

            await response.DisposeAsync();
            if (_index.Length > 0)
            {
                var directory = EndsWithSlash ? _rawPath : _rawPath + "/";
                var page = await ForwardAsync(directory + SwiftPath.Encode(_index, keepSlashes: true) + context.Request.QueryString.Value);
                if (IsSuccessOrRedirect(page.Status))
                {
                    await using (page)
                    {
                        if (!EndsWithSlash)
                        {
                            await RedirectWithSlashAsync();
                            return;
                        }

                        await page.RelayAsync(context);
                    }

                    return;
                }

                if (page.Status != StatusCodes.Status404NotFound)
                {
                    await using (page)
                    {
                        await page.RelayAsync(context);
                    }

                    return;
                }

                await page.DisposeAsync();
            }

            if (!EndsWithSlash)
            {
                // A pseudo-directory named without its slash: redirect only if something is in it.
                await using var probe = await GetAsync(ContainerPath + "?limit=1&delimiter=/&format=json&prefix=" + Quote(swift.ObjectName + "/"));
                if (!probe.IsSuccess || ParseListing(await probe.ReadTextAsync(context.RequestAborted)).Count == 0)
                {
                    await ErrorAsync(StatusCodes.Status404NotFound, null);
                    return;
                }

                await RedirectWithSlashAsync();
                return;
            }

            await ListingAsync(swift.ObjectName!);
        }

        private async Task<ContainerInfo> LoadContainerInfoAsync()
        {
            var info = await proxy.GetContainerInfoAsync(swift.Account, swift.Container!, context.RequestAborted);
            if (info.Exists)
            {
                _index = info.Meta("Web-Index").Trim();
                _error = info.Meta("Web-Error").Trim();
                _listings = info.Meta("Web-Listings").Trim();
                _listingsLabel = info.Meta("Web-Listings-Label").Trim();
                _listingsCss = info.Meta("Web-Listings-Css").Trim();
                _directoryType = info.Meta("Web-Directory-Type").Trim();
            }

            return info;
        }

        /// <summary>
        /// Answers an error: with the container's page for it (<c>&lt;status&gt;&lt;web-error&gt;</c>) under the
        /// original status when there is one, else with <paramref name="upstream"/> or Swift's own body.
        /// </summary>
        private async Task ErrorAsync(int status, SubResponse? upstream, string? html = null)
        {
            await using (upstream)
            {
                if (_error.Length > 0)
                {
                    await using var page = await GetAsync(ContainerPath + "/" + SwiftPath.Encode(status.ToString(CultureInfo.InvariantCulture) + _error, keepSlashes: true));
                    if (page.IsSuccess)
                    {
                        await page.RelayAsync(context, status);
                        return;
                    }
                }

                if (upstream is not null)
                {
                    await upstream.RelayAsync(context);
                }
                else if (html is not null)
                {
                    await WriteHtmlAsync(status, html);
                }
                else
                {
                    await SwiftResponse.WriteAsync(context, status);
                }
            }
        }

        private async Task ListingAsync(string prefix)
        {
            var label = PathInfo;
            if (_listingsLabel.Length > 0)
            {
                label = _listingsLabel + "/" + string.Join('/', label.Split('/').Skip(4));
            }

            if (!ListingRequest.IsTrue(_listings))
            {
                await ErrorAsync(StatusCodes.Status404NotFound, null, DisabledPage(label, prefix));
                return;
            }

            var query = "?delimiter=/&format=json" + (prefix.Length > 0 ? "&prefix=" + Quote(prefix) : string.Empty);
            var listing = await GetAsync(ContainerPath + query);
            if (!listing.IsSuccess)
            {
                await ErrorAsync(listing.Status, listing);
                return;
            }

            List<JsonElement> items;
            await using (listing)
            {
                items = ParseListing(await listing.ReadTextAsync(context.RequestAborted));
            }

            if (prefix.Length > 0 && items.Count == 0)
            {
                await ErrorAsync(StatusCodes.Status404NotFound, null);
                return;
            }

            await WriteHtmlAsync(StatusCodes.Status200OK, ListingPage(label, prefix, items));
        }

        // The layout is Swift's, element for element, so style sheets written for Swift apply.
        private string ListingPage(string label, string prefix, List<JsonElement> items)
        {
            var body = new StringBuilder()
                .Append("<!DOCTYPE html>\n<html>\n <head>\n  <title>Listing of ").Append(Escape(label)).Append("</title>\n");
            if (_listingsCss.Length > 0)
            {
                body.Append("  <link rel=\"stylesheet\" type=\"text/css\" href=\"").Append(CssPath(prefix)).Append("\" />\n");
            }
            else
            {
                body.Append("  <style type=\"text/css\">\n")
                    .Append("   h1 {font-size: 1em; font-weight: bold;}\n")
                    .Append("   th {text-align: left; padding: 0px 1em 0px 1em;}\n")
                    .Append("   td {padding: 0px 1em 0px 1em;}\n")
                    .Append("   a {text-decoration: none;}\n")
                    .Append("  </style>\n");
            }

            body.Append(" </head>\n <body>\n  <h1 id=\"title\">Listing of ").Append(Escape(label)).Append("</h1>\n")
                .Append("  <table id=\"listing\">\n")
                .Append("   <tr id=\"heading\">\n")
                .Append("    <th class=\"colname\">Name</th>\n")
                .Append("    <th class=\"colsize\">Size</th>\n")
                .Append("    <th class=\"coldate\">Date</th>\n")
                .Append("   </tr>\n");
            if (prefix.Length > 0)
            {
                body.Append("   <tr id=\"parent\" class=\"item\">\n")
                    .Append("    <td class=\"colname\"><a href=\"../\">../</a></td>\n")
                    .Append("    <td class=\"colsize\">&nbsp;</td>\n")
                    .Append("    <td class=\"coldate\">&nbsp;</td>\n")
                    .Append("   </tr>\n");
            }

            foreach (var item in items)
            {
                if (item.TryGetProperty("subdir", out var subdirElement))
                {
                    var subdir = subdirElement.GetString()![prefix.Length..];
                    body.Append("   <tr class=\"item subdir\">\n")
                        .Append("    <td class=\"colname\"><a href=\"./").Append(Quote(subdir).Replace(".", "%2E", StringComparison.Ordinal)).Append("\">").Append(Escape(subdir)).Append("</a></td>\n")
                        .Append("    <td class=\"colsize\">&nbsp;</td>\n")
                        .Append("    <td class=\"coldate\">&nbsp;</td>\n")
                        .Append("   </tr>\n");
                }
            }

            foreach (var item in items)
            {
                if (item.TryGetProperty("name", out var nameElement))
                {
                    var name = nameElement.GetString()![prefix.Length..];
                    var types = string.Join(' ', (item.GetProperty("content_type").GetString() ?? string.Empty).Split('/').Select(t => "type-" + Escape(t.ToLowerInvariant())));
                    var lastModified = Escape(item.GetProperty("last_modified").GetString() ?? string.Empty).Split('.')[0].Replace('T', ' ');
                    body.Append("   <tr class=\"item ").Append(types).Append("\">\n")
                        .Append("    <td class=\"colname\"><a href=\"./").Append(Quote(name).Replace(".", "%2E", StringComparison.Ordinal)).Append("\">").Append(Escape(name)).Append("</a></td>\n")
                        .Append("    <td class=\"colsize\">").Append(HumanReadable(item.GetProperty("bytes").GetInt64())).Append("</td>\n")
                        .Append("    <td class=\"coldate\">").Append(lastModified).Append("</td>\n")
                        .Append("   </tr>\n");
                }
            }

            return body.Append("  </table>\n </body>\n</html>\n").ToString();
        }

        private string DisabledPage(string label, string prefix)
        {
            var body = new StringBuilder()
                .Append("<!DOCTYPE html>\n<html>\n<head>\n<title>Listing of ").Append(Escape(label)).Append("</title>\n");
            if (_listingsCss.Length > 0)
            {
                body.Append("  <link rel=\"stylesheet\" type=\"text/css\" href=\"").Append(CssPath(prefix)).Append("\" />\n");
            }
            else
            {
                body.Append("  <style type=\"text/css\">\n")
                    .Append("   h1 {font-size: 1em; font-weight: bold;}\n")
                    .Append("   p {font-size: 2}\n")
                    .Append("  </style>\n");
            }

            body.Append("</head>\n<body>")
                .Append("  <h1>Web Listing Disabled</h1>")
                .Append("   <p>The owner of this web site has disabled web listing.")
                .Append("   <p>If you are the owner of this web site, you can enable")
                .Append("   web listing by setting X-Container-Meta-Web-Listings.</p>");
            if (_index.Length > 0)
            {
                body.Append("<h1>Index File Not Found</h1>")
                    .Append(" <p>The owner of this web site has set ")
                    .Append(" <b>X-Container-Meta-Web-Index: ").Append(_index).Append("</b>. ")
                    .Append(" However, this file is not found.</p>");
            }

            return body.Append(" </body>\n</html>\n").ToString();
        }

        /// <summary>The style sheet relative to the listed directory, unless it is absolute.</summary>
        private string CssPath(string prefix) =>
            _listingsCss.StartsWith('/') || _listingsCss.StartsWith("http://", StringComparison.Ordinal) || _listingsCss.StartsWith("https://", StringComparison.Ordinal)
                ? Quote(_listingsCss, ":/")
                : string.Concat(Enumerable.Repeat("../", prefix.Count(c => c == '/'))) + Quote(_listingsCss);

        private async Task RedirectWithSlashAsync()
        {
            context.Response.Headers.Location = $"{context.Request.Scheme}://{context.Request.Host}{Quote(PathInfo + "/")}";
            await SwiftResponse.WriteAsync(context, StatusCodes.Status301MovedPermanently);
        }

        private async Task WriteHtmlAsync(int status, string html)
        {
            var bytes = Encoding.UTF8.GetBytes(html);
            var response = context.Response;
            response.StatusCode = status;
            response.ContentType = "text/html; charset=UTF-8";
            response.ContentLength = bytes.Length;
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await response.Body.WriteAsync(bytes, context.RequestAborted);
            }
        }

        /// <summary>The client's request again, to another path: same method and headers (Swift copies the environ).</summary>
        private Task<SubResponse> ForwardAsync(string rawTarget)
        {
            var headers = context.Request.Headers
                .Where(h => !NotForwarded.Contains(h.Key))
                .Select(h => new KeyValuePair<string, string>(h.Key, h.Value.ToString()))
                .Append(UserAgent());
            return SubRequest.SendAsync(context, downstream, context.Request.Method, rawTarget, headers);
        }

        /// <summary>A GET of the site's own making (Swift's make_env): only the headers that decide access travel with it.</summary>
        private Task<SubResponse> GetAsync(string rawTarget)
        {
            var headers = new List<KeyValuePair<string, string>> { UserAgent() };
            foreach (var name in (string[])["Referer", "Origin"])
            {
                if (context.Request.Headers[name].ToString() is { Length: > 0 } value)
                {
                    headers.Add(new(name, value));
                }
            }

            return SubRequest.SendAsync(context, downstream, HttpMethods.Get, rawTarget, headers);
        }

        private KeyValuePair<string, string> UserAgent()
        {
            var agent = context.Request.Headers.UserAgent.ToString();
            return new("User-Agent", (agent.Length > 0 ? agent : "None") + " StaticWeb");
        }
    }

    private static bool IsSuccessOrRedirect(int status) => status is >= 200 and < 400;

    private static List<JsonElement> ParseListing(string json)
    {
        if (json.Length == 0)
        {
            return [];
        }

        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    /// <summary>Python's html.escape: &amp;, &lt;, &gt; and both quotes.</summary>
    internal static string Escape(string text) => text
        .Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("\"", "&quot;", StringComparison.Ordinal)
        .Replace("'", "&#x27;", StringComparison.Ordinal);

    /// <summary>Python's urllib.parse.quote: UTF-8, percent-encoding all but letters, digits, "_.-~" and <paramref name="safe"/>.</summary>
    internal static string Quote(string text, string safe = "/")
    {
        var output = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '~' || (b < 0x80 && safe.Contains(c, StringComparison.Ordinal)))
            {
                output.Append(c);
            }
            else
            {
                output.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return output.ToString();
    }

    /// <summary>Swift's human_readable: 1023 → "1023", 1048576 → "1Mi", rounding half to even at each step.</summary>
    internal static string HumanReadable(long bytes)
    {
        const string Suffixes = "KMGTPEZY";
        double value = bytes;
        var index = -1;
        while (value >= 1024 && index + 1 < Suffixes.Length)
        {
            index++;
            value = Math.Round(value / 1024, MidpointRounding.ToEven);
        }

        return index < 0
            ? ((long)value).ToString(CultureInfo.InvariantCulture)
            : ((long)Math.Round(value, MidpointRounding.ToEven)).ToString(CultureInfo.InvariantCulture) + Suffixes[index] + "i";
    }
}

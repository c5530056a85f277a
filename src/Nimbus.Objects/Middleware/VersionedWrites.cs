using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Common;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>
/// Swift's legacy object versioning (swift/common/middleware/versioned_writes/legacy.py). A
/// container with <c>X-Versions-Location: &lt;archive&gt;</c> (stack mode) keeps each overwritten object
/// in the archive container as <c>&lt;length of name, 3 hex digits&gt;&lt;name&gt;/&lt;timestamp&gt;</c>, and a
/// DELETE puts the newest archived version back. With <c>X-History-Location</c> (history mode) a
/// DELETE also archives the current object and then writes a zero-byte delete marker, so the
/// archive holds every version. The copies are server-side copies made through the rest of the
/// pipeline, after this filter has checked the caller may write the versioned container.
/// </summary>
public sealed class VersionedWrites : IProxyMiddleware
{
    public const string DeleteMarkerContentType = "application/x-deleted;swift_versions_deleted=1";

    private const string VersionsHeader = "X-Versions-Location";
    private const string HistoryHeader = "X-History-Location";
    private const string RemoveVersionsHeader = "X-Remove-Versions-Location";
    private const string RemoveHistoryHeader = "X-Remove-History-Location";

    private readonly ProxyServer _proxy;
    private readonly TimeProvider _time;

    public VersionedWrites(ProxyServer proxy, TimeProvider time, SwiftInfo info)
    {
        _proxy = proxy;
        _time = time;
        info.Register("versioned_writes", new JsonObject { ["allowed_flags"] = new JsonArray("x-versions-location", "x-history-location") });
    }

    public string Name => "versioned_writes";

    public Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        var swift = SwiftContext.Get(context);
        if (swift?.Container is null)
        {
            return downstream(context);
        }

        if (swift.ObjectName is null)
        {
            return ContainerRequestAsync(context, downstream);
        }

        var method = context.Request.Method;
        return HttpMethods.IsPut(method) || HttpMethods.IsDelete(method) ? ObjectRequestAsync(context, swift, downstream) : downstream(context);
    }

    /// <summary>
    /// Checks the versioning headers of a container request: one mode at a time, a container name
    /// without slashes; an empty value removes versioning. Setting one mode clears the other, so
    /// the container keeps exactly one location.
    /// </summary>
    private static Task ContainerRequestAsync(HttpContext context, RequestDelegate downstream)
    {
        var headers = context.Request.Headers;
        if (headers.ContainsKey(VersionsHeader) && headers.ContainsKey(HistoryHeader))
        {
            if (headers[HistoryHeader].ToString().Length == 0)
            {
                headers.Remove(HistoryHeader);
            }
            else if (headers[VersionsHeader].ToString().Length > 0)
            {
                return SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "Only one of x-versions-location or x-history-location may be specified");
            }
            else
            {
                headers.Remove(VersionsHeader);
            }
        }

        var header = headers.ContainsKey(VersionsHeader) ? VersionsHeader : headers.ContainsKey(HistoryHeader) ? HistoryHeader : null;
        if (header is not null)
        {
            var location = headers[header].ToString();
            if (location.Length == 0)
            {
                headers[RemoveVersionsHeader] = "x";
            }
            else
            {
                if (location.Contains('/', StringComparison.Ordinal))
                {
                    return SwiftResponse.WriteAsync(context, StatusCodes.Status412PreconditionFailed, "Container name cannot contain slashes");
                }

                // Adding a location wins over removing one in the same request.
                headers.Remove(RemoveVersionsHeader);
                headers.Remove(RemoveHistoryHeader);
                headers[header == VersionsHeader ? RemoveHistoryHeader : RemoveVersionsHeader] = "x";
                return downstream(context);
            }
        }

        if (!string.IsNullOrEmpty(headers[RemoveVersionsHeader].ToString()) || !string.IsNullOrEmpty(headers[RemoveHistoryHeader].ToString()))
        {
            headers.Remove(VersionsHeader);
            headers.Remove(HistoryHeader);
            headers[RemoveVersionsHeader] = "x";
            headers[RemoveHistoryHeader] = "x";
        }

        return downstream(context);
    }

    private async Task ObjectRequestAsync(HttpContext context, SwiftContext swift, RequestDelegate downstream)
    {
        var info = await _proxy.GetContainerInfoAsync(swift.Account, swift.Container!, context.RequestAborted);
        var history = info.Headers.GetValueOrDefault(HistoryHeader, string.Empty);
        var stack = info.Headers.GetValueOrDefault(VersionsHeader, string.Empty);
        var location = stack.Length > 0 ? stack : history;
        if (!info.Exists || location.Length == 0)
        {
            await downstream(context);
            return;
        }

        var versions = new Versions(context, swift, downstream, info, DecodeLocation(location));
        try
        {
            if (HttpMethods.IsPut(context.Request.Method))
            {
                await versions.CopyCurrentAsync();
                await downstream(context);
            }
            else if (stack.Length == 0)
            {
                await versions.CopyCurrentAsync();
                await versions.PutDeleteMarkerAsync(SwiftTimestamp.Now(_time));
                await downstream(context);
            }
            else
            {
                await versions.DeleteAndRestoreAsync();
            }
        }
        catch (VersioningRefusedException refused)
        {
            await SwiftResponse.WriteAsync(context, refused.Status);
        }
    }

    /// <summary>The archive container's name: the location is URL-encoded and only its first segment counts.</summary>
    private static string DecodeLocation(string location)
    {
        var decoded = SwiftPath.TryDecode(location, out var value, out _) ? value : location;
        return decoded.Split('/')[0];
    }

    /// <summary>The prefix of an object's versions in the archive: its name's length in bytes as three hex digits, the name, "/".</summary>
    public static string VersionsPrefix(string objectName) =>
        Encoding.UTF8.GetByteCount(objectName).ToString("x3", CultureInfo.InvariantCulture) + objectName + "/";

    /// <summary>The work on one object's versions, every step a subrequest down the pipeline.</summary>
    private sealed class Versions(HttpContext context, SwiftContext swift, RequestDelegate downstream, ContainerInfo info, string archive)
    {
        private string ObjectPath => ObjectPathOf(swift.Container!, swift.ObjectName!);

        private string ObjectPathOf(string container, string obj) =>
            $"/{swift.Version}/{SwiftPath.Encode(swift.Account)}/{SwiftPath.Encode(container)}/{SwiftPath.Encode(obj, keepSlashes: true)}";

        /// <summary>Archives the current object, if there is one, under its own timestamp.</summary>
        public async Task CopyCurrentAsync()
        {
            Authorize();
            await using var current = await SendAsync(HttpMethods.Head, ObjectPath, [new("X-Newest", "True")]);
            if (current.Status == StatusCodes.Status404NotFound)
            {
                return;
            }

            ThrowUnlessSuccess(current.Status);
            var timestamp = current.Headers["X-Timestamp"].ToString();
            if (timestamp.Length == 0 && DateTimeOffset.TryParse(current.Headers.LastModified.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var modified))
            {
                timestamp = SwiftTimestamp.FromDateTimeOffset(modified).Normal;
            }

            await CopyAsync(swift.Container!, swift.ObjectName!, archive, VersionsPrefix(swift.ObjectName!) + timestamp);
        }

        /// <summary>History mode: a zero-byte marker in the archive that records when the object was deleted.</summary>
        public async Task PutDeleteMarkerAsync(SwiftTimestamp now)
        {
            await using var marker = await SendAsync(
                HttpMethods.Put,
                ObjectPathOf(archive, VersionsPrefix(swift.ObjectName!) + now.Normal),
                [new("Content-Type", DeleteMarkerContentType)],
                contentLength: 0);
            ThrowUnlessSuccess(marker.Status);
        }

        /// <summary>
        /// Stack mode: puts the newest archived version back in place of the object and removes it
        /// from the archive, which answers the client's DELETE; with nothing archived the DELETE
        /// goes through as it is. A delete marker on top (left by history mode) is handled as Swift
        /// does: with the object present the DELETE goes through; else the version under the marker
        /// is restored and the marker removed.
        /// </summary>
        public async Task DeleteAndRestoreAsync()
        {
            var authorized = false;
            var listing = new ArchiveListing(this, VersionsPrefix(swift.ObjectName!));
            while (await listing.NextAsync() is { } previous)
            {
                if (!authorized)
                {
                    Authorize();
                    authorized = true;
                }

                if (previous.ContentType == DeleteMarkerContentType)
                {
                    await using (var current = await SendAsync(HttpMethods.Head, ObjectPath, [new("X-Newest", "True")]))
                    {
                        if (current.Status != StatusCodes.Status404NotFound)
                        {
                            ThrowUnlessSuccess(current.Status);
                            break;
                        }
                    }

                    while (await listing.NextAsync() is { } older)
                    {
                        if (older.ContentType == DeleteMarkerContentType)
                        {
                            break;
                        }

                        if (!await RestoreAsync(older.Name))
                        {
                            continue;
                        }

                        await using var removed = await SendAsync(HttpMethods.Delete, ObjectPathOf(archive, older.Name), []);
                        if (removed.Status != StatusCodes.Status404NotFound)
                        {
                            ThrowUnlessSuccess(removed.Status);
                        }

                        break;
                    }

                    await RelayDeleteAsync(ObjectPathOf(archive, previous.Name));
                    return;
                }

                if (!await RestoreAsync(previous.Name))
                {
                    continue;
                }

                await RelayDeleteAsync(ObjectPathOf(archive, previous.Name));
                return;
            }

            await downstream(context);
        }

        /// <summary>Copies an archived version over the object; false when that version is gone.</summary>
        private async Task<bool> RestoreAsync(string version)
        {
            await using (var head = await SendAsync(HttpMethods.Head, ObjectPathOf(archive, version), [new("X-Newest", "True")]))
            {
                if (head.Status == StatusCodes.Status404NotFound)
                {
                    return false;
                }

                ThrowUnlessSuccess(head.Status);
            }

            await CopyAsync(archive, version, swift.Container!, swift.ObjectName!);
            return true;
        }

        /// <summary>The client's DELETE, turned onto an archived version: its answer is the client's.</summary>
        private async Task RelayDeleteAsync(string path)
        {
            await using var deleted = await SendAsync(HttpMethods.Delete, path, []);
            await deleted.RelayAsync(context);
        }

        /// <summary>A server-side copy (PUT with X-Copy-From): the body and metadata move between replicas, never through memory whole.</summary>
        private async Task CopyAsync(string sourceContainer, string sourceObject, string container, string obj)
        {
            var copyFrom = "/" + SwiftPath.Encode(sourceContainer) + "/" + SwiftPath.Encode(sourceObject, keepSlashes: true);
            await using var copy = await SendAsync(HttpMethods.Put, ObjectPathOf(container, obj), [new("X-Copy-From", copyFrom)], contentLength: 0);
            ThrowUnlessSuccess(copy.Status);
        }

        public Task<SubResponse> SendAsync(string method, string rawPath, List<KeyValuePair<string, string>> headers, long? contentLength = null) =>
            SubRequest.SendAsync(context, downstream, method, rawPath, headers, contentLength: contentLength, preAuthorized: true);

        /// <summary>The caller must be allowed to write the versioned container before any pre-authorized work on its behalf.</summary>
        private void Authorize()
        {
            if (swift.Check(context, new AccessControl(null, info.WriteAcl)) is { } refusal)
            {
                throw new VersioningRefusedException(refusal);
            }
        }

        public string ArchivePath(string query) => $"/{swift.Version}/{SwiftPath.Encode(swift.Account)}/{SwiftPath.Encode(archive)}?{query}";

        public CancellationToken Aborted => context.RequestAborted;
    }

    /// <summary>A client error means a missing archive container or no permission (412); anything else, 503.</summary>
    private static void ThrowUnlessSuccess(int status)
    {
        if (status is >= 200 and < 300)
        {
            return;
        }

        throw new VersioningRefusedException(status is >= 400 and < 500 ? StatusCodes.Status412PreconditionFailed : StatusCodes.Status503ServiceUnavailable);
    }

    private sealed record ArchivedVersion(string Name, string ContentType);

    /// <summary>An object's archived versions, newest first, read a page at a time.</summary>
    private sealed class ArchiveListing(Versions versions, string prefix)
    {
        private readonly Queue<ArchivedVersion> _page = new();
        private string _marker = string.Empty;
        private bool _done;

        public async Task<ArchivedVersion?> NextAsync()
        {
            if (_page.Count == 0 && !_done)
            {
                await FetchAsync();
            }

            return _page.TryDequeue(out var next) ? next : null;
        }

        private async Task FetchAsync()
        {
            var query = "format=json&reverse=on&prefix=" + StaticWeb.Quote(prefix) + (_marker.Length > 0 ? "&marker=" + StaticWeb.Quote(_marker) : string.Empty);
            await using var response = await versions.SendAsync(HttpMethods.Get, versions.ArchivePath(query), []);
            if (response.Status == StatusCodes.Status404NotFound)
            {
                _done = true;
                return;
            }

            if (!response.IsSuccess)
            {
                throw new VersioningRefusedException(response.Status is >= 400 and < 500 ? StatusCodes.Status412PreconditionFailed : StatusCodes.Status500InternalServerError);
            }

            var text = await response.ReadTextAsync(versions.Aborted);
            using var document = JsonDocument.Parse(text.Length == 0 ? "[]" : text);
            foreach (var item in document.RootElement.EnumerateArray())
            {
                _page.Enqueue(new ArchivedVersion(item.GetProperty("name").GetString()!, item.GetProperty("content_type").GetString() ?? string.Empty));
            }

            if (_page.Count == 0)
            {
                _done = true;
                return;
            }

            _marker = _page.Last().Name;
        }
    }

    /// <summary>Ends the request with a status, as Swift raises an HTTPException from the middle of versioning work.</summary>
    private sealed class VersioningRefusedException(int status) : Exception($"object versioning refused the request with {status}")
    {
        public int Status { get; } = status;
    }
}

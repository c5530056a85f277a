using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Nimbus.Images.Service;
using Nimbus.Platform.Auth;
using Nimbus.Platform.Errors;
using Nimbus.Platform.Http;

namespace Nimbus.Images.Http;

/// <summary>
/// Glance's Image API v2 under <c>/image</c>, as DevStack mounts it. Handlers parse requests into
/// typed commands and format answers; <see cref="ImageService"/> decides everything else.
/// </summary>
public static class ImagesEndpoints
{
    public const string Prefix = "/image";

    private const string OctetStream = "application/octet-stream";
    private const int MaxJsonBodyBytes = 1 << 20;

    /// <summary>Maps version discovery (no token) and every /image/v2 route (token required).</summary>
    public static IEndpointRouteBuilder MapImages(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var root = endpoints.MapGroup(Prefix).WithFaultStyle(FaultStyle.Compute);
        // Glance answers its root with 300 Multiple Choices and /versions with 200 (glance/api/versions.py).
        root.MapGet("/", context => Versions(context, StatusCodes.Status300MultipleChoices));
        root.MapGet("/versions", context => Versions(context, StatusCodes.Status200OK));

        var v2 = root.MapGroup("/v2").RequireToken();
        v2.MapPost("/images", CreateAsync);
        v2.MapGet("/images", ListAsync);
        v2.MapGet("/images/{id}", ShowAsync);
        v2.MapMethods("/images/{id}", ["PATCH"], UpdateAsync);
        v2.MapDelete("/images/{id}", DeleteAsync);
        v2.MapDelete("/images", () => Task.FromException(MissingId()));
        v2.MapPut("/images/{id}/file", UploadAsync);
        v2.MapGet("/images/{id}/file", DownloadAsync);
        v2.MapPut("/images/{id}/stage", StageAsync);
        v2.MapPost("/images/{id}/import", ImportAsync);
        v2.MapGet("/images/{id}/tasks", TasksAsync);
        v2.MapPost("/images/{id}/actions/deactivate", (HttpContext c, string id, ImageService s) => NoContentAsync(c, s.DeactivateAsync(c.Caller(), id, c.RequestAborted)));
        v2.MapPost("/images/{id}/actions/reactivate", (HttpContext c, string id, ImageService s) => NoContentAsync(c, s.ReactivateAsync(c.Caller(), id, c.RequestAborted)));
        v2.MapPut("/images/{id}/tags/{tag}", (HttpContext c, string id, string tag, ImageService s) => NoContentAsync(c, s.AddTagAsync(c.Caller(), id, tag, c.RequestAborted)));
        v2.MapDelete("/images/{id}/tags/{tag}", (HttpContext c, string id, string tag, ImageService s) => NoContentAsync(c, s.RemoveTagAsync(c.Caller(), id, tag, c.RequestAborted)));
        v2.MapPost("/images/{id}/members", AddMemberAsync);
        v2.MapGet("/images/{id}/members", ListMembersAsync);
        v2.MapGet("/images/{id}/members/{member}", ShowMemberAsync);
        v2.MapPut("/images/{id}/members/{member}", UpdateMemberAsync);
        v2.MapDelete("/images/{id}/members/{member}", (HttpContext c, string id, string member, ImageService s) => NoContentAsync(c, s.RemoveMemberAsync(c.Caller(), id, member, c.RequestAborted)));
        v2.MapGet("/schemas/image", context => RawJsonAsync(context, ImageSchemas.Image));
        v2.MapGet("/schemas/images", context => RawJsonAsync(context, ImageSchemas.Images));
        v2.MapGet("/schemas/member", context => RawJsonAsync(context, ImageSchemas.Member));
        v2.MapGet("/schemas/members", context => RawJsonAsync(context, ImageSchemas.Members));
        v2.MapGet("/info/import", ImportInfoAsync);
        v2.MapGet("/info/stores", StoresInfoAsync);
        return endpoints;
    }

    private static async Task CreateAsync(HttpContext context, ImageService images)
    {
        using var body = await ReadJsonAsync(context);
        var command = CreateImage.Parse(body.RootElement);
        var image = await images.CreateAsync(context.Caller(), command, context.RequestAborted);
        context.Response.Headers.Location = $"{context.Request.PathBase}{Prefix}/v2/images/{image.Id}";
        context.Response.Headers["OpenStack-image-import-methods"] = $"{ImageService.GlanceDirect},{ImageService.WebDownload}";
        await ImageJson.WriteAsync(context, StatusCodes.Status201Created, json => ImageJson.Image(json, image, images.StoreName));
    }

    private static async Task ListAsync(HttpContext context, ImageService images)
    {
        if (context.Request.Path.Value?.EndsWith('/') == true)
        {
            // GET /v2/images/ is a show of an empty id to Glance, not a listing.
            throw MissingId();
        }

        var parameters = context.Request.Query.SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v)));
        var query = ImageListQuery.Parse(parameters);
        var page = await images.ListAsync(context.Caller(), query, context.RequestAborted);
        await ImageJson.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("images");
            foreach (var image in page.Images)
            {
                ImageJson.Image(json, image, images.StoreName);
            }

            json.WriteEndArray();
            var others = context.Request.Query.Where(p => p.Key != "marker").SelectMany(p => p.Value.Select(v => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(v ?? string.Empty)}")).ToList();
            json.WriteString("first", others.Count == 0 ? "/v2/images" : $"/v2/images?{string.Join('&', others)}");
            if (page.NextMarker is { } marker)
            {
                json.WriteString("next", $"/v2/images?{string.Join('&', others.Append($"marker={Uri.EscapeDataString(marker)}"))}");
            }

            json.WriteString("schema", "/v2/schemas/images");
            json.WriteEndObject();
        });
    }

    private static async Task ShowAsync(HttpContext context, string id, ImageService images)
    {
        var image = await images.GetAsync(context.Caller(), id, context.RequestAborted);
        await ImageJson.WriteAsync(context, StatusCodes.Status200OK, json => ImageJson.Image(json, image, images.StoreName));
    }

    private static async Task UpdateAsync(HttpContext context, string id, ImageService images)
    {
        if (ImagePatch.DialectOf(context.Request.ContentType) is not { } dialect)
        {
            await FaultWriter.WriteAsync(
                context,
                StatusCodes.Status415UnsupportedMediaType,
                "unsupportedMediaType",
                $"Unsupported Content-Type '{context.Request.ContentType}': send the patch as {ImagePatch.MediaTypeV21} (or {ImagePatch.MediaTypeV20}).",
                context.RequestAborted);
            return;
        }

        using var body = await ReadJsonAsync(context);
        var operations = ImagePatch.Parse(body.RootElement, dialect);
        var image = await images.UpdateAsync(context.Caller(), id, operations, context.RequestAborted);
        await ImageJson.WriteAsync(context, StatusCodes.Status200OK, json => ImageJson.Image(json, image, images.StoreName));
    }

    private static Task DeleteAsync(HttpContext context, string id, ImageService images) =>
        NoContentAsync(context, images.DeleteAsync(context.Caller(), id, context.RequestAborted));

    private static async Task UploadAsync(HttpContext context, string id, ImageService images)
    {
        if (!await EnsureOctetStreamAsync(context))
        {
            return;
        }

        await images.UploadAsync(context.Caller(), id, context.Request.Body, context.Request.ContentLength, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task StageAsync(HttpContext context, string id, ImageService images)
    {
        if (!await EnsureOctetStreamAsync(context))
        {
            return;
        }

        await images.StageAsync(context.Caller(), id, context.Request.Body, context.Request.ContentLength, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task ImportAsync(HttpContext context, string id, ImageService images)
    {
        using var body = await ReadJsonAsync(context);
        var root = body.RootElement;
        var method = root.ValueKind == JsonValueKind.Object
            && root.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.Object
            && m.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
                ? name.GetString()!
                : throw new InvalidInputException("images.bad_import", "The import request must be {\"method\": {\"name\": \"glance-direct\"}}.");
        await images.ImportAsync(context.Caller(), id, method, context.Features.Get<RequestContext>()?.RequestId, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    private static async Task TasksAsync(HttpContext context, string id, ImageService images)
    {
        var tasks = await images.ListTasksAsync(context.Caller(), id, context.RequestAborted);
        await ImageJson.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("tasks");
            foreach (var task in tasks)
            {
                ImageJson.Task(json, task, images.StoreName);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    private static async Task DownloadAsync(HttpContext context, string id, ImageService images)
    {
        var range = ParseRange(context.Request.Headers.Range.ToString());
        ImageDownload download;
        try
        {
            download = await images.DownloadAsync(context.Caller(), id, range, context.RequestAborted);
        }
        catch (RangeNotSatisfiableException ex)
        {
            context.Response.Headers.ContentRange = $"bytes */{ex.Total}";
            await FaultWriter.WriteAsync(context, StatusCodes.Status416RangeNotSatisfiable, "requestedRangeNotSatisfiable", ex.Message, context.RequestAborted);
            return;
        }

        if (download.Content is null)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        await using var content = download.Content;
        var response = context.Response;
        response.StatusCode = download.Partial ? StatusCodes.Status206PartialContent : StatusCodes.Status200OK;
        response.ContentType = OctetStream;
        response.ContentLength = download.Length;
        if (download.Image.Checksum is { } checksum)
        {
            // Glance sends the hex MD5 of the whole image, also on a range, so clients can verify a full read.
            response.Headers["Content-MD5"] = checksum;
        }

        if (download.Partial)
        {
            response.Headers.ContentRange = $"bytes {download.Offset}-{download.Offset + download.Length - 1}/{download.Total}";
        }

        await content.CopyToAsync(response.Body, 81920, context.RequestAborted);
    }

    private static async Task AddMemberAsync(HttpContext context, string id, ImageService images)
    {
        using var body = await ReadJsonAsync(context);
        var member = StringField(body.RootElement, "member");
        var added = await images.AddMemberAsync(context.Caller(), id, member, context.RequestAborted);
        await ImageJson.WriteAsync(context, StatusCodes.Status200OK, json => ImageJson.Member(json, added));
    }

    private static async Task ListMembersAsync(HttpContext context, string id, ImageService images)
    {
        var members = await images.ListMembersAsync(context.Caller(), id, context.RequestAborted);
        await ImageJson.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("members");
            foreach (var member in members)
            {
                ImageJson.Member(json, member);
            }

            json.WriteEndArray();
            json.WriteString("schema", "/v2/schemas/members");
            json.WriteEndObject();
        });
    }

    private static async Task ShowMemberAsync(HttpContext context, string id, string member, ImageService images)
    {
        var found = await images.GetMemberAsync(context.Caller(), id, member, context.RequestAborted);
        await ImageJson.WriteAsync(context, StatusCodes.Status200OK, json => ImageJson.Member(json, found));
    }

    private static async Task UpdateMemberAsync(HttpContext context, string id, string member, ImageService images)
    {
        using var body = await ReadJsonAsync(context);
        var status = StringField(body.RootElement, "status");
        var updated = await images.UpdateMemberAsync(context.Caller(), id, member, status, context.RequestAborted);
        await ImageJson.WriteAsync(context, StatusCodes.Status200OK, json => ImageJson.Member(json, updated));
    }

    private static Task ImportInfoAsync(HttpContext context) =>
        ImageJson.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteStartObject("import-methods");
            json.WriteString("description", "Import methods available.");
            json.WriteString("type", "array");
            json.WriteStartArray("value");
            json.WriteStringValue(ImageService.GlanceDirect);
            json.WriteStringValue(ImageService.WebDownload);
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        });

    private static Task StoresInfoAsync(HttpContext context, ImageService images) =>
        ImageJson.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("stores");
            json.WriteStartObject();
            json.WriteString("id", images.StoreName);
            json.WriteString("description", $"Image data kept by this cloud's {images.StoreName} store.");
            json.WriteBoolean("default", true);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        });

    private static Task Versions(HttpContext context, int status)
    {
        var request = context.Request;
        var self = $"{request.Scheme}://{request.Host}{request.PathBase}{Prefix}/v2/";
        return ImageJson.WriteAsync(context, status, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("versions");
            // Newest first, as Glance lists them; 2.0 has always been SUPPORTED.
            for (var minor = 17; minor >= 0; minor--)
            {
                json.WriteStartObject();
                json.WriteString("id", $"v2.{minor}");
                json.WriteString("status", minor == 17 ? "CURRENT" : "SUPPORTED");
                json.WriteStartArray("links");
                json.WriteStartObject();
                json.WriteString("rel", "self");
                json.WriteString("href", self);
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    private static NotFoundException MissingId() => new("images.not_found", "No image found: the request names no image id.");

    private static async Task NoContentAsync(HttpContext context, Task action)
    {
        await action;
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task RawJsonAsync(HttpContext context, string json)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=UTF-8";
        await context.Response.WriteAsync(json, context.RequestAborted);
    }

    /// <summary>Image data is PUT as application/octet-stream only (Glance answers anything else with 415); the size limit is the service's, not Kestrel's.</summary>
    private static async Task<bool> EnsureOctetStreamAsync(HttpContext context)
    {
        var mediaType = context.Request.ContentType?.Split(';')[0].Trim();
        if (!string.Equals(mediaType, OctetStream, StringComparison.OrdinalIgnoreCase))
        {
            await FaultWriter.WriteAsync(
                context,
                StatusCodes.Status415UnsupportedMediaType,
                "unsupportedMediaType",
                $"Unsupported Content-Type '{context.Request.ContentType}': image data is sent as {OctetStream}.",
                context.RequestAborted);
            return false;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }

        return true;
    }

    private static async Task<JsonDocument> ReadJsonAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxJsonBodyBytes)
        {
            throw new OverLimitException("images.body_too_large", $"The request body is larger than {MaxJsonBodyBytes} bytes.");
        }

        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException("images.bad_json", $"Malformed JSON in request body: {ex.Message}", ex);
        }
    }

    private static string StringField(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new InvalidInputException("images.bad_body", $"The request body must be a JSON object with a string '{name}'.");

    /// <summary>One range of a Range header (RFC 9110 §14.2); anything else is ignored and the whole image served, as the RFC allows.</summary>
    private static ByteRange? ParseRange(string header)
    {
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) || header.Contains(',', StringComparison.Ordinal))
        {
            return null;
        }

        var spec = header["bytes=".Length..].Trim();
        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return null;
        }

        static long? Number(string text) =>
            text.Length == 0 ? null : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;

        var from = Number(spec[..dash]);
        var to = Number(spec[(dash + 1)..]);
        return from == -1 || to == -1 || (from is null && to is null) || (from is { } f && to is { } t && t < f) ? null : new ByteRange(from, to);
    }
}

using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Nimbus.Images.Service;

namespace Nimbus.Images.Http;

/// <summary>Images, members and lists as Glance writes them (glance/api/v2/images.py ResponseSerializer).</summary>
internal static class ImageJson
{
    private static readonly JsonWriterOptions Options = new()
    {
        // API clients read these bodies, never a browser: keep quotes and non-ASCII readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            write(json);
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        context.Response.ContentLength = buffer.WrittenCount;
        return context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).AsTask();
    }

    public static void Image(Utf8JsonWriter json, Image image)
    {
        json.WriteStartObject();
        json.WriteString("id", image.Id);
        json.WriteString("name", image.Name);
        json.WriteString("status", image.Status);
        json.WriteString("visibility", image.Visibility);
        json.WriteBoolean("protected", image.Protected);
        json.WriteBoolean("os_hidden", image.OsHidden);
        json.WriteString("checksum", image.Checksum);
        json.WriteString("os_hash_algo", image.OsHashAlgo);
        json.WriteString("os_hash_value", image.OsHashValue);
        json.WriteString("owner", image.Owner);
        NumberOrNull(json, "size", image.Size);
        NumberOrNull(json, "virtual_size", image.VirtualSize);
        json.WriteNumber("min_disk", image.MinDisk);
        json.WriteNumber("min_ram", image.MinRam);
        json.WriteString("disk_format", image.DiskFormat);
        json.WriteString("container_format", image.ContainerFormat);
        json.WriteString("created_at", Timestamp(image.CreatedAt));
        json.WriteString("updated_at", Timestamp(image.UpdatedAt));
        json.WriteStartArray("tags");
        foreach (var tag in image.Tags)
        {
            json.WriteStringValue(tag);
        }

        json.WriteEndArray();
        json.WriteString("self", $"/v2/images/{image.Id}");
        json.WriteString("file", $"/v2/images/{image.Id}/file");
        json.WriteString("schema", "/v2/schemas/image");
        foreach (var (name, value) in image.Properties)
        {
            json.WriteString(name, value);
        }

        json.WriteEndObject();
    }

    public static void Member(Utf8JsonWriter json, ImageMember member)
    {
        json.WriteStartObject();
        json.WriteString("image_id", member.ImageId);
        json.WriteString("member_id", member.MemberId);
        json.WriteString("status", member.Status);
        json.WriteString("created_at", Timestamp(member.CreatedAt));
        json.WriteString("updated_at", Timestamp(member.UpdatedAt));
        json.WriteString("schema", "/v2/schemas/member");
        json.WriteEndObject();
    }

    /// <summary>ISO 8601 in UTC to the second, as Glance shows times (2016-06-29T16:13:07Z).</summary>
    public static string Timestamp(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void NumberOrNull(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}

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

    public static void Image(Utf8JsonWriter json, Image image, string store)
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
        if (image.Location is not null && image.Status is ImageStatus.Active or ImageStatus.Deactivated)
        {
            // Where the data lives, as Glance names stores once they hold an image (GET /v2/info/stores lists them).
            json.WriteString("stores", store);
        }

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

    public static void Task(Utf8JsonWriter json, ImageTask task, string store)
    {
        json.WriteStartObject();
        json.WriteString("id", task.Id);
        json.WriteString("type", task.Type);
        json.WriteString("status", task.Status);
        json.WriteString("owner", task.Owner);
        json.WriteNull("expires_at");
        json.WriteString("created_at", Timestamp(task.CreatedAt));
        json.WriteString("updated_at", Timestamp(task.UpdatedAt));
        json.WriteStartObject("input");
        json.WriteString("image_id", task.ImageId);
        json.WriteStartObject("import_req");
        json.WriteStartObject("method");
        json.WriteString("name", task.Method);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteStartArray("backend");
        json.WriteStringValue(store);
        json.WriteEndArray();
        json.WriteEndObject();
        if (task.Status == ImageTask.Success)
        {
            json.WriteStartObject("result");
            json.WriteString("image_id", task.ImageId);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("result");
        }

        json.WriteString("message", task.Message);
        json.WriteString("image_id", task.ImageId);
        json.WriteString("request_id", task.RequestId);
        json.WriteString("user_id", task.UserId);
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

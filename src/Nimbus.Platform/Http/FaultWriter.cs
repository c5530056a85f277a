using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Nimbus.Platform.Errors;

namespace Nimbus.Platform.Http;

/// <summary>
/// Writes OpenStack fault bodies: <c>{"itemNotFound": {"code": 404, "message": "…"}}</c>
/// (Compute api-ref, "Faults").
/// </summary>
public static class FaultWriter
{
    /// <summary>Nova's words for a failure whose details must not leak to the caller.</summary>
    public const string InternalErrorMessage =
        "The server has either erred or is incapable of performing the requested operation.";

    public static Task WriteAsync(HttpContext context, ErrorKind kind, string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var status = ErrorMapping.HttpStatus(kind);
        return WriteAsync(context, status, ErrorMapping.FaultName(kind), message, cancellationToken);
    }

    public static async Task WriteAsync(HttpContext context, int status, string faultName, string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        // The body is JSON for API clients, never embedded in HTML: keep quotes and apostrophes readable.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject(faultName);
            json.WriteNumber("code", status);
            json.WriteString("message", message);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, cancellationToken);
    }
}

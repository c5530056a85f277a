using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Nimbus.Platform.Errors;

namespace Nimbus.Platform.Http;

/// <summary>The shape of a service's fault bodies.</summary>
public enum FaultStyle
{
    /// <summary><c>{"itemNotFound": {"code": 404, "message": "…"}}</c>, as Nova, Glance's clients and most services read.</summary>
    Compute,

    /// <summary><c>{"error": {"code": 404, "message": "…", "title": "Not Found"}}</c>, as Keystone writes.</summary>
    Identity,
}

/// <summary>Endpoint metadata choosing the fault shape of a service's routes.</summary>
public sealed record FaultStyleMetadata(FaultStyle Style);

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
        if (status == StatusCodes.Status401Unauthorized)
        {
            // keystonemiddleware's answer tells the client where to get a token.
            context.Response.Headers.WWWAuthenticate = $"Keystone uri=\"{context.Request.Scheme}://{context.Request.Host}/identity\"";
        }

        var style = context.GetEndpoint()?.Metadata.GetMetadata<FaultStyleMetadata>()?.Style ?? FaultStyle.Compute;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        // The body is JSON for API clients, never embedded in HTML: keep quotes and apostrophes readable.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (style == FaultStyle.Identity)
            {
                // Keystone's shape (api-ref identity v3, "Errors"): {"error": {"code", "message", "title"}}.
                json.WriteStartObject("error");
                json.WriteNumber("code", status);
                json.WriteString("message", message);
                json.WriteString("title", Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status));
            }
            else
            {
                json.WriteStartObject(faultName);
                json.WriteNumber("code", status);
                json.WriteString("message", message);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, cancellationToken);
    }
}

/// <summary>Route-group conventions for fault bodies.</summary>
public static class FaultStyleExtensions
{
    public static TBuilder WithFaultStyle<TBuilder>(this TBuilder builder, FaultStyle style)
        where TBuilder : Microsoft.AspNetCore.Builder.IEndpointConventionBuilder
    {
        builder.Add(endpoint => endpoint.Metadata.Add(new FaultStyleMetadata(style)));
        return builder;
    }
}

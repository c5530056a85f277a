using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Nimbus.Objects.Http;

/// <summary>
/// Swift's response bodies: a specific message as text/plain, or swob's small HTML page naming
/// the status when there is nothing more to say.
/// </summary>
public static class SwiftResponse
{
    public const int ClientDisconnect = 499;

    /// <summary>Swift's ratelimit answer once a request would have to wait longer than max_sleep_time_seconds.</summary>
    public const int RateLimited = 498;

    public static Task WriteAsync(HttpContext context, int status, string? message = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        if (status is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified)
        {
            response.ContentLength = 0;
            return Task.CompletedTask;
        }

        byte[] body;
        if (message is not null)
        {
            response.ContentType = "text/plain; charset=UTF-8";
            body = Encoding.UTF8.GetBytes(message);
        }
        else
        {
            response.ContentType = "text/html; charset=UTF-8";
            body = Encoding.UTF8.GetBytes(HtmlBody(status));
        }

        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>swob's RESPONSE_REASONS: the title and explanation of each status.</summary>
    public static (string Title, string Explanation) Reason(int status) => status switch
    {
        200 => ("OK", string.Empty),
        201 => ("Created", string.Empty),
        202 => ("Accepted", "The request is accepted for processing."),
        204 => ("No Content", string.Empty),
        206 => ("Partial Content", string.Empty),
        301 => ("Moved Permanently", "The resource has moved permanently."),
        304 => ("Not Modified", string.Empty),
        400 => ("Bad Request", "The server could not comply with the request since it is either malformed or otherwise incorrect."),
        401 => ("Unauthorized", "This server could not verify that you are authorized to access the document you requested."),
        403 => ("Forbidden", "Access was denied to this resource."),
        404 => ("Not Found", "The resource could not be found."),
        405 => ("Method Not Allowed", "The method is not allowed for this resource."),
        406 => ("Not Acceptable", "The requested media type is not supported."),
        408 => ("Request Timeout", "The server has waited too long for the request to be sent by the client."),
        409 => ("Conflict", "There was a conflict when trying to complete your request."),
        411 => ("Length Required", "Length Required"),
        412 => ("Precondition Failed", "A precondition for this request was not met."),
        413 => ("Request Entity Too Large", "The body of your request was too large for this server."),
        414 => ("Request URI Too Long", "The request URI was too long for this server."),
        416 => ("Requested Range Not Satisfiable", "The Range requested is not available."),
        422 => ("Unprocessable Entity", "Unable to process the contained instructions"),
        429 => ("Too Many Requests", "The client has sent too many requests."),
        RateLimited => ("Rate Limited", string.Empty),
        ClientDisconnect => ("Client Disconnect", "The client was disconnected during request."),
        500 => ("Internal Error", "The server has either erred or is incapable of performing the requested operation."),
        501 => ("Not Implemented", "The requested method is not implemented by this server."),
        502 => ("Bad Gateway", "Bad gateway."),
        503 => ("Service Unavailable", "The server is currently unavailable. Please try again at a later time."),
        504 => ("Gateway Timeout", "A timeout has occurred speaking to a backend server."),
        507 => ("Insufficient Storage", "There was not enough space to save the resource."),
        _ => (status.ToString(CultureInfo.InvariantCulture), string.Empty),
    };

    /// <summary>swob's default body for a status with nothing more to say; empty when the status has no explanation.</summary>
    public static string HtmlBody(int status)
    {
        var (title, explanation) = Reason(status);
        return explanation.Length == 0 ? string.Empty : $"<html><h1>{title}</h1><p>{explanation}</p></html>";
    }

    /// <summary>A status as swob spells it in bodies and status lines: "201 Created".</summary>
    public static string StatusLine(int status) => $"{status.ToString(CultureInfo.InvariantCulture)} {Reason(status).Title}";

    /// <summary>An HTTP-date (RFC 9110 §5.6.7) for Last-Modified, from a timestamp rounded up to the second as Swift does.</summary>
    public static string HttpDate(Common.SwiftTimestamp timestamp)
    {
        var seconds = (timestamp.Ticks + Common.SwiftTimestamp.TicksPerSecond - 1) / Common.SwiftTimestamp.TicksPerSecond;
        return DateTimeOffset.FromUnixTimeSeconds(seconds).ToString("r", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The ETag header as Swift sends it by default: the bare MD5, unquoted (quoting is what Swift's
    /// optional etag_quoter filter adds). ETags are read with or without quotes.
    /// </summary>
    public static string EtagHeader(string etag) => etag.Trim('"');

    /// <summary>Python's str.title(), which Swift applies to stored header names ("x-object-meta-a_b" → "X-Object-Meta-A_B").</summary>
    public static string TitleCase(string name)
    {
        return string.Create(name.Length, name, static (span, source) =>
        {
            var previousIsLetter = false;
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = previousIsLetter ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c);
                previousIsLetter = char.IsLetter(c);
            }
        });
    }
}

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Nimbus.Platform.Errors;
using Nimbus.Platform.Logging;

namespace Nimbus.Platform.Http;

/// <summary>
/// Turns exceptions into fault bodies — the only place REST handlers' errors become HTTP — and
/// gives bodiless 4xx/5xx answers from routing (no such route, wrong method) the same shape.
/// </summary>
internal sealed class FaultMiddleware(RequestDelegate next, ILogger<FaultMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (NimbusException ex) when (!context.Response.HasStarted)
        {
            var status = ErrorMapping.HttpStatus(ex.Kind);
            PlatformLog.RequestRefused(logger, status, ex.Code, ex.Message);
            context.Response.Clear();
            context.Response.Headers[ErrorMapping.ErrorCodeHeader] = ex.Code;
            await FaultWriter.WriteAsync(context, ex.Kind, ex.Message, context.RequestAborted);
            return;
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            context.Response.Clear();
            context.Response.Headers[ErrorMapping.ErrorCodeHeader] = "api.bad_request";
            await FaultWriter.WriteAsync(context, ex.StatusCode, ErrorMapping.FaultName(ErrorMapping.KindForStatus(ex.StatusCode)), ex.Message, context.RequestAborted);
            return;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
            return;
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            PlatformLog.UnhandledError(logger, context.Request.Method, context.Request.Path, ex);
            context.Response.Clear();
            context.Response.Headers[ErrorMapping.ErrorCodeHeader] = "api.internal_error";
            await FaultWriter.WriteAsync(context, ErrorKind.Internal, FaultWriter.InternalErrorMessage, context.RequestAborted);
            return;
        }

        if (context.Response.StatusCode >= 400 && !context.Response.HasStarted && context.Response.ContentLength is null or 0 && context.Response.ContentType is null)
        {
            var status = context.Response.StatusCode;
            var message = status switch
            {
                404 => "The resource could not be found.",
                405 => $"The method {context.Request.Method} is not allowed for this resource.",
                _ => ReasonPhrases.GetReasonPhrase(status),
            };
            var faultName = status == 405 ? "badMethod" : ErrorMapping.FaultName(ErrorMapping.KindForStatus(status));
            if (status is 404 or 405)
            {
                context.Response.Headers[ErrorMapping.ErrorCodeHeader] = status == 404 ? "api.no_route" : "api.bad_method";
            }

            await FaultWriter.WriteAsync(context, status, faultName, message, context.RequestAborted);
        }
    }
}

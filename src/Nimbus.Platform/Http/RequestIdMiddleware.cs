using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Nimbus.Platform.Logging;

namespace Nimbus.Platform.Http;

/// <summary>
/// Gives every request an id <c>req-&lt;uuid&gt;</c>, returns it in <c>x-openstack-request-id</c> and
/// puts it in the logging scope. A well-formed inbound id is kept as the global request id, as
/// oslo.middleware's request_id filter does; anything else a caller sends is ignored.
/// </summary>
internal sealed partial class RequestIdMiddleware(RequestDelegate next, ILogger<RequestIdMiddleware> logger)
{
    public const string HeaderName = "x-openstack-request-id";

    public async Task InvokeAsync(HttpContext context)
    {
        var requestId = NewRequestId();
        string? globalRequestId = null;
        if (context.Request.Headers.TryGetValue(HeaderName, out var inbound) && inbound.Count == 1 && WellFormed().IsMatch(inbound[0]!))
        {
            globalRequestId = inbound[0];
            PlatformLog.GlobalRequestId(logger, globalRequestId!);
        }

        context.TraceIdentifier = requestId;
        context.Features.Set(new RequestContext(requestId, globalRequestId));
        context.Response.Headers[HeaderName] = requestId;

        using (logger.BeginScope(new RequestScope(requestId, globalRequestId)))
        {
            await next(context);
        }
    }

    public static string NewRequestId() => "req-" + Guid.NewGuid().ToString("D");

    [GeneratedRegex("^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", RegexOptions.CultureInvariant)]
    private static partial Regex WellFormed();

    /// <summary>Structured scope: log sinks see RequestId and GlobalRequestId as fields, not text.</summary>
    private sealed class RequestScope(string requestId, string? globalRequestId) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 2;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("RequestId", requestId),
            1 => new("GlobalRequestId", globalRequestId),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
            yield return this[1];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => requestId;
    }
}

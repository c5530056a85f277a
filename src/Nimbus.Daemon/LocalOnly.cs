namespace Nimbus.Daemon;

/// <summary>
/// Keeps an unauthenticated local API on the unix socket: over TCP its routes do not exist (404).
/// Kestrel gives every TCP connection a local IP address and unix-socket connections none.
/// </summary>
internal static class LocalOnly
{
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (context.HttpContext.Connection.LocalIpAddress is not null)
        {
            return Results.NotFound();
        }

        return await next(context);
    }
}

using Microsoft.AspNetCore.Http;

namespace Nimbus.Objects.Proxy;

/// <summary>
/// What the proxy pipeline knows about one request, as Swift's WSGI environ carries it between
/// middlewares: the parsed path, who is asking, and the authorization callback the auth
/// middleware installs (Swift's <c>swift.authorize</c>), which controllers call once they know the
/// container's ACLs.
/// </summary>
public sealed class SwiftContext
{
    private static readonly object ItemKey = new();

    public required string Version { get; init; }

    public required string Account { get; init; }

    public string? Container { get; init; }

    public string? ObjectName { get; init; }

    /// <summary>The authenticated identity, when a token was presented and valid.</summary>
    public SwiftIdentity? Identity { get; set; }

    /// <summary>Swift's swift.authorize: returns the status to refuse with, or null to allow.</summary>
    public Func<HttpContext, SwiftContext, AccessControl, int?>? Authorize { get; set; }

    /// <summary>Set when a middleware (TempURL, FormPost) has already authorized the request.</summary>
    public bool Authorized { get; set; }

    public static SwiftContext? Get(HttpContext context) => context.Items.TryGetValue(ItemKey, out var value) ? value as SwiftContext : null;

    public static void Set(HttpContext context, SwiftContext swift) => context.Items[ItemKey] = swift;

    /// <summary>Runs the installed authorization for a request on <paramref name="acl"/>; null when allowed.</summary>
    public int? Check(HttpContext context, AccessControl acl)
    {
        if (Authorized)
        {
            return null;
        }

        return Authorize is null ? StatusCodes.Status401Unauthorized : Authorize(context, this, acl);
    }
}

/// <summary>Who made a request: the user, the account it belongs to, and its groups (".admin", ".reseller_admin").</summary>
public sealed record SwiftIdentity(string User, string Account, IReadOnlySet<string> Groups)
{
    public bool IsResellerAdmin => Groups.Contains(".reseller_admin");

    public bool IsAdmin => Groups.Contains(".admin") || IsResellerAdmin;
}

/// <summary>The container ACLs a request is judged against (X-Container-Read / X-Container-Write).</summary>
public sealed record AccessControl(string? Read, string? Write)
{
    public static AccessControl None { get; } = new(null, null);
}

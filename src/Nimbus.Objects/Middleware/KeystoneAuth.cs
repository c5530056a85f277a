using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Proxy;
using Nimbus.Platform.Auth;

namespace Nimbus.Objects.Middleware;

/// <summary>Which Identity roles keystoneauth trusts with what (Swift's keystoneauth options).</summary>
public sealed record KeystoneAuthSettings
{
    public string ResellerPrefix { get; init; } = "AUTH_";

    /// <summary>Roles that own their project's account: every request on it but creating or deleting the account.</summary>
    public IReadOnlyList<string> OperatorRoles { get; init; } = ["admin", "member"];

    /// <summary>Roles that may read their project's account (GET and HEAD).</summary>
    public IReadOnlyList<string> ReaderRoles { get; init; } = ["reader"];

    /// <summary>Roles that may do anything on any account.</summary>
    public IReadOnlyList<string> ResellerAdminRoles { get; init; } = ["ResellerAdmin"];
}

/// <summary>
/// Swift's authtoken + keystoneauth pair: Identity tokens (X-Auth-Token) are accepted on the
/// account <c>AUTH_&lt;project_id&gt;</c> of the token's project, as the catalog's object-store
/// endpoint names it. Container ACLs take keystoneauth's <c>project:user</c> form (ids or names,
/// <c>*</c> for any). Tokens tempauth already accepted are left to it.
/// </summary>
public sealed class KeystoneAuth : IProxyMiddleware
{
    private readonly KeystoneAuthSettings _settings;
    private readonly ITokenValidator? _validator;

    public KeystoneAuth(KeystoneAuthSettings settings, ITokenValidator? validator, SwiftInfo info)
    {
        _settings = settings;
        _validator = validator;
        info.Register("keystoneauth", new JsonObject());
    }

    public string Name => "keystoneauth";

    public async Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        var swift = SwiftContext.Get(context);
        if (swift is not null && swift.Identity is null && _validator is not null)
        {
            var token = context.Request.Headers["X-Auth-Token"].ToString();
            if (token.Length == 0)
            {
                token = context.Request.Headers["X-Storage-Token"].ToString();
            }

            if (token.Length > 0 && await _validator.ValidateAsync(token, context.RequestAborted) is { } caller)
            {
                swift.Identity = new SwiftIdentity(caller.UserId, _settings.ResellerPrefix + (caller.ProjectId ?? string.Empty), GroupsOf(caller));
                swift.Authorize = (http, request, acl) => Authorize(http, request, acl, caller);
            }
            else if (token.Length > 0 && swift.Authorize is null)
            {
                swift.Authorize = static (_, _, _) => StatusCodes.Status401Unauthorized;
            }
        }

        await downstream(context);
    }

    private HashSet<string> GroupsOf(AuthContext caller)
    {
        var groups = new HashSet<string>(StringComparer.Ordinal);
        if (caller.Roles.Any(r => _settings.ResellerAdminRoles.Contains(r, StringComparer.OrdinalIgnoreCase)))
        {
            groups.Add(".reseller_admin");
        }

        return groups;
    }

    /// <summary>keystoneauth's _authorize: reseller admins, then the project's own account by role, then container ACLs.</summary>
    private int? Authorize(HttpContext context, SwiftContext swift, AccessControl acl, AuthContext caller)
    {
        if (swift.Identity is { IsResellerAdmin: true })
        {
            return null;
        }

        var method = context.Request.Method;
        var reading = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        var ownAccount = caller.ProjectId is not null
            && string.Equals(swift.Account, _settings.ResellerPrefix + caller.ProjectId, StringComparison.Ordinal);
        if (ownAccount)
        {
            var accountChange = swift.Container is null && (HttpMethods.IsPut(method) || HttpMethods.IsDelete(method));
            if (!accountChange && caller.Roles.Any(r => _settings.OperatorRoles.Contains(r, StringComparer.OrdinalIgnoreCase)))
            {
                return null;
            }

            if (reading && caller.Roles.Any(r => _settings.ReaderRoles.Contains(r, StringComparer.OrdinalIgnoreCase)))
            {
                return null;
            }
        }

        var (referrers, groups) = ContainerAcl.Parse(reading ? acl.Read : acl.Write);
        if (reading && ContainerAcl.ReferrerAllowed(context.Request.Headers.Referer.ToString(), referrers))
        {
            return swift.ObjectName is not null || groups.Contains(".rlistings") ? null : StatusCodes.Status403Forbidden;
        }

        if (swift.Container is not null && groups.Any(g => AclGrants(g, caller)))
        {
            return null;
        }

        return StatusCodes.Status403Forbidden;
    }

    /// <summary>An ACL entry "project:user" by id or name, either side may be "*".</summary>
    private static bool AclGrants(string entry, AuthContext caller)
    {
        var colon = entry.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }

        var project = entry[..colon];
        var user = entry[(colon + 1)..];
        var projectMatches = project == "*" || project == caller.ProjectId || (caller.ProjectName is not null && project == caller.ProjectName);
        var userMatches = user == "*" || user == caller.UserId || user == caller.UserName;
        return projectMatches && userMatches;
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Http;
using Nimbus.Objects.Proxy;

namespace Nimbus.Objects.Middleware;

/// <summary>A tempauth user: "account:user" with a key and groups (".admin", ".reseller_admin").</summary>
public sealed record TempAuthUser(string Account, string User, string Key, IReadOnlyList<string> Groups);

public sealed record TempAuthSettings(IReadOnlyList<TempAuthUser> Users, byte[] SigningKey)
{
    public string ResellerPrefix { get; init; } = "AUTH_";

    public TimeSpan TokenLife { get; init; } = TimeSpan.FromDays(1);
}

/// <summary>
/// Swift's tempauth: v1 authentication (GET /auth/v1.0 with X-Auth-User and X-Auth-Key) and
/// authorization of every request by account ownership and container ACLs. Tokens are signed
/// (HMAC-SHA256), so any proxy holding the key validates them with no shared token store.
/// </summary>
public sealed class TempAuth : IProxyMiddleware
{
    private const string TokenPrefix = "tk";

    private readonly TempAuthSettings _settings;
    private readonly TimeProvider _time;
    private Dictionary<string, TempAuthUser> _users;

    public TempAuth(TempAuthSettings settings, TimeProvider time, SwiftInfo info)
    {
        _settings = settings;
        _time = time;
        _users = settings.Users.ToDictionary(u => $"{u.Account}:{u.User}", StringComparer.Ordinal);
        info.Register("tempauth", new JsonObject { ["account_acls"] = false });
    }

    public string Name => "tempauth";

    /// <summary>Serves <paramref name="users"/> from the next request on (users added, removed or given new keys while running).</summary>
    public void UseUsers(IReadOnlyList<TempAuthUser> users)
    {
        ArgumentNullException.ThrowIfNull(users);
        Volatile.Write(ref _users, users.ToDictionary(u => $"{u.Account}:{u.User}", StringComparer.Ordinal));
    }

    public Task InvokeAsync(HttpContext context, RequestDelegate downstream)
    {
        var path = SwiftPath.RawPath(context);
        if (path == "/auth" || path.StartsWith("/auth/", StringComparison.Ordinal))
        {
            return AuthenticateAsync(context);
        }

        var swift = SwiftContext.Get(context);
        if (swift is null)
        {
            return downstream(context);
        }

        var token = context.Request.Headers["X-Auth-Token"].ToString();
        if (token.Length == 0)
        {
            token = context.Request.Headers["X-Storage-Token"].ToString();
        }

        if (token.Length > 0 && token.StartsWith(_settings.ResellerPrefix, StringComparison.Ordinal))
        {
            swift.Identity = ValidateToken(token);
            swift.Authorize = swift.Identity is null ? Denied : Authorize;
        }
        else if (token.Length == 0 && swift.Authorize is null)
        {
            // Anonymous: container ACLs (".r:*") may still allow it.
            swift.Authorize = Authorize;
        }

        return downstream(context);
    }

    /// <summary>GET /auth/v1.0 (also /auth/v1 and /v1.0): a token and the storage URL for a user's key.</summary>
    private async Task AuthenticateAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method))
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed);
            return;
        }

        if (SwiftPath.RawPath(context) is not ("/auth/v1.0" or "/auth/v1" or "/auth/v1.0/" or "/auth/v1/"))
        {
            await SwiftResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "Invalid auth path; use /auth/v1.0");
            return;
        }

        var name = FirstHeader(request, "X-Auth-User", "X-Storage-User");
        var key = FirstHeader(request, "X-Auth-Key", "X-Storage-Pass");
        if (name.Length == 0 || key.Length == 0 || !name.Contains(':', StringComparison.Ordinal))
        {
            context.Response.Headers.WWWAuthenticate = "Swift realm=\"unknown\"";
            await SwiftResponse.WriteAsync(context, StatusCodes.Status401Unauthorized);
            return;
        }

        if (!Volatile.Read(ref _users).TryGetValue(name, out var user)
            || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(user.Key), Encoding.UTF8.GetBytes(key)))
        {
            context.Response.Headers.WWWAuthenticate = Realm(_settings.ResellerPrefix + name.Split(':')[0]);
            await SwiftResponse.WriteAsync(context, StatusCodes.Status401Unauthorized);
            return;
        }

        var expires = _time.GetUtcNow() + _settings.TokenLife;
        var token = IssueToken(user, expires);
        var headers = context.Response.Headers;
        headers["X-Auth-Token"] = token;
        headers["X-Storage-Token"] = token;
        headers["X-Auth-Token-Expires"] = ((long)_settings.TokenLife.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        headers["X-Storage-Url"] = $"{request.Scheme}://{request.Host}/v1/{SwiftPath.Encode(_settings.ResellerPrefix + user.Account)}";
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentLength = 0;
    }

    private static string FirstHeader(HttpRequest request, string name, string alternative)
    {
        var value = request.Headers[name].ToString();
        return value.Length > 0 ? value : request.Headers[alternative].ToString();
    }

    /// <summary>tempauth's groups: "account", "account:user", the configured groups, and AUTH_account for an admin.</summary>
    private HashSet<string> GroupsOf(TempAuthUser user)
    {
        var groups = new HashSet<string>(StringComparer.Ordinal) { user.Account, $"{user.Account}:{user.User}" };
        groups.UnionWith(user.Groups);
        if (groups.Remove(".admin"))
        {
            groups.Add(".admin");
            groups.Add(_settings.ResellerPrefix + user.Account);
        }

        return groups;
    }

    internal string IssueToken(TempAuthUser user, DateTimeOffset expires)
    {
        var payload = Encoding.UTF8.GetBytes($"{expires.ToUnixTimeSeconds()}\n{user.Account}\n{user.User}");
        var signature = HMACSHA256.HashData(_settings.SigningKey, payload);
        return $"{_settings.ResellerPrefix}{TokenPrefix}{Base64Url(payload)}.{Base64Url(signature)}";
    }

    internal SwiftIdentity? ValidateToken(string token)
    {
        var body = token.AsSpan(_settings.ResellerPrefix.Length);
        if (!body.StartsWith(TokenPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        body = body[TokenPrefix.Length..];
        var dot = body.IndexOf('.');
        if (dot < 0)
        {
            return null;
        }

        byte[] payload;
        byte[] signature;
        try
        {
            payload = FromBase64Url(body[..dot].ToString());
            signature = FromBase64Url(body[(dot + 1)..].ToString());
        }
        catch (FormatException)
        {
            return null;
        }

        if (!CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(_settings.SigningKey, payload), signature))
        {
            return null;
        }

        var fields = Encoding.UTF8.GetString(payload).Split('\n');
        if (fields.Length != 3 || !long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || expires <= _time.GetUtcNow().ToUnixTimeSeconds()
            || !Volatile.Read(ref _users).TryGetValue($"{fields[1]}:{fields[2]}", out var user))
        {
            // Expired, or the user was removed since the token was issued.
            return null;
        }

        return new SwiftIdentity(user.User, user.Account, GroupsOf(user));
    }

    /// <summary>tempauth's denied_response: 401 with a Swift realm challenge for the anonymous, 403 for a known user.</summary>
    private static int? Denied(HttpContext context, SwiftContext swift, AccessControl acl)
    {
        if (swift.Identity is not null)
        {
            return StatusCodes.Status403Forbidden;
        }

        context.Response.Headers.WWWAuthenticate = Realm(swift.Account);
        return StatusCodes.Status401Unauthorized;
    }

    /// <summary>tempauth's authorize: reseller admins anywhere, account owners in their account, others by container ACL.</summary>
    private int? Authorize(HttpContext context, SwiftContext swift, AccessControl acl)
    {
        if (!swift.Account.StartsWith(_settings.ResellerPrefix, StringComparison.Ordinal))
        {
            return Denied(context, swift, acl);
        }

        var identity = swift.Identity;
        var method = context.Request.Method;
        if (identity is not null)
        {
            if (identity.IsResellerAdmin)
            {
                return null;
            }

            if (identity.Groups.Contains(swift.Account) && (swift.Container is not null || !(HttpMethods.IsPut(method) || HttpMethods.IsDelete(method))))
            {
                return null;
            }
        }

        var reading = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        var (referrers, groups) = ContainerAcl.Parse(reading ? acl.Read : acl.Write);
        if (reading && ContainerAcl.ReferrerAllowed(context.Request.Headers.Referer.ToString(), referrers))
        {
            return swift.ObjectName is not null || groups.Contains(".rlistings") ? null : Denied(context, swift, acl);
        }

        if (identity is not null && swift.Container is not null && identity.Groups.Any(groups.Contains))
        {
            return null;
        }

        return Denied(context, swift, acl);
    }

    /// <summary>
    /// The challenge naming an account, percent-encoded as Swift quotes it: the name comes from the
    /// caller, and a control character or quote in a header value would fail the response.
    /// </summary>
    private static string Realm(string account) => $"Swift realm=\"{SwiftPath.Encode(account)}\"";

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - (padded.Length % 4)) % 4);
        return Convert.FromBase64String(padded);
    }
}

/// <summary>Swift's container ACL syntax (swift/common/middleware/acl.py): ".r:" referrer rules and group names.</summary>
public static class ContainerAcl
{
    public static (IReadOnlyList<string> Referrers, IReadOnlySet<string> Groups) Parse(string? acl)
    {
        var referrers = new List<string>();
        var groups = new HashSet<string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(acl))
        {
            return (referrers, groups);
        }

        foreach (var raw in acl.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (raw.StartsWith(".r:", StringComparison.Ordinal) || raw.StartsWith(".ref:", StringComparison.Ordinal)
                || raw.StartsWith(".referer:", StringComparison.Ordinal) || raw.StartsWith(".referrer:", StringComparison.Ordinal))
            {
                var value = raw[(raw.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                var negated = value.StartsWith('-');
                var host = negated ? value[1..] : value;
                if (host.StartsWith("*.", StringComparison.Ordinal))
                {
                    host = host[1..];
                }

                referrers.Add(negated ? "-" + host : host);
            }
            else
            {
                groups.Add(raw);
            }
        }

        return (referrers, groups);
    }

    /// <summary>Whether a request with this Referer passes the referrer rules; the last matching rule wins.</summary>
    public static bool ReferrerAllowed(string referer, IReadOnlyList<string> referrers)
    {
        if (referrers.Count == 0)
        {
            return false;
        }

        var host = Uri.TryCreate(referer, UriKind.Absolute, out var uri) ? uri.Host : "unknown";
        var allowed = false;
        foreach (var rule in referrers)
        {
            var negated = rule.StartsWith('-');
            var pattern = negated ? rule[1..] : rule;
            if (pattern == "*" || pattern == host || (pattern.StartsWith('.') && host.EndsWith(pattern, StringComparison.OrdinalIgnoreCase)))
            {
                allowed = !negated;
            }
        }

        return allowed;
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Nimbus.Platform.Errors;

namespace Nimbus.Platform.Auth;

/// <summary>
/// The token check every service on the API host shares, as keystonemiddleware's auth_token is
/// for OpenStack: endpoints that need a caller ask for <see cref="RequireToken{TBuilder}"/>, and
/// handlers read the caller with <see cref="Caller"/>.
/// </summary>
public static class TokenAuthentication
{
    public const string TokenHeader = "X-Auth-Token";

    /// <summary>Keystone's words for a request without a usable token.</summary>
    public const string AuthenticationRequiredMessage = "The request you have made requires authentication.";

    private static readonly object CallerKey = new();

    /// <summary>Refuses requests to these endpoints that carry no valid token, with 401 and <c>WWW-Authenticate</c>.</summary>
    public static TBuilder RequireToken<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (invocation, next) =>
        {
            await AuthenticateAsync(invocation.HttpContext);
            return await next(invocation);
        });
        return builder;
    }

    /// <summary>Validates the request's token once and remembers the caller; throws 401 when there is none.</summary>
    public static async ValueTask<AuthContext> AuthenticateAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(CallerKey, out var known) && known is AuthContext caller)
        {
            return caller;
        }

        var token = context.Request.Headers[TokenHeader].ToString();
        var validator = context.RequestServices.GetService<ITokenValidator>();
        if (token.Length == 0 || validator is null)
        {
            throw new UnauthorizedException("auth.token_required", AuthenticationRequiredMessage);
        }

        var validated = await validator.ValidateAsync(token, context.RequestAborted)
            ?? throw new UnauthorizedException("auth.token_invalid", $"{AuthenticationRequiredMessage} The token is not valid: it may have expired or been revoked; request a new one with `openstack token issue`.");
        context.Items[CallerKey] = validated;
        return validated;
    }

    /// <summary>The caller of an endpoint guarded by <see cref="RequireToken{TBuilder}"/>.</summary>
    public static AuthContext Caller(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items.TryGetValue(CallerKey, out var caller) && caller is AuthContext auth
            ? auth
            : throw new UnauthorizedException("auth.token_required", AuthenticationRequiredMessage);
    }
}

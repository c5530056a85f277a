using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Nimbus.Identity.Authentication;
using Nimbus.Identity.Policy;
using Nimbus.Identity.Resources;
using Nimbus.Identity.Tokens;
using Nimbus.Platform.Auth;
using Nimbus.Platform.Errors;
using Nimbus.Platform.Http;

namespace Nimbus.Identity.Api;

/// <summary>
/// The Keystone v3 API under /identity (api-ref identity v3). Handlers parse requests into typed
/// calls on <see cref="IdentityDirectory"/> and <see cref="Authenticator"/>, check
/// <see cref="IdentityPolicy"/> once, and write Keystone's bodies.
/// </summary>
internal static partial class IdentityApi
{
    public const string SubjectTokenHeader = "X-Subject-Token";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var identity = endpoints.MapGroup("/identity").WithFaultStyle(FaultStyle.Identity);
        identity.MapGet("/", Versions);
        identity.MapGet("/v3", Version);
        identity.MapPost("/v3/auth/tokens", IssueTokenAsync);

        var v3 = identity.MapGroup("/v3").RequireToken();
        v3.MapGet("/auth/tokens", ValidateTokenAsync);
        v3.MapMethods("/auth/tokens", ["HEAD"], CheckToken);
        v3.MapDelete("/auth/tokens", RevokeTokenAsync);
        v3.MapGet("/auth/catalog", AuthCatalogAsync);
        v3.MapGet("/auth/projects", AuthProjectsAsync);
        v3.MapGet("/auth/domains", AuthDomainsAsync);
        MapDirectory(v3);
        MapRoles(v3);
        MapCatalog(v3);
        MapCredentials(v3);
    }

    // ---- Version discovery (api-ref "Versions") -----------------------------------------

    private static JsonObject VersionBody(HttpContext context) => new()
    {
        ["id"] = "v3.14",
        ["status"] = "stable",
        ["updated"] = "2020-04-07T00:00:00Z",
        ["links"] = new JsonArray(new JsonObject { ["rel"] = "self", ["href"] = IdentityJson.V3Base(context) + "/" }),
        ["media-types"] = new JsonArray(new JsonObject { ["base"] = "application/json", ["type"] = "application/vnd.openstack.identity-v3+json" }),
    };

    private static IResult Versions(HttpContext context) =>
        IdentityJson.Ok(new JsonObject { ["versions"] = new JsonObject { ["values"] = new JsonArray(VersionBody(context)) } }, StatusCodes.Status300MultipleChoices);

    private static IResult Version(HttpContext context) => IdentityJson.Ok(new JsonObject { ["version"] = VersionBody(context) });

    // ---- Tokens --------------------------------------------------------------------------

    private static async Task<IResult> IssueTokenAsync(HttpContext context, Authenticator authenticator, TokenService tokens, IdentityDirectory directory)
    {
        var auth = await RequestBody.ReadAsync(context, "auth");
        var request = ParseAuth(auth, out var subjectToken);
        var subject = subjectToken is null ? null : tokens.Validate(subjectToken);
        var payload = await authenticator.AuthenticateAsync(request, subject, context.RequestAborted);
        var token = tokens.Issue(payload);
        context.Response.Headers[SubjectTokenHeader] = token;
        var withCatalog = RequestBody.QueryBool(context, "nocatalog") != true;
        return IdentityJson.Ok(await TokenBodyAsync(directory, payload, withCatalog, context.RequestAborted), StatusCodes.Status201Created);
    }

    private static async Task<IResult> ValidateTokenAsync(HttpContext context, TokenService tokens, IdentityDirectory directory)
    {
        var payload = SubjectToken(context, tokens, "identity:validate_token");
        context.Response.Headers[SubjectTokenHeader] = context.Request.Headers[SubjectTokenHeader].ToString();
        var withCatalog = RequestBody.QueryBool(context, "nocatalog") != true;
        return IdentityJson.Ok(await TokenBodyAsync(directory, payload, withCatalog, context.RequestAborted));
    }

    private static IResult CheckToken(HttpContext context, TokenService tokens)
    {
        _ = SubjectToken(context, tokens, "identity:check_token");
        context.Response.Headers[SubjectTokenHeader] = context.Request.Headers[SubjectTokenHeader].ToString();
        return Results.Ok();
    }

    private static async Task<IResult> RevokeTokenAsync(HttpContext context, TokenService tokens, TimeProvider clock)
    {
        var payload = SubjectToken(context, tokens, "identity:revoke_token");
        var now = clock.GetUtcNow();
        await tokens.RevokeAsync(new RevocationEvent { AuditId = payload.AuditId, IssuedBefore = now, RevokedAt = now }, context.RequestAborted);
        return Results.NoContent();
    }

    private static TokenPayload SubjectToken(HttpContext context, TokenService tokens, string action)
    {
        var caller = context.Caller();
        var subject = context.Request.Headers[SubjectTokenHeader].ToString();
        if (subject.Length == 0)
        {
            throw IdentityErrors.Missing(SubjectTokenHeader, "the request headers");
        }

        var payload = tokens.Validate(subject);
        // Whether a token exists is the caller's business only when it is theirs or they are admin.
        IdentityPolicy.Table.Enforce(caller, action, new PolicyTarget(UserId: payload?.UserId ?? caller.UserId));
        return payload ?? throw new NotFoundException("identity.token_not_found", "Failed to validate token");
    }

    private static async Task<IResult> AuthCatalogAsync(HttpContext context, IdentityDirectory directory)
    {
        var caller = Enforce(context, "identity:get_auth_catalog");
        var catalog = await directory.CatalogAsync(context.RequestAborted);
        return IdentityJson.Ok(new JsonObject { ["catalog"] = IdentityJson.Catalog(catalog, caller.ProjectId), ["links"] = IdentityJson.ListLinks(context) });
    }

    private static async Task<IResult> AuthProjectsAsync(HttpContext context, IdentityDirectory directory)
    {
        var caller = Enforce(context, "identity:get_auth_projects");
        var projects = await directory.ListUserProjectsAsync(caller.UserId, context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "projects", projects.Where(p => p.Enabled).Select(p => IdentityJson.Project(context, p))));
    }

    private static async Task<IResult> AuthDomainsAsync(HttpContext context, IdentityDirectory directory)
    {
        var caller = Enforce(context, "identity:get_auth_domains");
        var domains = await directory.ListUserDomainsAsync(caller.UserId, context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "domains", domains.Where(d => d.Enabled).Select(d => IdentityJson.Domain(context, d))));
    }

    /// <summary>Keystone's token body (api-ref "Password authentication with scoped authorization").</summary>
    private static async Task<JsonObject> TokenBodyAsync(IdentityDirectory directory, TokenPayload payload, bool withCatalog, CancellationToken cancellationToken)
    {
        var methods = new JsonArray();
        foreach (var (flag, name) in new[] { (TokenMethods.Password, "password"), (TokenMethods.Token, "token"), (TokenMethods.ApplicationCredential, "application_credential") })
        {
            if (payload.Methods.HasFlag(flag))
            {
                methods.Add(name);
            }
        }

        var audit = new JsonArray(payload.AuditId);
        if (payload.ParentAuditId is not null)
        {
            audit.Add(payload.ParentAuditId);
        }

        var token = new JsonObject
        {
            ["methods"] = methods,
            ["user"] = new JsonObject
            {
                ["id"] = payload.UserId,
                ["name"] = payload.UserName,
                ["domain"] = new JsonObject { ["id"] = payload.UserDomainId, ["name"] = payload.UserDomainName },
                ["password_expires_at"] = null,
            },
            ["audit_ids"] = audit,
            ["expires_at"] = IdentityJson.Time(payload.ExpiresAt),
            ["issued_at"] = IdentityJson.Time(payload.IssuedAt),
        };
        if (payload.ProjectId is not null)
        {
            token["project"] = new JsonObject
            {
                ["id"] = payload.ProjectId,
                ["name"] = payload.ProjectName,
                ["domain"] = new JsonObject { ["id"] = payload.ProjectDomainId, ["name"] = payload.ProjectDomainName },
            };
            token["is_domain"] = false;
        }
        else if (payload.DomainId is not null)
        {
            token["domain"] = new JsonObject { ["id"] = payload.DomainId, ["name"] = payload.DomainName };
        }

        if (payload.ProjectId is not null || payload.DomainId is not null)
        {
            token["roles"] = new JsonArray([.. payload.Roles.Select(r => (JsonNode)new JsonObject { ["id"] = r.Id, ["name"] = r.Name })]);
        }

        if (payload.ApplicationCredentialId is not null)
        {
            var credential = await directory.FindApplicationCredentialAsync(payload.ApplicationCredentialId, cancellationToken);
            token["application_credential"] = new JsonObject
            {
                ["id"] = payload.ApplicationCredentialId,
                ["name"] = credential?.Name,
                ["restricted"] = credential is not { Unrestricted: true },
            };
        }

        if (withCatalog && (payload.ProjectId is not null || payload.DomainId is not null))
        {
            token["catalog"] = IdentityJson.Catalog(await directory.CatalogAsync(cancellationToken), payload.ProjectId);
        }

        return new JsonObject { ["token"] = token };
    }

    private static AuthRequest ParseAuth(JsonObject auth, out string? subjectToken)
    {
        var identity = auth["identity"] as JsonObject ?? throw IdentityErrors.Missing("identity", "auth");
        var methods = identity["methods"] as JsonArray ?? throw IdentityErrors.Missing("methods", "identity");
        var methodNames = methods.Select(m => m is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw IdentityErrors.Invalid("methods", "must be a list of strings.")).ToList();

        PasswordCredentials? password = null;
        if (identity["password"] is JsonObject passwordNode)
        {
            var user = passwordNode["user"] as JsonObject ?? throw IdentityErrors.Missing("user", "password");
            var domain = user["domain"] as JsonObject;
            password = new PasswordCredentials(
                RequestBody.String(user, "id"),
                RequestBody.String(user, "name"),
                domain is null ? null : RequestBody.String(domain, "id"),
                domain is null ? null : RequestBody.String(domain, "name"),
                RequestBody.String(user, "password") ?? throw IdentityErrors.Missing("password", "user"));
        }

        subjectToken = identity["token"] is JsonObject tokenNode ? RequestBody.String(tokenNode, "id") : null;

        ApplicationCredentialCredentials? credential = null;
        if (identity["application_credential"] is JsonObject credentialNode)
        {
            var user = credentialNode["user"] as JsonObject;
            var domain = user?["domain"] as JsonObject;
            credential = new ApplicationCredentialCredentials(
                RequestBody.String(credentialNode, "id"),
                RequestBody.String(credentialNode, "name"),
                user is null ? null : RequestBody.String(user, "id"),
                user is null ? null : RequestBody.String(user, "name"),
                domain is null ? null : RequestBody.String(domain, "id"),
                domain is null ? null : RequestBody.String(domain, "name"),
                RequestBody.String(credentialNode, "secret") ?? throw IdentityErrors.Missing("secret", "application_credential"));
        }

        AuthScope? scope = null;
        var unscoped = false;
        switch (auth["scope"])
        {
            case JsonValue value when value.TryGetValue<string>(out var text) && text == "unscoped":
                unscoped = true;
                break;
            case JsonObject scopeNode when scopeNode["project"] is JsonObject project:
                var projectDomain = project["domain"] as JsonObject;
                scope = new AuthScope(
                    RequestBody.String(project, "id"),
                    RequestBody.String(project, "name"),
                    projectDomain is null ? null : RequestBody.String(projectDomain, "id"),
                    projectDomain is null ? null : RequestBody.String(projectDomain, "name"),
                    null,
                    null);
                if (scope.ProjectId is null && scope.ProjectName is null)
                {
                    throw IdentityErrors.Missing("id or name", "project");
                }

                break;
            case JsonObject scopeNode when scopeNode["domain"] is JsonObject domain:
                scope = new AuthScope(null, null, null, null, RequestBody.String(domain, "id"), RequestBody.String(domain, "name"));
                if (scope.DomainId is null && scope.DomainName is null)
                {
                    throw IdentityErrors.Missing("id or name", "domain");
                }

                break;
            case JsonObject scopeNode when scopeNode["system"] is not null:
                throw new UnsupportedException("identity.system_scope", "System-scoped tokens are not supported; scope the token to a project or domain.");
            case null:
                break;
            default:
                throw IdentityErrors.Invalid("scope", "must name a project or a domain, or be \"unscoped\".");
        }

        return new AuthRequest
        {
            Methods = methodNames,
            Password = password,
            Token = subjectToken,
            ApplicationCredential = credential,
            Scope = scope,
            ExplicitlyUnscoped = unscoped,
        };
    }

    // ---- Shared --------------------------------------------------------------------------

    /// <summary>The one policy check of a request.</summary>
    private static AuthContext Enforce(HttpContext context, string action, PolicyTarget? target = null)
    {
        var caller = context.Caller();
        IdentityPolicy.Table.Enforce(caller, action, target);
        return caller;
    }

    /// <summary>Where a new user, group or project goes when the request names no domain: the caller's.</summary>
    private static string DefaultDomain(AuthContext caller) => caller.DomainId ?? caller.ProjectDomainId ?? IdentityDirectory.DefaultDomainId;
}

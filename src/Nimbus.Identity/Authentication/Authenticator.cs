using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Nimbus.Identity.Resources;
using Nimbus.Identity.Tokens;
using Nimbus.Platform.Errors;

namespace Nimbus.Identity.Authentication;

/// <summary>
/// Decides POST /v3/auth/tokens: proves who the caller is by each method, resolves the scope, checks
/// that the user, project and their domains are enabled and that the user holds a role on the
/// scope, and returns what the token will say. Every refusal is Keystone's plain 401.
/// </summary>
internal sealed class Authenticator
{
    private readonly IdentityDirectory _directory;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _lifetime;
    private readonly ILogger _logger;

    public Authenticator(IdentityDirectory directory, TimeProvider clock, IdentitySettings settings, ILogger<Authenticator> logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _directory = directory;
        _clock = clock;
        _lifetime = settings.TokenLifetime;
        _logger = logger;
    }

    /// <summary>Authenticates <paramref name="request"/>; <paramref name="subject"/> is the validated payload of the token a <c>token</c> method rescopes.</summary>
    public async Task<TokenPayload> AuthenticateAsync(AuthRequest request, TokenPayload? subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Methods.Count == 0)
        {
            throw IdentityErrors.Invalid("methods", "at least one authentication method is required.");
        }

        var now = _clock.GetUtcNow();
        var methods = TokenMethods.None;
        User? user = null;
        ApplicationCredential? credential = null;
        var expiresAt = now + _lifetime;
        string? parentAuditId = null;
        foreach (var method in request.Methods.Distinct(StringComparer.Ordinal))
        {
            User proven;
            switch (method)
            {
                case "password":
                    proven = await ProvePasswordAsync(request.Password ?? throw IdentityErrors.Missing("password", "identity"), cancellationToken);
                    methods |= TokenMethods.Password;
                    break;
                case "token":
                    if (subject is null)
                    {
                        throw Refuse("token", "the token to rescope is not valid");
                    }

                    if (subject.ApplicationCredentialId is not null)
                    {
                        throw Refuse("token", "a token from an application credential cannot be rescoped");
                    }

                    proven = await _directory.FindUserAsync(subject.UserId, cancellationToken) ?? throw Refuse("token", "the token's user no longer exists");
                    methods |= TokenMethods.Token | subject.Methods;
                    // A rescoped token lives no longer than the one it came from.
                    expiresAt = subject.ExpiresAt < expiresAt ? subject.ExpiresAt : expiresAt;
                    parentAuditId = subject.ParentAuditId ?? subject.AuditId;
                    break;
                case "application_credential":
                    (proven, credential) = await ProveApplicationCredentialAsync(request.ApplicationCredential ?? throw IdentityErrors.Missing("application_credential", "identity"), now, cancellationToken);
                    methods |= TokenMethods.ApplicationCredential;
                    if (credential.ExpiresAt is { } credentialExpiry && credentialExpiry < expiresAt)
                    {
                        expiresAt = credentialExpiry;
                    }

                    break;
                default:
                    throw Refuse(method, "unsupported authentication method");
            }

            if (user is not null && user.Id != proven.Id)
            {
                throw Refuse(method, "methods name different users");
            }

            user = proven;
        }

        if (!user!.Enabled)
        {
            throw Refuse("user", $"user {user.Id} is disabled");
        }

        var userDomain = await _directory.FindDomainAsync(user.DomainId, cancellationToken);
        if (userDomain is null || !userDomain.Enabled)
        {
            throw Refuse("user", $"the domain of user {user.Id} is disabled");
        }

        var payload = new TokenPayload
        {
            UserId = user.Id,
            UserName = user.Name,
            UserDomainId = userDomain.Id,
            UserDomainName = userDomain.Name,
            Methods = methods,
            Roles = [],
            IssuedAt = now,
            ExpiresAt = expiresAt,
            AuditId = NewAuditId(),
            ParentAuditId = parentAuditId,
            ApplicationCredentialId = credential?.Id,
        };

        if (credential is not null)
        {
            // An application credential's token is always scoped to its project, with its roles.
            if (request.Scope is { } asked && (asked.DomainId is not null || asked.DomainName is not null || (asked.ProjectId is not null && asked.ProjectId != credential.ProjectId)))
            {
                throw Refuse("application_credential", "an application credential cannot be rescoped");
            }

            var project = await RequireEnabledProjectAsync(credential.ProjectId, cancellationToken);
            var current = await _directory.EffectiveRolesAsync(user.Id, TargetType.Project, project.Project.Id, cancellationToken);
            var kept = credential.Roles.SelectMany(r => Expand(r, current)).DistinctBy(r => r.Id).ToList();
            if (kept.Count == 0)
            {
                throw Refuse("application_credential", $"user {user.Id} no longer holds the credential's roles on project {credential.ProjectId}");
            }

            return Issued(payload with { ProjectId = project.Project.Id, ProjectName = project.Project.Name, ProjectDomainId = project.Domain.Id, ProjectDomainName = project.Domain.Name, Roles = ToTokenRoles(kept) });
        }

        if (request.Scope is { } scope)
        {
            return Issued(await ScopeAsync(payload, user, scope, cancellationToken));
        }

        if (!request.ExplicitlyUnscoped && subject?.ProjectId is null && subject?.DomainId is null && user.DefaultProjectId is { } defaultProject)
        {
            // Keystone scopes to the default project when it is usable, and quietly issues an unscoped token otherwise.
            var project = await _directory.FindProjectAsync(defaultProject, cancellationToken);
            var domain = project is null ? null : await _directory.FindDomainAsync(project.DomainId, cancellationToken);
            if (project is { Enabled: true } && domain is { Enabled: true })
            {
                var roles = await _directory.EffectiveRolesAsync(user.Id, TargetType.Project, project.Id, cancellationToken);
                if (!roles.IsEmpty)
                {
                    return Issued(payload with { ProjectId = project.Id, ProjectName = project.Name, ProjectDomainId = domain.Id, ProjectDomainName = domain.Name, Roles = ToTokenRoles(roles.Roles) });
                }
            }
        }

        return Issued(payload);
    }

    private async Task<TokenPayload> ScopeAsync(TokenPayload payload, User user, AuthScope scope, CancellationToken cancellationToken)
    {
        if (scope.IsProject)
        {
            string projectId;
            if (scope.ProjectId is not null)
            {
                projectId = scope.ProjectId;
            }
            else
            {
                var domain = await ResolveDomainAsync(scope.ProjectDomainId, scope.ProjectDomainName, "project", cancellationToken);
                projectId = (await _directory.FindProjectByNameAsync(scope.ProjectName!, domain.Id, cancellationToken))?.Id ?? throw Refuse("scope", $"no project {scope.ProjectName} in domain {domain.Id}");
            }

            var project = await RequireEnabledProjectAsync(projectId, cancellationToken);
            var roles = await _directory.EffectiveRolesAsync(user.Id, TargetType.Project, project.Project.Id, cancellationToken);
            if (roles.IsEmpty)
            {
                throw Refuse("scope", $"user {user.Id} has no role on project {project.Project.Id}");
            }

            return payload with { ProjectId = project.Project.Id, ProjectName = project.Project.Name, ProjectDomainId = project.Domain.Id, ProjectDomainName = project.Domain.Name, Roles = ToTokenRoles(roles.Roles) };
        }

        var target = await ResolveDomainAsync(scope.DomainId, scope.DomainName, "scope", cancellationToken);
        if (!target.Enabled)
        {
            throw Refuse("scope", $"domain {target.Id} is disabled");
        }

        var domainRoles = await _directory.EffectiveRolesAsync(user.Id, TargetType.Domain, target.Id, cancellationToken);
        if (domainRoles.IsEmpty)
        {
            throw Refuse("scope", $"user {user.Id} has no role on domain {target.Id}");
        }

        return payload with { DomainId = target.Id, DomainName = target.Name, Roles = ToTokenRoles(domainRoles.Roles) };
    }

    private async Task<User> ProvePasswordAsync(PasswordCredentials credentials, CancellationToken cancellationToken)
    {
        User? user;
        if (credentials.UserId is not null)
        {
            user = await _directory.FindUserAsync(credentials.UserId, cancellationToken);
        }
        else if (credentials.UserName is not null)
        {
            var domain = await ResolveDomainAsync(credentials.DomainId, credentials.DomainName, "user", cancellationToken);
            user = await _directory.FindUserByNameAsync(credentials.UserName, domain.Id, cancellationToken);
        }
        else
        {
            throw IdentityErrors.Missing("user", "password");
        }

        if (user is null)
        {
            // Hash anyway: a refusal that came back faster would tell which user names exist.
            _directory.CheckPasswordOfNobody(credentials.Password);
        }

        if (user is null || !await _directory.VerifyPasswordAsync(user.Id, credentials.Password, cancellationToken))
        {
            throw Refuse("password", "unknown user or wrong password");
        }

        return user;
    }

    private async Task<(User, ApplicationCredential)> ProveApplicationCredentialAsync(ApplicationCredentialCredentials credentials, DateTimeOffset now, CancellationToken cancellationToken)
    {
        string? userId = null;
        if (credentials.Id is null)
        {
            if (credentials.Name is null)
            {
                throw IdentityErrors.Missing("id or name", "application_credential");
            }

            if (credentials.UserId is not null)
            {
                userId = credentials.UserId;
            }
            else if (credentials.UserName is not null)
            {
                var domain = await ResolveDomainAsync(credentials.UserDomainId, credentials.UserDomainName, "user", cancellationToken);
                userId = (await _directory.FindUserByNameAsync(credentials.UserName, domain.Id, cancellationToken))?.Id ?? throw Refuse("application_credential", "unknown user");
            }
            else
            {
                throw IdentityErrors.Missing("user", "application_credential");
            }
        }

        var credential = await _directory.VerifyApplicationCredentialAsync(credentials.Id, credentials.Name, userId, credentials.Secret, cancellationToken)
            ?? throw Refuse("application_credential", "unknown application credential or wrong secret");
        if (credential.ExpiresAt is { } expires && expires <= now)
        {
            throw Refuse("application_credential", $"application credential {credential.Id} expired");
        }

        var user = await _directory.FindUserAsync(credential.UserId, cancellationToken) ?? throw Refuse("application_credential", "the credential's user no longer exists");
        return (user, credential);
    }

    private async Task<Domain> ResolveDomainAsync(string? id, string? name, string what, CancellationToken cancellationToken)
    {
        var domain = id is not null
            ? await _directory.FindDomainAsync(id, cancellationToken)
            : name is not null
                ? await _directory.FindDomainByNameAsync(name, cancellationToken)
                : throw IdentityErrors.Missing("domain", what);
        return domain ?? throw Refuse(what, $"no domain {id ?? name}");
    }

    private async Task<(Project Project, Domain Domain)> RequireEnabledProjectAsync(string projectId, CancellationToken cancellationToken)
    {
        var project = await _directory.FindProjectAsync(projectId, cancellationToken) ?? throw Refuse("scope", $"no project {projectId}");
        var domain = await _directory.FindDomainAsync(project.DomainId, cancellationToken);
        if (!project.Enabled || domain is not { Enabled: true })
        {
            throw Refuse("scope", $"project {projectId} or its domain is disabled");
        }

        return (project, domain);
    }

    // The credential's role stays with what it implies, as long as the user still holds it.
    private static IEnumerable<Role> Expand(Role granted, EffectiveRoles current) =>
        current.Roles.Any(r => r.Id == granted.Id) ? [granted] : [];

    private static List<TokenRole> ToTokenRoles(IEnumerable<Role> roles) => roles.Select(r => new TokenRole(r.Id, r.Name)).ToList();

    private TokenPayload Issued(TokenPayload payload)
    {
        IdentityLog.TokenIssued(_logger, payload.UserId, payload.Methods, payload.ProjectId, payload.DomainId);
        return payload;
    }

    private UnauthorizedException Refuse(string method, string reason)
    {
        // The caller hears only Keystone's generic words; the reason goes to the log.
        IdentityLog.AuthenticationRefused(_logger, method, reason);
        return IdentityErrors.Unauthorized("identity.authentication_failed");
    }

    /// <summary>Keystone's audit ids: 16 random bytes as 22 characters of url-safe base64.</summary>
    public static string NewAuditId() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

using Nimbus.Platform.Errors;

namespace Nimbus.Platform.Auth;

/// <summary>What an action acts on, for owner checks such as <c>project_id:%(project_id)s</c>.</summary>
public sealed record PolicyTarget(string? ProjectId = null, string? UserId = null, string? DomainId = null)
{
    public static readonly PolicyTarget None = new();
}

/// <summary>One rule of a policy table, composed from the checks oslo.policy offers.</summary>
public sealed class PolicyRule
{
    private readonly Func<AuthContext, PolicyTarget, bool> _allows;

    private PolicyRule(string text, Func<AuthContext, PolicyTarget, bool> allows)
    {
        Text = text;
        _allows = allows;
    }

    /// <summary>The rule in oslo.policy's notation, for docs and messages.</summary>
    public string Text { get; }

    /// <summary>Any caller with a valid token.</summary>
    public static PolicyRule Authenticated { get; } = new("@", (_, _) => true);

    public static PolicyRule Nobody { get; } = new("!", (_, _) => false);

    public static PolicyRule Admin { get; } = Role("admin");

    /// <summary>The caller's token is scoped to the target's project.</summary>
    public static PolicyRule ProjectOwner { get; } = new("project_id:%(project_id)s", (caller, target) => target.ProjectId is not null && string.Equals(caller.ProjectId, target.ProjectId, StringComparison.Ordinal));

    /// <summary>The caller is the target user.</summary>
    public static PolicyRule Self { get; } = new("user_id:%(user_id)s", (caller, target) => target.UserId is not null && string.Equals(caller.UserId, target.UserId, StringComparison.Ordinal));

    /// <summary>The caller's token is scoped to the target's domain.</summary>
    public static PolicyRule DomainOwner { get; } = new("domain_id:%(domain_id)s", (caller, target) => target.DomainId is not null && string.Equals(caller.DomainId, target.DomainId, StringComparison.Ordinal));

    public static PolicyRule Role(string role) => new($"role:{role}", (caller, _) => caller.HasRole(role));

    public static PolicyRule Custom(string text, Func<AuthContext, PolicyTarget, bool> allows) => new(text, allows);

    public PolicyRule Or(PolicyRule other) => new($"({Text}) or ({other.Text})", (c, t) => _allows(c, t) || other._allows(c, t));

    public PolicyRule And(PolicyRule other) => new($"({Text}) and ({other.Text})", (c, t) => _allows(c, t) && other._allows(c, t));

    public bool Allows(AuthContext caller, PolicyTarget target) => _allows(caller, target);
}

/// <summary>
/// One service's policy: action name (<c>identity:create_user</c>) → rule. Every check of the
/// service goes through <see cref="Enforce"/>, so the table is the whole story of who may do what.
/// </summary>
public sealed class PolicyTable
{
    private readonly Dictionary<string, PolicyRule> _rules;

    public PolicyTable(IEnumerable<KeyValuePair<string, PolicyRule>> rules)
    {
        _rules = new Dictionary<string, PolicyRule>(rules, StringComparer.Ordinal);
    }

    public IReadOnlyDictionary<string, PolicyRule> Rules => _rules;

    public bool Allows(AuthContext caller, string action, PolicyTarget? target = null)
    {
        ArgumentNullException.ThrowIfNull(caller);
        // An action without a rule is a programming error, not an open door.
        var rule = _rules.TryGetValue(action, out var found) ? found : throw new InvalidOperationException($"No policy rule for '{action}'.");
        return rule.Allows(caller, target ?? PolicyTarget.None);
    }

    /// <summary>Throws 403 with OpenStack's message when <paramref name="caller"/> may not do <paramref name="action"/>.</summary>
    public void Enforce(AuthContext caller, string action, PolicyTarget? target = null)
    {
        if (!Allows(caller, action, target))
        {
            throw new ForbiddenException("policy.forbidden", $"You are not authorized to perform the requested action: {action}.");
        }
    }
}

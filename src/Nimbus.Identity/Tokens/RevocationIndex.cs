namespace Nimbus.Identity.Tokens;

/// <summary>
/// An immutable index of revocation events that answers "is this token revoked?" with a handful of
/// hash lookups however many events there are. Each event is filed under its most selective field
/// (audit id, then application credential, user, project, role, domain); a lookup lists only the
/// events filed under the token's own values and checks each of their fields. Events with the same
/// fields merge into one entry holding the latest IssuedBefore, since that one decides.
/// Writers build a new index (copying only the map they change) and swap it in; readers never lock.
/// </summary>
internal sealed class RevocationIndex
{
    private const int AuditKind = 0;
    private const int ApplicationCredentialKind = 1;
    private const int UserKind = 2;
    private const int ProjectKind = 3;
    private const int RoleKind = 4;
    private const int DomainKind = 5;
    private const int Kinds = 6;

    private readonly Anchor[] _anchors;

    // An event with no fields at all revokes every token issued before it.
    private readonly long _everythingBefore;

    private RevocationIndex(Anchor[] anchors, long everythingBefore)
    {
        _anchors = anchors;
        _everythingBefore = everythingBefore;
    }

    public static RevocationIndex Empty { get; } = new([.. Enumerable.Range(0, Kinds).Select(_ => Anchor.Empty)], long.MinValue);

    public bool IsRevoked(TokenPayload token)
    {
        var issued = token.IssuedAt.UtcTicks;
        if (_everythingBefore >= issued)
        {
            return true;
        }

        var anchors = _anchors;
        if (anchors[AuditKind].Matches(token.AuditId, token, issued)
            || anchors[AuditKind].Matches(token.ParentAuditId, token, issued)
            || anchors[ApplicationCredentialKind].Matches(token.ApplicationCredentialId, token, issued)
            || anchors[UserKind].Matches(token.UserId, token, issued)
            || anchors[ProjectKind].Matches(token.ProjectId, token, issued))
        {
            return true;
        }

        var roles = anchors[RoleKind];
        if (roles.MayRevoke(issued))
        {
            foreach (var role in token.Roles)
            {
                if (roles.Matches(role.Id, token, issued))
                {
                    return true;
                }
            }
        }

        var domains = anchors[DomainKind];
        return domains.MayRevoke(issued)
            && (domains.Matches(token.DomainId, token, issued)
                || domains.Matches(token.UserDomainId, token, issued)
                || (!string.Equals(token.ProjectDomainId, token.UserDomainId, StringComparison.Ordinal) && domains.Matches(token.ProjectDomainId, token, issued)));
    }

    /// <summary>A new index with <paramref name="events"/> added; this one is left as it was.</summary>
    public RevocationIndex With(IReadOnlyCollection<RevocationEvent> events)
    {
        if (events.Count == 0)
        {
            return this;
        }

        var anchors = (Anchor[])_anchors.Clone();
        var everythingBefore = _everythingBefore;
        foreach (var group in events.GroupBy(KindOf))
        {
            if (group.Key < 0)
            {
                everythingBefore = Math.Max(everythingBefore, group.Max(e => e.IssuedBefore.UtcTicks));
                continue;
            }

            anchors[group.Key] = anchors[group.Key].With(group.Select(e => (AnchorValue(e, group.Key), Shape.Of(e))));
        }

        return new RevocationIndex(anchors, everythingBefore);
    }

    /// <summary>An index of exactly <paramref name="events"/>.</summary>
    public static RevocationIndex Of(IReadOnlyCollection<RevocationEvent> events) => Empty.With(events);

    private static int KindOf(RevocationEvent e) =>
        e.AuditId is not null ? AuditKind
        : e.ApplicationCredentialId is not null ? ApplicationCredentialKind
        : e.UserId is not null ? UserKind
        : e.ProjectId is not null ? ProjectKind
        : e.RoleId is not null ? RoleKind
        : e.DomainId is not null ? DomainKind
        : -1;

    private static string AnchorValue(RevocationEvent e, int kind) => kind switch
    {
        AuditKind => e.AuditId!,
        ApplicationCredentialKind => e.ApplicationCredentialId!,
        UserKind => e.UserId!,
        ProjectKind => e.ProjectId!,
        RoleKind => e.RoleId!,
        _ => e.DomainId!,
    };

    /// <summary>The events filed under one kind of field, by that field's value.</summary>
    private sealed class Anchor
    {
        private readonly Dictionary<string, Shape[]> _byValue;

        // No event of this kind can revoke a token issued after the latest IssuedBefore among them.
        private readonly long _latest;

        private Anchor(Dictionary<string, Shape[]> byValue, long latest)
        {
            _byValue = byValue;
            _latest = latest;
        }

        public static Anchor Empty { get; } = new(new Dictionary<string, Shape[]>(StringComparer.Ordinal), long.MinValue);

        public bool MayRevoke(long issued) => _latest >= issued;

        public bool Matches(string? value, TokenPayload token, long issued)
        {
            if (value is null || _latest < issued || !_byValue.TryGetValue(value, out var shapes))
            {
                return false;
            }

            foreach (var shape in shapes)
            {
                if (shape.Revokes(token, issued))
                {
                    return true;
                }
            }

            return false;
        }

        public Anchor With(IEnumerable<(string Value, Shape Shape)> additions)
        {
            var byValue = new Dictionary<string, Shape[]>(_byValue, StringComparer.Ordinal);
            var latest = _latest;
            foreach (var (value, shape) in additions)
            {
                latest = Math.Max(latest, shape.IssuedBefore);
                if (!byValue.TryGetValue(value, out var shapes))
                {
                    byValue[value] = [shape];
                    continue;
                }

                var same = Array.FindIndex(shapes, s => s.SameFields(shape));
                if (same < 0)
                {
                    byValue[value] = [.. shapes, shape];
                }
                else if (shapes[same].IssuedBefore < shape.IssuedBefore)
                {
                    var replaced = (Shape[])shapes.Clone();
                    replaced[same] = shape;
                    byValue[value] = replaced;
                }
            }

            return new Anchor(byValue, latest);
        }
    }

    /// <summary>The fields of an event (or of several with the same fields) and the latest IssuedBefore.</summary>
    private sealed record Shape(string? UserId, string? ProjectId, string? DomainId, string? RoleId, string? AuditId, string? ApplicationCredentialId, long IssuedBefore)
    {
        public static Shape Of(RevocationEvent e) =>
            new(e.UserId, e.ProjectId, e.DomainId, e.RoleId, e.AuditId, e.ApplicationCredentialId, e.IssuedBefore.UtcTicks);

        public bool SameFields(Shape other) => this with { IssuedBefore = other.IssuedBefore } == other;

        // Keystone's rule: every field the event sets equals the token's, and the token is not newer.
        public bool Revokes(TokenPayload token, long issued) =>
            issued <= IssuedBefore
            && (UserId is null || string.Equals(UserId, token.UserId, StringComparison.Ordinal))
            && (ProjectId is null || string.Equals(ProjectId, token.ProjectId, StringComparison.Ordinal))
            && (AuditId is null || string.Equals(AuditId, token.AuditId, StringComparison.Ordinal) || string.Equals(AuditId, token.ParentAuditId, StringComparison.Ordinal))
            && (ApplicationCredentialId is null || string.Equals(ApplicationCredentialId, token.ApplicationCredentialId, StringComparison.Ordinal))
            && (DomainId is null
                || string.Equals(DomainId, token.DomainId, StringComparison.Ordinal)
                || string.Equals(DomainId, token.UserDomainId, StringComparison.Ordinal)
                || string.Equals(DomainId, token.ProjectDomainId, StringComparison.Ordinal))
            && (RoleId is null || HasRole(token, RoleId));

        private static bool HasRole(TokenPayload token, string roleId)
        {
            foreach (var role in token.Roles)
            {
                if (string.Equals(role.Id, roleId, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
    }
}

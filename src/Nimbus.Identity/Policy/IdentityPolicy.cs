using Nimbus.Platform.Auth;

namespace Nimbus.Identity.Policy;

/// <summary>
/// Who may do what on the Identity API, after Keystone's default policies (keystone/common/policies):
/// admin everything; every user themself, their own password, projects, groups, application
/// credentials and tokens; readers the roles and the catalog; the rest admin only.
/// </summary>
internal static class IdentityPolicy
{
    private static readonly PolicyRule Admin = PolicyRule.Admin;
    private static readonly PolicyRule Reader = PolicyRule.Role("reader").Or(Admin);
    private static readonly PolicyRule AdminOrSelf = Admin.Or(PolicyRule.Self);
    private static readonly PolicyRule AdminOrProjectOwner = Admin.Or(PolicyRule.ProjectOwner);

    /// <summary>A token from a restricted application credential may not manage application credentials (Keystone refuses it too).</summary>
    private static readonly PolicyRule NotRestrictedCredential = PolicyRule.Custom("not application_credential", (caller, _) => caller.ApplicationCredentialId is null);

    /// <summary>Domain readers see their own domain; project members see the domain of their project.</summary>
    private static readonly PolicyRule OwnDomain = PolicyRule.DomainOwner.Or(PolicyRule.Custom(
        "token.project.domain.id:%(domain_id)s",
        (caller, target) => target.DomainId is not null && string.Equals(caller.ProjectDomainId, target.DomainId, StringComparison.Ordinal)));

    public static PolicyTable Table { get; } = new(new Dictionary<string, PolicyRule>
    {
        // Tokens and the caller's own view (api-ref "Authentication and token management").
        ["identity:validate_token"] = AdminOrSelf,
        ["identity:check_token"] = AdminOrSelf,
        ["identity:revoke_token"] = AdminOrSelf,
        ["identity:get_auth_catalog"] = PolicyRule.Authenticated,
        ["identity:get_auth_projects"] = PolicyRule.Authenticated,
        ["identity:get_auth_domains"] = PolicyRule.Authenticated,

        ["identity:get_domain"] = Admin.Or(OwnDomain),
        ["identity:list_domains"] = Admin,
        ["identity:create_domain"] = Admin,
        ["identity:update_domain"] = Admin,
        ["identity:delete_domain"] = Admin,

        ["identity:get_project"] = AdminOrProjectOwner,
        ["identity:list_projects"] = Admin,
        ["identity:list_user_projects"] = AdminOrSelf,
        ["identity:create_project"] = Admin,
        ["identity:update_project"] = Admin,
        ["identity:delete_project"] = Admin,

        ["identity:get_user"] = AdminOrSelf,
        ["identity:list_users"] = Admin,
        ["identity:create_user"] = Admin,
        ["identity:update_user"] = Admin,
        ["identity:delete_user"] = Admin,
        ["identity:change_password"] = AdminOrSelf,
        ["identity:list_groups_for_user"] = AdminOrSelf,

        ["identity:get_group"] = Admin,
        ["identity:list_groups"] = Admin,
        ["identity:create_group"] = Admin,
        ["identity:update_group"] = Admin,
        ["identity:delete_group"] = Admin,
        ["identity:list_users_in_group"] = Admin,
        ["identity:add_user_to_group"] = Admin,
        ["identity:remove_user_from_group"] = Admin,
        ["identity:check_user_in_group"] = Admin,

        ["identity:get_role"] = Reader,
        ["identity:list_roles"] = Reader,
        ["identity:create_role"] = Admin,
        ["identity:update_role"] = Admin,
        ["identity:delete_role"] = Admin,
        ["identity:get_implied_role"] = Reader,
        ["identity:list_implied_roles"] = Reader,
        ["identity:list_role_inference_rules"] = Reader,
        ["identity:create_implied_role"] = Admin,
        ["identity:delete_implied_role"] = Admin,

        ["identity:check_grant"] = Admin,
        ["identity:list_grants"] = Admin,
        ["identity:create_grant"] = Admin,
        ["identity:revoke_grant"] = Admin,
        ["identity:list_role_assignments"] = AdminOrSelf,

        ["identity:get_region"] = PolicyRule.Authenticated,
        ["identity:list_regions"] = PolicyRule.Authenticated,
        ["identity:create_region"] = Admin,
        ["identity:update_region"] = Admin,
        ["identity:delete_region"] = Admin,
        ["identity:get_service"] = Reader,
        ["identity:list_services"] = Reader,
        ["identity:create_service"] = Admin,
        ["identity:update_service"] = Admin,
        ["identity:delete_service"] = Admin,
        ["identity:get_endpoint"] = Reader,
        ["identity:list_endpoints"] = Reader,
        ["identity:create_endpoint"] = Admin,
        ["identity:update_endpoint"] = Admin,
        ["identity:delete_endpoint"] = Admin,

        ["identity:get_application_credential"] = AdminOrSelf,
        ["identity:list_application_credentials"] = AdminOrSelf,
        ["identity:create_application_credential"] = PolicyRule.Self.And(NotRestrictedCredential),
        ["identity:delete_application_credential"] = AdminOrSelf.And(NotRestrictedCredential),

        ["identity:get_credential"] = AdminOrSelf,
        ["identity:list_credentials"] = AdminOrSelf,
        ["identity:create_credential"] = AdminOrSelf,
        ["identity:update_credential"] = AdminOrSelf,
        ["identity:delete_credential"] = AdminOrSelf,
        ["identity:ec2_get_credential"] = AdminOrSelf,
        ["identity:ec2_list_credentials"] = AdminOrSelf,
        ["identity:ec2_create_credential"] = AdminOrSelf,
        ["identity:ec2_delete_credential"] = AdminOrSelf,
    });
}

using Nimbus.Platform.Data;

namespace Nimbus.Identity.Data;

/// <summary>
/// The identity database, one migration per step. Ids are uuid4 hex (32 characters) as Keystone's,
/// except the default domain's <c>default</c>; timestamps are milliseconds since the epoch; extra
/// attributes a client sends (a user's email) are kept as JSON text.
/// </summary>
internal static class IdentitySchema
{
    /// <summary>The <c>roles.domain_id</c> of a global role: a value, not NULL, so names stay unique per domain on every engine.</summary>
    public const string GlobalRoleDomain = "<<global>>";

    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1, "directory", """
            CREATE TABLE domains (id TEXT PRIMARY KEY, name TEXT NOT NULL, enabled BOOLEAN NOT NULL, description TEXT NOT NULL, extra TEXT NOT NULL);
            CREATE UNIQUE INDEX domains_name ON domains (name);
            CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_id TEXT NOT NULL, parent_id TEXT NULL, enabled BOOLEAN NOT NULL, description TEXT NOT NULL, extra TEXT NOT NULL);
            CREATE UNIQUE INDEX projects_domain_name ON projects (domain_id, name);
            CREATE INDEX projects_parent ON projects (parent_id);
            CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_id TEXT NOT NULL, enabled BOOLEAN NOT NULL, password_hash TEXT NULL, default_project_id TEXT NULL, extra TEXT NOT NULL, created_at BIGINT NOT NULL);
            CREATE UNIQUE INDEX users_domain_name ON users (domain_id, name);
            CREATE TABLE groups (id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_id TEXT NOT NULL, description TEXT NOT NULL, extra TEXT NOT NULL);
            CREATE UNIQUE INDEX groups_domain_name ON groups (domain_id, name);
            CREATE TABLE group_members (group_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (group_id, user_id));
            CREATE INDEX group_members_user ON group_members (user_id);
            CREATE TABLE roles (id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_id TEXT NOT NULL, description TEXT NOT NULL, extra TEXT NOT NULL);
            CREATE UNIQUE INDEX roles_domain_name ON roles (domain_id, name);
            CREATE TABLE implied_roles (prior_role_id TEXT NOT NULL, implied_role_id TEXT NOT NULL, PRIMARY KEY (prior_role_id, implied_role_id));
            CREATE TABLE role_assignments (actor_type TEXT NOT NULL, actor_id TEXT NOT NULL, target_type TEXT NOT NULL, target_id TEXT NOT NULL, role_id TEXT NOT NULL, PRIMARY KEY (actor_type, actor_id, target_type, target_id, role_id));
            CREATE INDEX role_assignments_target ON role_assignments (target_type, target_id);
            CREATE INDEX role_assignments_role ON role_assignments (role_id);
            CREATE TABLE regions (id TEXT PRIMARY KEY, description TEXT NOT NULL, parent_region_id TEXT NULL, extra TEXT NOT NULL);
            CREATE TABLE services (id TEXT PRIMARY KEY, type TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL, enabled BOOLEAN NOT NULL, extra TEXT NOT NULL);
            CREATE TABLE endpoints (id TEXT PRIMARY KEY, service_id TEXT NOT NULL, interface TEXT NOT NULL, region_id TEXT NULL, url TEXT NOT NULL, enabled BOOLEAN NOT NULL, extra TEXT NOT NULL, bootstrap_key TEXT NULL);
            CREATE INDEX endpoints_service ON endpoints (service_id);
            CREATE UNIQUE INDEX endpoints_bootstrap_key ON endpoints (bootstrap_key);
            CREATE TABLE application_credentials (id TEXT PRIMARY KEY, name TEXT NOT NULL, user_id TEXT NOT NULL, project_id TEXT NOT NULL, secret_hash TEXT NOT NULL, description TEXT NOT NULL, expires_at BIGINT NULL, unrestricted BOOLEAN NOT NULL, created_at BIGINT NOT NULL);
            CREATE UNIQUE INDEX application_credentials_user_name ON application_credentials (user_id, name);
            CREATE TABLE application_credential_roles (application_credential_id TEXT NOT NULL, role_id TEXT NOT NULL, PRIMARY KEY (application_credential_id, role_id));
            CREATE TABLE revocation_events (id TEXT PRIMARY KEY, user_id TEXT NULL, project_id TEXT NULL, domain_id TEXT NULL, role_id TEXT NULL, audit_id TEXT NULL, app_cred_id TEXT NULL, issued_before BIGINT NOT NULL, revoked_at BIGINT NOT NULL);
            CREATE INDEX revocation_events_revoked_at ON revocation_events (revoked_at);
            """),
        new(2, "credentials", """
            CREATE TABLE credentials (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, project_id TEXT NULL, type TEXT NOT NULL, blob TEXT NOT NULL, extra TEXT NOT NULL);
            CREATE INDEX credentials_user ON credentials (user_id);
            """),
    ];
}

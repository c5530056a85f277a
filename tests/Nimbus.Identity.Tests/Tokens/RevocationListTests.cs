using Microsoft.Extensions.Logging.Abstractions;
using Nimbus.Identity.Tokens;
using Nimbus.Platform.Data;

namespace Nimbus.Identity.Tests.Tokens;

/// <summary>Revocation events as every node sees them; the same suite runs on SQLite and PostgreSQL.</summary>
public abstract class RevocationListTests(DataProvider provider) : IAsyncLifetime
{
    private TokenTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await TokenTestBed.CreateAsync(provider);

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task Revoking_an_audit_id_revokes_that_token_only()
    {
        var payload = _bed.ProjectToken();
        var token = _bed.Tokens.Issue(payload);
        var sibling = _bed.Tokens.Issue(payload with { AuditId = "c2libGluZ3Rva2VuYXVkaXQ" });

        await _bed.Tokens.RevokeAsync(Event() with { AuditId = payload.AuditId }, CancellationToken.None);

        Assert.Null(_bed.Tokens.Validate(token));
        Assert.NotNull(_bed.Tokens.Validate(sibling));
    }

    [Fact]
    public async Task Revoking_an_audit_id_revokes_the_tokens_rescoped_from_it()
    {
        var parent = _bed.ProjectToken();
        var child = _bed.Tokens.Issue(parent with { AuditId = "Y2hpbGR0b2tlbmF1ZGl0aWQ", ParentAuditId = parent.AuditId });

        await _bed.Tokens.RevokeAsync(Event() with { AuditId = parent.AuditId }, CancellationToken.None);

        Assert.Null(_bed.Tokens.Validate(child));
    }

    [Fact]
    public async Task Revoking_a_user_revokes_their_tokens_on_every_scope()
    {
        var payload = _bed.ProjectToken();
        var project = _bed.Tokens.Issue(payload);
        var unscoped = _bed.Tokens.Issue(payload with { ProjectId = null, ProjectName = null, ProjectDomainId = null, ProjectDomainName = null, Roles = [] });
        var someoneElse = _bed.Tokens.Issue(payload with { UserId = "0d3f4e5a6b7c8d9e0f1a2b3c4d5e6f70" });

        await _bed.Tokens.RevokeAsync(Event() with { UserId = payload.UserId }, CancellationToken.None);

        Assert.Null(_bed.Tokens.Validate(project));
        Assert.Null(_bed.Tokens.Validate(unscoped));
        Assert.NotNull(_bed.Tokens.Validate(someoneElse));
    }

    [Fact]
    public async Task Revoking_a_project_revokes_every_token_scoped_to_it()
    {
        var payload = _bed.ProjectToken();
        var token = _bed.Tokens.Issue(payload with { UserId = "0d3f4e5a6b7c8d9e0f1a2b3c4d5e6f70" });
        var otherProject = _bed.Tokens.Issue(payload with { ProjectId = "1f2e3d4c5b6a79881f2e3d4c5b6a7988" });

        await _bed.Tokens.RevokeAsync(Event() with { ProjectId = payload.ProjectId }, CancellationToken.None);

        Assert.Null(_bed.Tokens.Validate(token));
        Assert.NotNull(_bed.Tokens.Validate(otherProject));
    }

    [Fact]
    public async Task Revoking_a_user_on_a_project_leaves_their_other_projects_and_other_users_alone()
    {
        var payload = _bed.ProjectToken();
        var token = _bed.Tokens.Issue(payload);
        var otherProject = _bed.Tokens.Issue(payload with { ProjectId = "1f2e3d4c5b6a79881f2e3d4c5b6a7988" });
        var otherUser = _bed.Tokens.Issue(payload with { UserId = "0d3f4e5a6b7c8d9e0f1a2b3c4d5e6f70" });

        await _bed.Tokens.RevokeAsync(Event() with { UserId = payload.UserId, ProjectId = payload.ProjectId }, CancellationToken.None);

        Assert.Null(_bed.Tokens.Validate(token));
        Assert.NotNull(_bed.Tokens.Validate(otherProject));
        Assert.NotNull(_bed.Tokens.Validate(otherUser));
    }

    [Fact]
    public async Task Revoking_a_role_revokes_tokens_that_carry_it()
    {
        var payload = _bed.ProjectToken();
        var token = _bed.Tokens.Issue(payload);
        var without = _bed.Tokens.Issue(payload with { Roles = [payload.Roles[0]] });

        await _bed.Tokens.RevokeAsync(Event() with { RoleId = payload.Roles[1].Id }, CancellationToken.None);

        Assert.Null(_bed.Tokens.Validate(token));
        Assert.NotNull(_bed.Tokens.Validate(without));
    }

    [Fact]
    public async Task Revoking_an_application_credential_revokes_the_tokens_it_issued()
    {
        var payload = _bed.ProjectToken() with { Methods = TokenMethods.ApplicationCredential, ApplicationCredentialId = "58d61ff8e6e34accb35874016d1dba8b" };
        var token = _bed.Tokens.Issue(payload);
        var password = _bed.Tokens.Issue(payload with { Methods = TokenMethods.Password, ApplicationCredentialId = null });

        await _bed.Tokens.RevokeAsync(Event() with { ApplicationCredentialId = payload.ApplicationCredentialId, UserId = payload.UserId }, CancellationToken.None);

        Assert.Null(_bed.Tokens.Validate(token));
        Assert.NotNull(_bed.Tokens.Validate(password));
    }

    [Fact]
    public async Task Revoking_a_domain_revokes_tokens_scoped_to_it_and_of_its_users_and_projects()
    {
        var payload = _bed.ProjectToken() with { UserDomainId = "aaaa0000aaaa0000aaaa0000aaaa0000", ProjectDomainId = "bbbb0000bbbb0000bbbb0000bbbb0000" };
        var userInDomain = _bed.Tokens.Issue(payload);
        var projectInDomain = _bed.Tokens.Issue(payload with { UserDomainId = "default" });
        var scopedToDomain = _bed.Tokens.Issue(payload with { UserDomainId = "default", ProjectId = null, ProjectDomainId = null, ProjectName = null, ProjectDomainName = null, DomainId = "aaaa0000aaaa0000aaaa0000aaaa0000" });
        var elsewhere = _bed.Tokens.Issue(payload with { UserDomainId = "default", ProjectDomainId = "default" });

        await _bed.Tokens.RevokeAsync(Event() with { DomainId = "aaaa0000aaaa0000aaaa0000aaaa0000" }, CancellationToken.None);
        await _bed.Tokens.RevokeAsync(Event() with { DomainId = "bbbb0000bbbb0000bbbb0000bbbb0000" }, CancellationToken.None);

        Assert.Null(_bed.Tokens.Validate(userInDomain));
        Assert.Null(_bed.Tokens.Validate(projectInDomain));
        Assert.Null(_bed.Tokens.Validate(scopedToDomain));
        Assert.NotNull(_bed.Tokens.Validate(elsewhere));
    }

    [Fact]
    public async Task Event_with_several_fields_revokes_only_tokens_matching_all_of_them()
    {
        var payload = _bed.ProjectToken();
        var token = _bed.Tokens.Issue(payload);
        var otherRole = _bed.Tokens.Issue(payload with { Roles = [payload.Roles[0]] });

        await _bed.Tokens.RevokeAsync(Event() with { UserId = payload.UserId, ProjectId = payload.ProjectId, RoleId = payload.Roles[1].Id, DomainId = "default" }, CancellationToken.None);

        Assert.Null(_bed.Tokens.Validate(token));
        Assert.NotNull(_bed.Tokens.Validate(otherRole));
    }

    [Fact]
    public async Task Event_issued_before_a_token_does_not_revoke_it()
    {
        var payload = _bed.ProjectToken();
        await _bed.Tokens.RevokeAsync(Event() with { UserId = payload.UserId, IssuedBefore = payload.IssuedAt - TimeSpan.FromMilliseconds(1) }, CancellationToken.None);

        _bed.Time.Advance(TimeSpan.FromSeconds(5));
        var later = _bed.Tokens.Issue(_bed.ProjectToken());

        Assert.NotNull(_bed.Tokens.Validate(_bed.Tokens.Issue(payload)));
        Assert.NotNull(_bed.Tokens.Validate(later));
    }

    [Fact]
    public async Task Token_issued_in_the_same_millisecond_as_the_event_is_revoked()
    {
        var payload = _bed.ProjectToken();
        var token = _bed.Tokens.Issue(payload with { IssuedAt = payload.IssuedAt + TimeSpan.FromTicks(100) });

        await _bed.Tokens.RevokeAsync(Event() with { UserId = payload.UserId, IssuedBefore = payload.IssuedAt }, CancellationToken.None);
        var (keys, revocations, tokens) = await _bed.SecondNodeAsync();
        await revocations.SyncAsync(CancellationToken.None);

        Assert.Null(_bed.Tokens.Validate(token));
        Assert.Null(tokens.Validate(token));
        keys.Dispose();
        revocations.Dispose();
    }

    [Fact]
    public async Task Event_recorded_by_one_node_is_honoured_by_another_after_its_sync()
    {
        var payload = _bed.ProjectToken();
        var token = _bed.Tokens.Issue(payload);
        var (keys, revocations, tokens) = await _bed.SecondNodeAsync();
        await revocations.SyncAsync(CancellationToken.None);

        await _bed.Tokens.RevokeAsync(Event() with { UserId = payload.UserId }, CancellationToken.None);
        Assert.NotNull(tokens.Validate(token));

        Assert.Equal(1, await revocations.SyncAsync(CancellationToken.None));
        Assert.Null(tokens.Validate(token));
        keys.Dispose();
        revocations.Dispose();
    }

    [Fact]
    public async Task Sync_reads_an_event_once_however_often_it_runs()
    {
        var (keys, revocations, _) = await _bed.SecondNodeAsync();
        await _bed.Tokens.RevokeAsync(Event() with { UserId = "0d3f4e5a6b7c8d9e0f1a2b3c4d5e6f70" }, CancellationToken.None);
        await _bed.Tokens.RevokeAsync(Event() with { UserId = "0d3f4e5a6b7c8d9e0f1a2b3c4d5e6f70" }, CancellationToken.None);

        Assert.Equal(2, await revocations.SyncAsync(CancellationToken.None));
        Assert.Equal(0, await revocations.SyncAsync(CancellationToken.None));
        Assert.Equal(0, await _bed.Revocations.SyncAsync(CancellationToken.None));

        Assert.Equal(2, revocations.Count);
        Assert.Equal(2, _bed.Revocations.Count);
        keys.Dispose();
        revocations.Dispose();
    }

    [Fact]
    public async Task Events_made_from_one_template_are_stored_as_separate_events()
    {
        var template = Event() with { ProjectId = "8538a3f13f9541b28c2620eb19065e45" };

        var first = await _bed.Tokens.RevokeAsync(template with { UserId = "0d3f4e5a6b7c8d9e0f1a2b3c4d5e6f70" }, CancellationToken.None);
        var second = await _bed.Tokens.RevokeAsync(template with { UserId = "1d3f4e5a6b7c8d9e0f1a2b3c4d5e6f70" }, CancellationToken.None);

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(2, _bed.Revocations.Count);
    }

    [Fact]
    public async Task Sync_rereads_a_window_so_an_event_stamped_by_a_slow_clock_is_not_missed()
    {
        var (keys, revocations, tokens) = await _bed.SecondNodeAsync();
        var payload = _bed.ProjectToken();
        var token = _bed.Tokens.Issue(payload);
        await _bed.Tokens.RevokeAsync(Event() with { UserId = "0d3f4e5a6b7c8d9e0f1a2b3c4d5e6f70" }, CancellationToken.None);
        await revocations.SyncAsync(CancellationToken.None);

        // Another node whose clock runs 30 s behind records an event after ours.
        await _bed.Tokens.RevokeAsync(Event() with { UserId = payload.UserId, RevokedAt = _bed.Time.GetUtcNow() - TimeSpan.FromSeconds(30) }, CancellationToken.None);

        Assert.Equal(1, await revocations.SyncAsync(CancellationToken.None));
        Assert.Null(tokens.Validate(token));
        keys.Dispose();
        revocations.Dispose();
    }

    [Fact]
    public async Task A_new_node_loads_every_event_that_still_matters()
    {
        var payload = _bed.ProjectToken();
        var token = _bed.Tokens.Issue(payload);
        await _bed.Tokens.RevokeAsync(Event() with { AuditId = payload.AuditId }, CancellationToken.None);
        _bed.Time.Advance(TimeSpan.FromMinutes(30));

        var (keys, revocations, tokens) = await _bed.SecondNodeAsync();
        await revocations.SyncAsync(CancellationToken.None);

        Assert.Null(tokens.Validate(token));
        Assert.Single(revocations.Events());
        keys.Dispose();
        revocations.Dispose();
    }

    [Fact]
    public async Task Events_older_than_the_longest_token_lifetime_are_pruned_from_memory_and_table()
    {
        var payload = _bed.ProjectToken();
        var token = _bed.Tokens.Issue(payload);
        await _bed.Tokens.RevokeAsync(Event() with { UserId = payload.UserId }, CancellationToken.None);
        _bed.Time.Advance(TimeSpan.FromMinutes(30));
        await _bed.Tokens.RevokeAsync(Event() with { ProjectId = payload.ProjectId }, CancellationToken.None);

        _bed.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(1, await _bed.Revocations.PruneAsync(CancellationToken.None));

        Assert.Equal(1, _bed.Revocations.Count);
        Assert.Equal(payload.ProjectId, Assert.Single(_bed.Revocations.Events()).ProjectId);
        Assert.Equal(1L, await _bed.Database.ReadAsync(session => session.ScalarAsync<long>("SELECT COUNT(*) FROM revocation_events"), CancellationToken.None));
        // Every token the pruned event revoked has expired by now, so pruning changed no answer.
        Assert.Null(_bed.Tokens.Validate(token));
        Assert.Null(_bed.Tokens.Open(token) is { } opened && opened.ExpiresAt > _bed.Time.GetUtcNow() ? opened : null);
    }

    [Fact]
    public async Task Sync_prunes_aged_events_now_and_then()
    {
        await _bed.Tokens.RevokeAsync(Event() with { UserId = "0d3f4e5a6b7c8d9e0f1a2b3c4d5e6f70" }, CancellationToken.None);
        await _bed.Revocations.SyncAsync(CancellationToken.None);

        _bed.Time.Advance(TokenTestBed.Lifetime + TimeSpan.FromMinutes(1));
        await _bed.Revocations.SyncAsync(CancellationToken.None);

        Assert.Equal(0, _bed.Revocations.Count);
        Assert.Equal(0L, await _bed.Database.ReadAsync(session => session.ScalarAsync<long>("SELECT COUNT(*) FROM revocation_events"), CancellationToken.None));
    }

    [Fact]
    public async Task Stored_events_keep_every_field()
    {
        var stored = await _bed.Tokens.RevokeAsync(
            new RevocationEvent
            {
                UserId = "u",
                ProjectId = "p",
                DomainId = "d",
                RoleId = "r",
                AuditId = "a",
                ApplicationCredentialId = "c",
                IssuedBefore = _bed.Time.GetUtcNow(),
                RevokedAt = _bed.Time.GetUtcNow(),
            },
            CancellationToken.None);
        var (keys, revocations, _) = await _bed.SecondNodeAsync();

        await revocations.SyncAsync(CancellationToken.None);

        Assert.Equal(stored, Assert.Single(revocations.Events()));
        Assert.True(stored.IssuedBefore >= _bed.Time.GetUtcNow());
        keys.Dispose();
        revocations.Dispose();
    }

    [Fact]
    public async Task Background_sync_round_learns_events_and_key_rotations_from_other_nodes()
    {
        var (keys, revocations, tokens) = await _bed.SecondNodeAsync();
        using var sync = new RevocationSync(revocations, keys, _bed.Time, NullLogger<RevocationSync>.Instance);
        var payload = _bed.ProjectToken();
        var token = _bed.Tokens.Issue(payload);
        await _bed.Keys.RotateAsync(CancellationToken.None);
        await _bed.Keys.RotateAsync(CancellationToken.None);
        await _bed.Tokens.RevokeAsync(Event() with { AuditId = payload.AuditId }, CancellationToken.None);
        _bed.Time.Advance(RevocationSync.Period);

        Assert.Equal(1, await sync.RunOnceAsync(CancellationToken.None));

        Assert.Equal(_bed.Keys.KeyIndexes, keys.KeyIndexes);
        Assert.Null(tokens.Validate(token));
        Assert.NotNull(tokens.Validate(_bed.Tokens.Issue(_bed.ProjectToken())));
        keys.Dispose();
        revocations.Dispose();
    }

    [Fact]
    public async Task Starting_the_background_sync_loads_events_before_requests_are_served()
    {
        var payload = _bed.ProjectToken();
        var token = _bed.Tokens.Issue(payload);
        await _bed.Tokens.RevokeAsync(Event() with { UserId = payload.UserId }, CancellationToken.None);
        var (keys, revocations, tokens) = await _bed.SecondNodeAsync();
        using var sync = new RevocationSync(revocations, keys, _bed.Time, NullLogger<RevocationSync>.Instance);

        await sync.StartAsync(CancellationToken.None);

        Assert.Null(tokens.Validate(token));
        await sync.StopAsync(CancellationToken.None);
        keys.Dispose();
        revocations.Dispose();
    }

    private RevocationEvent Event() => new() { IssuedBefore = _bed.Time.GetUtcNow(), RevokedAt = _bed.Time.GetUtcNow() };
}

public sealed class SqliteRevocationListTests() : RevocationListTests(DataProvider.Sqlite);

public sealed class PostgresRevocationListTests() : RevocationListTests(DataProvider.Postgres);

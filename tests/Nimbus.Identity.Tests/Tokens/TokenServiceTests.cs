using System.Buffers.Text;
using Nimbus.Identity.Tokens;

namespace Nimbus.Identity.Tests.Tokens;

public sealed class TokenServiceTests : IAsyncLifetime
{
    private TokenTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await TokenTestBed.CreateAsync();

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public void Project_scoped_token_round_trips_every_field()
    {
        var issued = _bed.ProjectToken();

        AssertSamePayload(issued, _bed.Tokens.Validate(_bed.Tokens.Issue(issued)));
    }

    [Fact]
    public void Domain_scoped_token_round_trips_every_field()
    {
        var issued = _bed.ProjectToken() with
        {
            ProjectId = null,
            ProjectName = null,
            ProjectDomainId = null,
            ProjectDomainName = null,
            DomainId = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5",
            DomainName = "engineering",
            Roles = [new TokenRole("0c2d1f8e6a4b4f3e9d7c5b3a1f0e2d4c", "admin")],
        };

        AssertSamePayload(issued, _bed.Tokens.Validate(_bed.Tokens.Issue(issued)));
    }

    [Fact]
    public void Unscoped_token_round_trips_every_field()
    {
        var issued = _bed.ProjectToken() with
        {
            ProjectId = null,
            ProjectName = null,
            ProjectDomainId = null,
            ProjectDomainName = null,
            Roles = [],
        };

        AssertSamePayload(issued, _bed.Tokens.Validate(_bed.Tokens.Issue(issued)));
    }

    [Fact]
    public void Application_credential_token_with_a_parent_audit_id_round_trips_every_field()
    {
        var issued = _bed.ProjectToken() with
        {
            Methods = TokenMethods.ApplicationCredential | TokenMethods.Token,
            ApplicationCredentialId = "58d61ff8e6e34accb35874016d1dba8b",
            ParentAuditId = "Zm9vYmFyYmF6cXV4cXV1eA",
        };

        AssertSamePayload(issued, _bed.Tokens.Validate(_bed.Tokens.Issue(issued)));
    }

    [Fact]
    public void Ids_that_are_not_hex_and_names_outside_ascii_round_trip_unchanged()
    {
        var issued = _bed.ProjectToken() with
        {
            UserId = "ABCDEF0123456789ABCDEF0123456789",
            UserName = "Zoë Ünal 日本",
            UserDomainId = "abc",
            ProjectId = "f",
            ProjectName = string.Empty,
            AuditId = "not base64 at all!",
            ParentAuditId = "KD5DsT2sQ8y2qKpE0a1b2x",
            Roles = [new TokenRole("member", "member"), new TokenRole("0123456789abcdef0123456789abcdef00", "long hex")],
        };

        AssertSamePayload(issued, _bed.Tokens.Validate(_bed.Tokens.Issue(issued)));
    }

    [Fact]
    public void Token_is_url_safe_base64_without_padding_and_differs_each_time()
    {
        var payload = _bed.ProjectToken();

        var first = _bed.Tokens.Issue(payload);
        var second = _bed.Tokens.Issue(payload);

        Assert.Matches("^[A-Za-z0-9_-]+$", first);
        Assert.NotEqual(first, second);
        Assert.InRange(first.Length, 100, 400);
    }

    [Fact]
    public void Changing_any_byte_of_a_token_makes_it_invalid()
    {
        var bytes = Base64Url.DecodeFromChars(_bed.Tokens.Issue(_bed.ProjectToken()));

        for (var i = 0; i < bytes.Length; i++)
        {
            var tampered = (byte[])bytes.Clone();
            tampered[i] ^= 0x01;
            Assert.Null(_bed.Tokens.Validate(Base64Url.EncodeToString(tampered)));
        }
    }

    [Fact]
    public void Changing_any_character_of_a_token_makes_it_invalid()
    {
        var token = _bed.Tokens.Issue(_bed.ProjectToken());

        for (var i = 0; i < token.Length; i++)
        {
            var replacement = token[i] == 'A' ? 'B' : 'A';
            Assert.Null(_bed.Tokens.Validate(string.Concat(token.AsSpan(0, i), [replacement], token.AsSpan(i + 1))));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    [InlineData("gAAAAABkZ2FyYmFnZQ")]
    [InlineData("not a token at all, just some words in the header!!")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Garbage_and_empty_tokens_are_invalid(string token)
    {
        Assert.Null(_bed.Tokens.Validate(token));
    }

    [Fact]
    public void Null_truncated_padded_and_overlong_tokens_are_invalid()
    {
        var token = _bed.Tokens.Issue(_bed.ProjectToken());

        Assert.Null(_bed.Tokens.Validate(null));
        for (var length = 0; length < token.Length; length++)
        {
            Assert.Null(_bed.Tokens.Validate(token[..length]));
        }

        Assert.Null(_bed.Tokens.Validate(token + "AAAA"));
        Assert.Null(_bed.Tokens.Validate(token + "===="));
        Assert.Null(_bed.Tokens.Validate(" " + token[1..]));
        Assert.Null(_bed.Tokens.Validate(new string('A', TokenService.MaxTokenChars + 4)));
    }

    [Fact]
    public void Token_is_valid_until_it_expires()
    {
        var payload = _bed.ProjectToken();
        var token = _bed.Tokens.Issue(payload);

        _bed.Time.Advance(TokenTestBed.Lifetime - TimeSpan.FromTicks(1));
        Assert.NotNull(_bed.Tokens.Validate(token));

        _bed.Time.Advance(TimeSpan.FromTicks(1));
        Assert.Null(_bed.Tokens.Validate(token));
    }

    [Fact]
    public async Task Token_sealed_by_another_deployments_keys_is_invalid()
    {
        await using var other = await TokenTestBed.CreateAsync();

        var token = other.Tokens.Issue(other.ProjectToken());

        Assert.Null(_bed.Tokens.Validate(token));
        Assert.NotNull(other.Tokens.Validate(token));
    }

    [Fact]
    public void Token_whose_expiry_is_not_after_its_issue_is_refused()
    {
        var payload = _bed.ProjectToken();

        Assert.Throws<ArgumentException>(() => _bed.Tokens.Issue(payload with { ExpiresAt = payload.IssuedAt }));
    }

    [Fact]
    public void Token_that_would_outlive_the_revocation_window_is_refused()
    {
        var payload = _bed.ProjectToken();

        Assert.Throws<ArgumentException>(() => _bed.Tokens.Issue(payload with { ExpiresAt = payload.IssuedAt + TokenTestBed.Lifetime + TimeSpan.FromTicks(1) }));
    }

    [Fact]
    public void New_audit_ids_are_keystone_shaped_and_travel_packed()
    {
        var auditId = TokenService.NewAuditId();
        var payload = _bed.ProjectToken();

        Assert.Matches("^[A-Za-z0-9_-]{22}$", auditId);
        Assert.NotEqual(auditId, TokenService.NewAuditId());
        Assert.Equal(auditId, _bed.Tokens.Validate(_bed.Tokens.Issue(payload with { AuditId = auditId }))?.AuditId);
        Assert.Equal(_bed.Tokens.Issue(payload).Length, _bed.Tokens.Issue(payload with { AuditId = auditId }).Length);
    }

    [Fact]
    public void Token_with_many_roles_still_round_trips()
    {
        var issued = _bed.ProjectToken() with
        {
            Roles = [.. Enumerable.Range(0, 100).Select(i => new TokenRole(Guid.NewGuid().ToString("N"), $"role-{i}"))],
        };

        AssertSamePayload(issued, _bed.Tokens.Validate(_bed.Tokens.Issue(issued)));
    }

    [Fact]
    public async Task Validator_gives_the_caller_with_role_names()
    {
        var payload = _bed.ProjectToken() with { ApplicationCredentialId = "58d61ff8e6e34accb35874016d1dba8b" };
        var validator = new TokenValidator(_bed.Tokens);

        var caller = await validator.ValidateAsync(_bed.Tokens.Issue(payload), CancellationToken.None);

        Assert.NotNull(caller);
        Assert.Equal(payload.UserId, caller.UserId);
        Assert.Equal("alice", caller.UserName);
        Assert.Equal("default", caller.UserDomainId);
        Assert.Equal(payload.ProjectId, caller.ProjectId);
        Assert.Equal("demo", caller.ProjectName);
        Assert.Equal("default", caller.ProjectDomainId);
        Assert.Null(caller.DomainId);
        Assert.Equal(["member", "reader"], caller.Roles);
        Assert.Equal(payload.ExpiresAt, caller.ExpiresAt);
        Assert.Equal(payload.ApplicationCredentialId, caller.ApplicationCredentialId);
        Assert.Null(await validator.ValidateAsync("garbage", CancellationToken.None));
    }

    internal static void AssertSamePayload(TokenPayload expected, TokenPayload? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.UserId, actual.UserId);
        Assert.Equal(expected.UserName, actual.UserName);
        Assert.Equal(expected.UserDomainId, actual.UserDomainId);
        Assert.Equal(expected.UserDomainName, actual.UserDomainName);
        Assert.Equal(expected.Methods, actual.Methods);
        Assert.Equal(expected.ProjectId, actual.ProjectId);
        Assert.Equal(expected.ProjectName, actual.ProjectName);
        Assert.Equal(expected.ProjectDomainId, actual.ProjectDomainId);
        Assert.Equal(expected.ProjectDomainName, actual.ProjectDomainName);
        Assert.Equal(expected.DomainId, actual.DomainId);
        Assert.Equal(expected.DomainName, actual.DomainName);
        Assert.Equal(expected.Roles, actual.Roles);
        Assert.Equal(expected.IssuedAt.UtcTicks, actual.IssuedAt.UtcTicks);
        Assert.Equal(expected.ExpiresAt.UtcTicks, actual.ExpiresAt.UtcTicks);
        Assert.Equal(expected.AuditId, actual.AuditId);
        Assert.Equal(expected.ParentAuditId, actual.ParentAuditId);
        Assert.Equal(expected.ApplicationCredentialId, actual.ApplicationCredentialId);
    }
}

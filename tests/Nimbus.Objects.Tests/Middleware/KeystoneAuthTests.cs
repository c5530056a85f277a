using System.Net;
using Nimbus.Objects.Tests.Proxy;
using Nimbus.Platform.Auth;

namespace Nimbus.Objects.Tests.Middleware;

/// <summary>keystoneauth: Identity tokens on the account of the token's project, by role, and keystone-style container ACLs.</summary>
public sealed class KeystoneAuthTests : IAsyncLifetime
{
    private const string ProjectA = "0123456789abcdef0123456789abcdef";
    private const string ProjectB = "fedcba9876543210fedcba9876543210";
    private static readonly string AccountA = "AUTH_" + ProjectA;

    private readonly FakeValidator _validator = new();
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _validator.Add("member-a", ProjectA, "alice", "member", "reader");
        _validator.Add("reader-a", ProjectA, "rita", "reader");
        _validator.Add("member-b", ProjectB, "bob", "member", "reader");
        _validator.Add("reseller", ProjectB, "root", "ResellerAdmin");
        _cluster = await TestCluster.StartAsync(settings => settings with { TokenValidator = _validator });
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_member_owns_the_account_of_their_project()
    {
        Assert.Equal(HttpStatusCode.Created, await SendAsync("member-a", HttpMethod.Put, $"/v1/{AccountA}/c"));
        Assert.Equal(HttpStatusCode.Created, await SendAsync("member-a", HttpMethod.Put, $"/v1/{AccountA}/c/o", "hello"u8.ToArray()));
        Assert.Equal(HttpStatusCode.OK, await SendAsync("member-a", HttpMethod.Get, $"/v1/{AccountA}/c/o"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync("member-a", HttpMethod.Get, $"/v1/{AccountA}"));
    }

    [Fact]
    public async Task A_reader_may_read_but_not_write_their_project_account()
    {
        Assert.Equal(HttpStatusCode.Created, await SendAsync("member-a", HttpMethod.Put, $"/v1/{AccountA}/c"));
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync("reader-a", HttpMethod.Get, $"/v1/{AccountA}/c"));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync("reader-a", HttpMethod.Put, $"/v1/{AccountA}/c/o", "x"u8.ToArray()));
    }

    [Fact]
    public async Task Another_project_is_forbidden_until_an_acl_names_it()
    {
        Assert.Equal(HttpStatusCode.Created, await SendAsync("member-a", HttpMethod.Put, $"/v1/{AccountA}/shared"));
        Assert.Equal(HttpStatusCode.Created, await SendAsync("member-a", HttpMethod.Put, $"/v1/{AccountA}/shared/o", "x"u8.ToArray()));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync("member-b", HttpMethod.Get, $"/v1/{AccountA}/shared/o"));

        Assert.Equal(HttpStatusCode.NoContent, await SendAsync("member-a", HttpMethod.Post, $"/v1/{AccountA}/shared", null, ("X-Container-Read", $"{ProjectB}:*")));

        Assert.Equal(HttpStatusCode.OK, await SendAsync("member-b", HttpMethod.Get, $"/v1/{AccountA}/shared/o"));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync("member-b", HttpMethod.Put, $"/v1/{AccountA}/shared/o", "y"u8.ToArray()));
    }

    [Fact]
    public async Task A_reseller_admin_may_act_on_any_account()
    {
        Assert.Equal(HttpStatusCode.Created, await SendAsync("reseller", HttpMethod.Put, $"/v1/{AccountA}/c"));
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync("member-a", HttpMethod.Get, $"/v1/{AccountA}/c"));
    }

    [Fact]
    public async Task An_unknown_token_is_401_and_tempauth_tokens_still_work()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync("no-such-token", HttpMethod.Get, $"/v1/{AccountA}"));
        Assert.Equal(HttpStatusCode.Created, await _cluster.PutContainerAsync("tempauth-container"));
    }

    private async Task<HttpStatusCode> SendAsync(string token, HttpMethod method, string path, byte[]? body = null, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Auth-Token", token);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await _cluster.Anonymous.SendAsync(request);
        return response.StatusCode;
    }

    private sealed class FakeValidator : ITokenValidator
    {
        private readonly Dictionary<string, AuthContext> _tokens = new(StringComparer.Ordinal);

        public void Add(string token, string projectId, string user, params string[] roles) =>
            _tokens[token] = new AuthContext
            {
                UserId = user + "-id",
                UserName = user,
                UserDomainId = "default",
                ProjectId = projectId,
                ProjectName = "project-" + projectId[..4],
                ProjectDomainId = "default",
                Roles = roles,
                ExpiresAt = DateTimeOffset.MaxValue,
            };

        public ValueTask<AuthContext?> ValidateAsync(string token, CancellationToken cancellationToken) =>
            ValueTask.FromResult(_tokens.GetValueOrDefault(token));
    }
}

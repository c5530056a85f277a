using System.Globalization;
using System.Net.Http.Headers;

namespace Nimbus.Images.Stores;

/// <summary>Where an account's objects are (X-Storage-Url, absolute or relative to the proxy) and the token to send (X-Auth-Token).</summary>
internal sealed record SwiftCredentials(Uri StorageUrl, string Token);

/// <summary>
/// Credentials from Swift's v1 auth (tempauth: GET /auth/v1.0 with X-Auth-User and X-Auth-Key), kept
/// until shortly before X-Auth-Token-Expires so each store operation does not log in again.
/// </summary>
internal sealed class SwiftTempAuth : IDisposable
{
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(1);

    private readonly HttpClient _http;
    private readonly Uri _authUrl;
    private readonly string _user;
    private readonly string _key;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (SwiftCredentials Credentials, DateTimeOffset RenewAt)? _current;

    /// <param name="http">The client to call the proxy with.</param>
    /// <param name="proxyUrl">The Swift proxy's base URL; auth is at /auth/v1.0 under it.</param>
    /// <param name="user">account:user, as the swift CLI's --user.</param>
    /// <param name="key">The user's key.</param>
    /// <param name="time">The clock that decides when the token is renewed.</param>
    public SwiftTempAuth(HttpClient http, Uri proxyUrl, string user, string key, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(proxyUrl);
        ArgumentException.ThrowIfNullOrWhiteSpace(user);
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(time);
        _http = http;
        _authUrl = new Uri(proxyUrl, "/auth/v1.0");
        _user = user;
        _key = key;
        _time = time;
    }

    public async Task<SwiftCredentials> GetAsync(CancellationToken cancellationToken)
    {
        if (_current is { } current && _time.GetUtcNow() < current.RenewAt)
        {
            return current.Credentials;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } again && _time.GetUtcNow() < again.RenewAt)
            {
                return again.Credentials;
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, _authUrl);
            request.Headers.Add("X-Auth-User", _user);
            request.Headers.Add("X-Auth-Key", _key);
            using var response = await _http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new ImageStoreUnavailableException(
                    $"Object storage refused the image store's credentials at {_authUrl} (HTTP {(int)response.StatusCode}); check the store's user and key.");
            }

            var storageUrl = Single(response.Headers, "X-Storage-Url");
            var token = Single(response.Headers, "X-Auth-Token");
            var expires = long.TryParse(Single(response.Headers, "X-Auth-Token-Expires"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                ? TimeSpan.FromSeconds(seconds)
                : TimeSpan.FromHours(1);
            var credentials = new SwiftCredentials(new Uri(_authUrl, storageUrl ?? throw new ImageStoreUnavailableException($"{_authUrl} gave no X-Storage-Url.")),
                token ?? throw new ImageStoreUnavailableException($"{_authUrl} gave no X-Auth-Token."));
            _current = (credentials, _time.GetUtcNow() + expires - RenewBefore);
            return credentials;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private static string? Single(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Nimbus.Objects.Http;

/// <summary>
/// HTTP between the proxy and storage servers, and between storage servers: one pooled
/// connection set per process, a connect timeout and a per-request node timeout, as Swift's
/// conn_timeout and node_timeout.
/// </summary>
public sealed class BackendClient : IDisposable
{
    private readonly HttpClient _http;

    public BackendClient(TimeSpan connectTimeout, TimeSpan nodeTimeout)
    {
        NodeTimeout = nodeTimeout;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = connectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            MaxConnectionsPerServer = 256,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            // Header values are wire strings (one char per byte), as the servers read them.
            RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1,
            ResponseHeaderEncodingSelector = (_, _) => Encoding.Latin1,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>How long one backend may take to start answering.</summary>
    public TimeSpan NodeTimeout { get; }

    /// <summary>The base URL of a storage node's server of one kind: http://ip:port/object.</summary>
    public static string ServerUrl(string ip, int port, string server) =>
        ip.Contains(':', StringComparison.Ordinal) ? $"http://[{ip}]:{port}/{server}" : $"http://{ip}:{port}/{server}";

    /// <summary>
    /// Sends a request and returns once the response headers are in (the body is left to stream).
    /// Connection failures and timeouts come back as null, which callers treat as a node that is down.
    /// The node timeout bounds the whole exchange unless <paramref name="timeout"/> says otherwise:
    /// an upload, whose response comes only after its whole body, watches progress instead.
    /// </summary>
    public async Task<HttpResponseMessage?> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? NodeTimeout);
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// A request for a backend URL sent exactly as built. System.Uri would resolve "." and ".."
    /// segments (and their %2E escapes) in the path, so an object named "../../AUTH_x/c/o" would
    /// reach another account's path on the storage node; Swift names are literal.
    /// </summary>
    public static HttpRequestMessage NewRequest(HttpMethod method, string url) =>
        new(method, new Uri(url, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));

    /// <summary>Sends a request without a body and reads the status only.</summary>
    public async Task<int?> SendForStatusAsync(HttpMethod method, string url, IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        using var request = NewRequest(method, url);
        AddHeaders(request, headers);
        using var response = await SendAsync(request, cancellationToken);
        return response is null ? null : (int)response.StatusCode;
    }

    public static void AddHeaders(HttpRequestMessage request, IEnumerable<KeyValuePair<string, string>> headers)
    {
        foreach (var (name, value) in headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }
    }

    /// <summary>Copies response headers (and content headers) into a flat list, for relaying.</summary>
    public static IEnumerable<KeyValuePair<string, string>> AllHeaders(HttpResponseMessage response)
    {
        // Non-validated: Swift's headers (unquoted ETags, wire strings) need not parse as .NET expects.
        foreach (var (name, values) in response.Headers.NonValidated)
        {
            yield return new(name, values.ToString());
        }

        foreach (var (name, values) in response.Content.Headers.NonValidated)
        {
            yield return new(name, values.ToString());
        }
    }

    public static MediaTypeHeaderValue? ParseContentType(string? value) =>
        MediaTypeHeaderValue.TryParse(value, out var parsed) ? parsed : null;

    public void Dispose() => _http.Dispose();
}

using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Nimbus.Platform.Errors;
using Nimbus.Platform.Health;

namespace Nimbus.Client;

/// <summary>
/// Typed access to a Nimbus API host. Transport failures and fault bodies come back as
/// <see cref="NimbusException"/>s that say which URL failed and why.
/// </summary>
public sealed partial class NimbusClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly HttpMessageHandler _handler;
    private readonly string _endpoint;

    public NimbusClient(Uri baseUrl, HttpMessageHandler? handler = null, TimeSpan? timeout = null)
        : this(baseUrl, baseUrl.ToString(), handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }, timeout)
    {
    }

    private NimbusClient(Uri baseUrl, string endpoint, HttpMessageHandler handler, TimeSpan? timeout)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        BaseUrl = baseUrl;
        _endpoint = endpoint;
        _handler = handler;
        _http = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = baseUrl,
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        };
    }

    public Uri BaseUrl { get; }

    /// <summary>A client of the daemon at <paramref name="location"/>; failures name the URL and where it came from.</summary>
    public static NimbusClient For(DaemonLocation location, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        return new NimbusClient(location.Url, $"{location.Url} (the URL from {location.Source})", new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }, timeout);
    }

    /// <summary>A client of the daemon's local API on its unix socket (<c>$NIMBUS_HOME/run/nimbusd.sock</c>).</summary>
    public static NimbusClient ForUnixSocket(string socketPath, TimeSpan? timeout = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new NimbusClient(new Uri("http://nimbusd/"), $"unix socket {socketPath}", handler, timeout);
    }

    /// <summary><c>GET /healthz</c>. A degraded daemon (503) still returns its report.</summary>
    public async Task<HealthReport> GetHealthAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/healthz"), cancellationToken);
        if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable))
        {
            throw await FaultAsync(response, cancellationToken);
        }

        try
        {
            return await response.Content.ReadFromJsonAsync(HealthJsonContext.Default.HealthReport, cancellationToken)
                ?? throw new JsonException("empty body");
        }
        catch (JsonException ex)
        {
            throw new ServiceUnavailableException(
                "client.bad_response",
                $"{BaseUrl} answered /healthz with something that is not a Nimbus health report ({ex.Message}); is it a nimbusd?",
                ex);
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>GET <paramref name="path"/> and read its JSON body as <paramref name="type"/> says; fault bodies become exceptions.</summary>
    public async Task<T> GetJsonAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        return await ReadJsonAsync(request, type, cancellationToken);
    }

    /// <summary>Sends <paramref name="request"/> and reads its JSON answer as <paramref name="type"/> says; fault bodies become exceptions.</summary>
    public async Task<T> ReadJsonAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var response = await SendCheckedAsync(request, cancellationToken);
        return await response.Content.ReadFromJsonAsync(type, cancellationToken)
            ?? throw new ServiceUnavailableException("client.bad_response", $"{request.RequestUri} answered with an empty body");
    }

    /// <summary>GET <paramref name="path"/> and its body as text; fault bodies become exceptions.</summary>
    public async Task<string> GetTextAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await SendCheckedAsync(request, cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    /// <summary>Opens <paramref name="socket"/> to <paramref name="path"/> over this client's transport (TCP or the unix socket).</summary>
    public Task ConnectWebSocketAsync(ClientWebSocket socket, string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var uri = new Uri(new Uri(BaseUrl.ToString().Replace("http://", "ws://", StringComparison.Ordinal)), path);
        return socket.ConnectAsync(uri, new HttpMessageInvoker(_handler, disposeHandler: false), cancellationToken);
    }

    /// <summary>Sends a request and returns the response when it succeeded; fault bodies become exceptions.</summary>
    public async Task<HttpResponseMessage> SendCheckedAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await SendAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await FaultAsync(response, cancellationToken);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            try
            {
                return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException ex) when (ex.InnerException is SocketException socket)
            {
                throw new ServiceUnavailableException(
                    "client.unreachable",
                    $"nothing answers at {_endpoint}: {socket.Message.TrimEnd('.').ToLowerInvariant()}. Is nimbusd running? Start it with ./run.sh.",
                    ex);
            }
            catch (HttpRequestException ex)
            {
                throw new ServiceUnavailableException("client.unreachable", $"request to {_endpoint} failed: {ex.Message}", ex);
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new NimbusTimeoutException(
                    "client.timeout",
                    $"{_endpoint} did not answer within {_http.Timeout.TotalSeconds:0} seconds.",
                    ex);
            }
        }
    }

    /// <summary>Turns an OpenStack fault body (<c>{"itemNotFound": {"code": 404, "message": "…"}}</c>) into an exception.</summary>
    private static async Task<NimbusException> FaultAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var message = $"{response.RequestMessage?.RequestUri?.PathAndQuery} answered {status} {response.ReasonPhrase}";
        try
        {
            using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.EnumerateObject().FirstOrDefault() is { Value.ValueKind: JsonValueKind.Object } fault
                && fault.Value.TryGetProperty("message", out var text))
            {
                message = text.GetString() ?? message;
            }
        }
        catch (JsonException)
        {
            // Not a fault body; the status line says enough.
        }

        // The stable code the server gave the fault; only an answer without one (not from nimbusd) falls back to the status.
        var code = response.Headers.TryGetValues(ErrorMapping.ErrorCodeHeader, out var codes) && codes.FirstOrDefault() is { Length: > 0 } given
            ? given
            : $"http.{status}";
        return new NimbusException(ErrorMapping.KindForStatus(status), code, message);
    }
}

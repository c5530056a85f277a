namespace Nimbus.Platform.Http;

/// <summary>What every layer may know about the API request it serves, as oslo.context does for OpenStack.</summary>
public sealed class RequestContext
{
    public RequestContext(string requestId, string? globalRequestId)
    {
        RequestId = requestId;
        GlobalRequestId = globalRequestId;
    }

    /// <summary>This service's id for the request, returned as <c>x-openstack-request-id</c>.</summary>
    public string RequestId { get; }

    /// <summary>The id a calling service passed in, so one user action can be followed across services.</summary>
    public string? GlobalRequestId { get; }
}

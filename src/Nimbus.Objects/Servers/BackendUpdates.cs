using System.Globalization;
using Nimbus.Objects.Databases;
using Nimbus.Objects.Http;
using Nimbus.Objects.Storage;

namespace Nimbus.Objects.Servers;

/// <summary>
/// The updates storage servers send each other: an object server tells a container server of an
/// object row (Swift's container update), a container server tells an account server of a
/// container's stats (Swift's account update). Sent inline and retried by the updaters.
/// </summary>
public static class BackendUpdates
{
    /// <summary>Sends one listing update; the status, or null when the server could not be reached.</summary>
    public static Task<int?> SendContainerUpdateAsync(BackendClient backend, string containerServerUrl, string device, ContainerUpdateRecord update, CancellationToken cancellationToken)
    {
        var url = $"{containerServerUrl}/{SwiftPath.Encode(device)}/{update.ContainerPartition}/{SwiftPath.Encode(update.Account)}/{SwiftPath.Encode(update.Container)}/{SwiftPath.Encode(update.Object, keepSlashes: true)}";
        var headers = new List<KeyValuePair<string, string>> { new("X-Timestamp", update.Timestamp.Normal) };
        if (update.Operation == "PUT")
        {
            headers.Add(new("X-Size", update.Size.ToString(CultureInfo.InvariantCulture)));
            headers.Add(new("X-Content-Type", update.ContentType));
            headers.Add(new("X-Etag", update.ETag));
        }

        return backend.SendForStatusAsync(update.Operation == "PUT" ? HttpMethod.Put : HttpMethod.Delete, url, headers, cancellationToken);
    }

    /// <summary>Sends one container's stats to one account server; true when it took them.</summary>
    public static async Task<bool> SendContainerReportAsync(BackendClient backend, string accountServerUrl, string device, int partition, ContainerInfo info, CancellationToken cancellationToken)
    {
        var url = $"{accountServerUrl}/{SwiftPath.Encode(device)}/{partition}/{SwiftPath.Encode(info.Account)}/{SwiftPath.Encode(info.Container)}";
        var status = await backend.SendForStatusAsync(HttpMethod.Put, url,
        [
            new("X-Timestamp", info.PutTimestamp.Normal),
            new("X-Put-Timestamp", info.PutTimestamp.Normal),
            new("X-Delete-Timestamp", info.DeleteTimestamp.Normal),
            new("X-Object-Count", info.ObjectCount.ToString(CultureInfo.InvariantCulture)),
            new("X-Bytes-Used", info.BytesUsed.ToString(CultureInfo.InvariantCulture)),
        ], cancellationToken);
        return status is >= 200 and < 300;
    }
}

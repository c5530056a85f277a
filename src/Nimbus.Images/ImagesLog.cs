using Microsoft.Extensions.Logging;

namespace Nimbus.Images;

/// <summary>Log events of the Images service; event ids 4000–4099 are theirs (Platform/Logging/LogEventIds.cs).</summary>
internal static partial class ImagesLog
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Image {ImageId} is active: {Size} bytes stored at {Store}")]
    public static partial void ImageActive(ILogger logger, string imageId, long size, string store);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Upload of image {ImageId} failed; the image is now {Status}")]
    public static partial void UploadFailed(ILogger logger, string imageId, string status, Exception exception);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Could not remove the bytes of image {ImageId} at {Location}; they are left behind")]
    public static partial void StrayBytes(ILogger logger, string imageId, string location, Exception exception);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Image {ImageId} was left {Status} by an interrupted upload; it is {NewStatus} again")]
    public static partial void Recovered(ILogger logger, string imageId, string status, string newStatus);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Image {ImageId} deleted")]
    public static partial void ImageDeleted(ILogger logger, string imageId);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "Images database ready at {Location}")]
    public static partial void DatabaseReady(ILogger logger, string location);
}

using Microsoft.Extensions.Logging;

namespace Nimbus.Images.Stores;

/// <summary>Image data's log events (uploads and stores); ids 4100–4199 are stable (Platform/Logging/LogEventIds.cs).</summary>
internal static partial class ImagesStoreLog
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "Image {ImageId} stored in {Store}: {Size} bytes, {Format}, virtual size {VirtualSize}")]
    public static partial void Uploaded(ILogger logger, string imageId, string store, long size, string format, long? virtualSize);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Image {ImageId} upload refused ({Code}): {Reason}")]
    public static partial void UploadRefused(ILogger logger, string imageId, string code, string reason);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Image {ImageId} upload to {Store} failed")]
    public static partial void UploadFailed(ILogger logger, string imageId, string store, Exception exception);

    [LoggerMessage(EventId = 4110, Level = LogLevel.Warning, Message = "Could not remove {Path} left by a failed image write")]
    public static partial void CleanupFailed(ILogger logger, string path, Exception exception);
}

using Nimbus.Platform.Errors;

namespace Nimbus.Images.Stores;

/// <summary>The uploaded bytes are not the declared disk_format, or are a format refused for safety (HTTP 400).</summary>
internal sealed class ImageFormatMismatchException(string message)
    : NimbusException(ErrorKind.InvalidInput, "image.format_mismatch", message);

/// <summary>The upload is larger than the size limit or quota allows (HTTP 413).</summary>
internal sealed class ImageTooLargeException(string message)
    : NimbusException(ErrorKind.OverLimit, "image.too_large", message);

/// <summary>The store's medium is full (Glance's StorageFull, HTTP 413).</summary>
internal sealed class ImageStoreFullException(string message, Exception? innerException = null)
    : NimbusException(ErrorKind.OverLimit, "image.store_full", message, innerException);

/// <summary>The body ended before the announced size, or the client went away mid-upload (HTTP 400).</summary>
internal sealed class ImageUploadIncompleteException(string message, Exception? innerException = null)
    : NimbusException(ErrorKind.InvalidInput, "image.upload_incomplete", message, innerException);

/// <summary>The body carried more bytes than the size the client announced (HTTP 400).</summary>
internal sealed class ImageSizeMismatchException(string message)
    : NimbusException(ErrorKind.InvalidInput, "image.size_mismatch", message);

/// <summary>The image's data is not in the store (deleted, or the location is stale) (HTTP 404).</summary>
internal sealed class ImageDataNotFoundException(string message)
    : NimbusException(ErrorKind.NotFound, "image.data_not_found", message);

/// <summary>A location that does not belong to the store asked to read it (HTTP 400).</summary>
internal sealed class ImageLocationInvalidException(string message)
    : NimbusException(ErrorKind.InvalidInput, "image.location_invalid", message);

/// <summary>The backing store refused or failed the operation (HTTP 503).</summary>
internal sealed class ImageStoreUnavailableException(string message, Exception? innerException = null)
    : NimbusException(ErrorKind.Unavailable, "image.store_unavailable", message, innerException);

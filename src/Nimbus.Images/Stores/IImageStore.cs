namespace Nimbus.Images.Stores;

/// <summary>
/// Where image bytes live (Glance's glance_store). Implementations: the local filesystem (default),
/// object storage through the Swift API, and an in-memory twin for tests; all pass one conformance
/// suite. A write is all or nothing: until it returns, nothing is readable at the location, and a
/// failed or cancelled write leaves nothing behind.
/// </summary>
public interface IImageStore
{
    /// <summary>The store's name in image locations and messages (<c>file</c>, <c>swift</c>).</summary>
    string Name { get; }

    /// <summary>Stores <paramref name="data"/> under <paramref name="imageId"/>; returns the location to read it back from.</summary>
    Task<string> WriteAsync(string imageId, Stream data, CancellationToken cancellationToken);

    /// <summary>Opens the bytes at <paramref name="location"/>, from <paramref name="offset"/> for <paramref name="length"/> bytes (null: to the end).</summary>
    Task<Stream> OpenReadAsync(string location, long offset, long? length, CancellationToken cancellationToken);

    /// <summary>Removes the bytes; removing what is already gone is not an error.</summary>
    Task DeleteAsync(string location, CancellationToken cancellationToken);
}

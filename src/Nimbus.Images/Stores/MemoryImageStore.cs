using System.Collections.Concurrent;

namespace Nimbus.Images.Stores;

/// <summary>
/// The in-memory twin of the real stores, for tests: same contract, same conformance suite. Holds
/// whole images in memory by design, so it is for small test images only.
/// </summary>
internal sealed class MemoryImageStore : IImageStore
{
    private const string Scheme = "memory://";
    private readonly ConcurrentDictionary<string, byte[]> _images = new(StringComparer.Ordinal);

    public string Name => "memory";

    /// <summary>The ids currently holding data (tests check that failed writes left nothing).</summary>
    public IReadOnlyCollection<string> ImageIds => [.. _images.Keys];

    public async Task<string> WriteAsync(string imageId, Stream data, CancellationToken cancellationToken)
    {
        ImageRange.ValidateId(imageId);
        ArgumentNullException.ThrowIfNull(data);
        using var buffer = new MemoryStream();
        await data.CopyToAsync(buffer, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        // Only a complete copy becomes visible, as a rename does on disk.
        _images[imageId] = buffer.ToArray();
        return Scheme + imageId;
    }

    public Task<Stream> OpenReadAsync(string location, long offset, long? length, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ImageRange.Validate(offset, length);
        var id = IdOf(location);
        if (!_images.TryGetValue(id, out var bytes))
        {
            throw new ImageDataNotFoundException($"No image data at {location}.");
        }

        var start = (int)Math.Min(offset, bytes.Length);
        var count = (int)Math.Min(length ?? long.MaxValue, bytes.Length - start);
        return Task.FromResult<Stream>(new MemoryStream(bytes, start, count, writable: false));
    }

    public Task DeleteAsync(string location, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _images.TryRemove(IdOf(location), out _);
        return Task.CompletedTask;
    }

    private static string IdOf(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (!location.StartsWith(Scheme, StringComparison.Ordinal))
        {
            throw new ImageLocationInvalidException($"'{location}' is not a location of the memory store.");
        }

        return location[Scheme.Length..];
    }
}

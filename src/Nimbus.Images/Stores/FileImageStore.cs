using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Nimbus.Shared;

namespace Nimbus.Images.Stores;

/// <summary>
/// Images as files in one directory (glance_store's filesystem store), named by image id. A write goes
/// to a hidden temp file in the same directory, is fsynced, renamed into place and the directory
/// fsynced, so a reader or a crash sees the whole image or none of it. Location: <c>file:///…/&lt;id&gt;</c>.
/// </summary>
internal sealed class FileImageStore : IImageStore
{
    private const int CopyBufferSize = 1024 * 1024;
    private const string TempSuffix = ".tmp";
    private const int NoSpaceLeftOnDevice = 28;

    private readonly ILogger _logger;

    public FileImageStore(string directory, ILogger<FileImageStore>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        AtomicFile.CreateDirectory(Directory);
    }

    /// <summary>Where images live when nothing else is configured: <c>$NIMBUS_HOME/images/store</c>.</summary>
    public static string DefaultDirectory(string nimbusHome) => Path.Combine(nimbusHome, "images", "store");

    public string Name => "file";

    public string Directory { get; }

    public async Task<string> WriteAsync(string imageId, Stream data, CancellationToken cancellationToken)
    {
        ImageRange.ValidateId(imageId);
        ArgumentNullException.ThrowIfNull(data);
        var path = Path.Combine(Directory, imageId);
        var temp = Path.Combine(Directory, $".{imageId}.{Guid.NewGuid():N}{TempSuffix}");
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
                BufferSize = 0,
            };
            await using (var file = new FileStream(temp, options))
            {
                await data.CopyToAsync(file, CopyBufferSize, cancellationToken);
                file.Flush(flushToDisk: true);
            }

            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temp, path, overwrite: true);
            AtomicFile.SyncDirectory(Directory);
            return new Uri(path).AbsoluteUri;
        }
        catch (IOException ex) when (IsDiskFull(ex))
        {
            RemoveQuietly(temp);
            throw new ImageStoreFullException($"The image store's disk ({Directory}) is full; free space there or use a smaller image.", ex);
        }
        catch
        {
            RemoveQuietly(temp);
            throw;
        }
    }

    public Task<Stream> OpenReadAsync(string location, long offset, long? length, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ImageRange.Validate(offset, length);
        var path = PathOf(location);
        FileStream file;
        try
        {
            file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.Read | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
                BufferSize = 0,
            });
        }
        catch (FileNotFoundException)
        {
            throw new ImageDataNotFoundException($"No image data at {location}.");
        }

        file.Position = Math.Min(offset, file.Length);
        Stream stream = length is { } l ? new LimitedReadStream(file, l) : file;
        return Task.FromResult(stream);
    }

    public Task DeleteAsync(string location, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = PathOf(location);
        if (File.Exists(path))
        {
            File.Delete(path);
            AtomicFile.SyncDirectory(Directory);
        }

        return Task.CompletedTask;
    }

    /// <summary>ENOSPC: .NET reports an unmapped errno as the IOException's HResult.</summary>
    internal static bool IsDiskFull(IOException exception) => exception.HResult == NoSpaceLeftOnDevice;

    /// <summary>Removes temp files a crash left mid-write; call at start-up, before any write begins.</summary>
    public int RemoveAbandonedWrites()
    {
        var removed = 0;
        foreach (var temp in System.IO.Directory.EnumerateFiles(Directory, "." + "*" + TempSuffix))
        {
            RemoveQuietly(temp);
            removed++;
        }

        return removed;
    }

    /// <summary>The file a location names, refusing any location outside this store's directory.</summary>
    private string PathOf(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (!Uri.TryCreate(location, UriKind.Absolute, out var uri) || !uri.IsFile)
        {
            throw new ImageLocationInvalidException($"'{location}' is not a file location.");
        }

        var path = Path.GetFullPath(uri.LocalPath);
        if (!string.Equals(Path.GetDirectoryName(path), Directory, StringComparison.Ordinal) || Path.GetFileName(path).StartsWith('.'))
        {
            throw new ImageLocationInvalidException($"'{location}' is not in the image store directory {Directory}.");
        }

        return path;
    }

    private void RemoveQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException ex)
        {
            ImagesStoreLog.CleanupFailed(_logger, path, ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            ImagesStoreLog.CleanupFailed(_logger, path, ex);
        }
    }
}

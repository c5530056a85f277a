using Nimbus.Daemon.Objects;

namespace Nimbus.Daemon.Images;

/// <summary>
/// Where the swift image store finds the all-in-one's object storage: the API host's address, known
/// once it listens, and the tempauth admin of the local cluster.
/// </summary>
internal sealed class ImageStoreSwiftAccess(ObjectStorage objects)
{
    private readonly TaskCompletionSource<Uri> _apiUrl = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Started(Uri apiUrl) => _apiUrl.TrySetResult(apiUrl);

    public Task<Uri> ApiUrlAsync(CancellationToken cancellationToken) => _apiUrl.Task.WaitAsync(cancellationToken);

    /// <summary>The tempauth user (account:user) and key the store logs in with.</summary>
    public (string User, string Key) Admin()
    {
        var admin = objects.AdminUser()
            ?? throw new Platform.Errors.ServiceUnavailableException("images.objects_starting", "object storage is still starting; try again in a moment.");
        return ($"{admin.Account}:{admin.User}", admin.Key);
    }
}

using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Nimbus.Objects.Storage;

namespace Nimbus.Objects.Daemons;

/// <summary>
/// Swift's object auditor: rereads every object, checks its MD5 and length against what was
/// recorded at write time, and quarantines a corrupt one so that it reads as missing here and the
/// replicator brings a good copy back from another node.
/// </summary>
public sealed class ObjectAuditor(string devicesRoot, IObjectBackend objects, TimeProvider time, ILogger logger)
    : StorageDaemon("object-auditor", TimeSpan.FromMinutes(30), time, logger)
{
    public override async Task<DaemonPass> RunOnceAsync(CancellationToken cancellationToken)
    {
        var pass = DaemonPass.Empty;
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            foreach (var device in Devices(devicesRoot))
            {
                await foreach (var location in objects.EnumerateAsync(device, cancellationToken))
                {
                    var problem = await AuditAsync(location, buffer, cancellationToken);
                    if (problem is null)
                    {
                        pass += new DaemonPass(1, 0, 0);
                        continue;
                    }

                    ObjectsLog.Quarantined(Logger, device, location.Hash, problem);
                    await objects.QuarantineAsync(location, cancellationToken);
                    pass += new DaemonPass(1, 1, 0);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return pass;
    }

    /// <summary>What is wrong with one object's data, or null when it matches its metadata.</summary>
    private async Task<string?> AuditAsync(ObjectLocation location, byte[] buffer, CancellationToken cancellationToken)
    {
        await using var handle = await objects.OpenAsync(location, cancellationToken);
        if (handle.Presence != ObjectPresence.Present)
        {
            return null;
        }

        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        long length = 0;
        await using (var stream = handle.OpenRead())
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                md5.AppendData(buffer, 0, read);
                length += read;
            }
        }

        var etag = Convert.ToHexStringLower(md5.GetHashAndReset());
        if (handle.Metadata.TryGetValue("Content-Length", out var recordedLength)
            && long.TryParse(recordedLength, NumberStyles.None, CultureInfo.InvariantCulture, out var expectedLength) && expectedLength != length)
        {
            return $"length {length} differs from the recorded {expectedLength}";
        }

        if (handle.Metadata.TryGetValue("ETag", out var recordedEtag) && !string.Equals(recordedEtag, etag, StringComparison.OrdinalIgnoreCase))
        {
            return $"MD5 {etag} differs from the recorded ETag {recordedEtag}";
        }

        return null;
    }
}

using Nimbus.Platform.Errors;
using Nimbus.Virt;

namespace Nimbus.Daemon.Virt;

/// <summary>The one place where the virt layer's errors become Nimbus errors (and so HTTP faults and exit codes).</summary>
internal static class VirtErrors
{
    public static NimbusException Translate(VirtException error) => new(
        error.Code switch
        {
            VirtErrorCode.NoDomain or VirtErrorCode.NoStoragePool or VirtErrorCode.NoStorageVolume => ErrorKind.NotFound,
            VirtErrorCode.XmlError or VirtErrorCode.InvalidArgument or VirtErrorCode.NoConnect => ErrorKind.InvalidInput,
            VirtErrorCode.OperationInvalid or VirtErrorCode.AlreadyExists => ErrorKind.Conflict,
            VirtErrorCode.NoSupport => ErrorKind.Unsupported,
            VirtErrorCode.OperationTimeout => ErrorKind.Timeout,
            _ => ErrorKind.Internal,
        },
        "virt." + System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(error.Code.ToString()),
        error.Message,
        error);
}

namespace Nimbus.Virt;

/// <summary>
/// What went wrong in the virtualization layer, with libvirt's error numbers' meaning
/// (virErrorNumber). Callers map these to their own error model; this library knows nothing of HTTP.
/// </summary>
public enum VirtErrorCode
{
    /// <summary>VIR_ERR_INTERNAL_ERROR: a bug or an unexpected failure.</summary>
    InternalError,

    /// <summary>VIR_ERR_NO_SUPPORT: this driver does not do that.</summary>
    NoSupport,

    /// <summary>VIR_ERR_INVALID_ARG: an argument is out of range or malformed.</summary>
    InvalidArgument,

    /// <summary>VIR_ERR_XML_ERROR: a definition document is malformed or fails validation.</summary>
    XmlError,

    /// <summary>VIR_ERR_NO_DOMAIN: no domain with that name or UUID.</summary>
    NoDomain,

    /// <summary>VIR_ERR_OPERATION_INVALID: the object's state does not allow the operation.</summary>
    OperationInvalid,

    /// <summary>VIR_ERR_OPERATION_FAILED: the hypervisor or a tool failed to do it.</summary>
    OperationFailed,

    /// <summary>VIR_ERR_OPERATION_TIMEOUT: it did not finish in time.</summary>
    OperationTimeout,

    /// <summary>VIR_ERR_NO_STORAGE_POOL: no pool with that name or UUID.</summary>
    NoStoragePool,

    /// <summary>VIR_ERR_NO_STORAGE_VOL: no volume with that name, key or path.</summary>
    NoStorageVolume,

    /// <summary>VIR_ERR_DOM_EXIST / VIR_ERR_STORAGE_POOL_EXIST…: the name or UUID is taken.</summary>
    AlreadyExists,

    /// <summary>VIR_ERR_NO_CONNECT: no driver answers this URI.</summary>
    NoConnect,
}

/// <summary>The one exception type of the virtualization layer; <see cref="Code"/> says which failure it is.</summary>
public sealed class VirtException(VirtErrorCode code, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    public VirtErrorCode Code { get; } = code;

    /// <summary>The central "not supported by this driver" refusal.</summary>
    public static VirtException NotSupported(string driver, string operation) =>
        new(VirtErrorCode.NoSupport, $"this function is not supported by the {driver} driver: {operation}");

    /// <summary>The central "no domain" refusal: none with that name or UUID, or it is being removed.</summary>
    public static VirtException NoDomain(string nameOrUuid) =>
        new(VirtErrorCode.NoDomain, $"Domain not found: no domain with matching name or uuid '{nameOrUuid}'");

    /// <summary>The central "no pool" refusal: none with that name or UUID, or it is being removed.</summary>
    public static VirtException NoStoragePool(string nameOrUuid) =>
        new(VirtErrorCode.NoStoragePool, $"Storage pool not found: no storage pool with matching name '{nameOrUuid}'");

    /// <summary>The central "no volume" refusal: the name is not one of the pool's volumes (virStorageVolLookupByName).</summary>
    public static VirtException NoStorageVolume(string volume, string pool) =>
        new(VirtErrorCode.NoStorageVolume, $"Storage volume not found: no storage vol with matching name '{volume}' in pool '{pool}'");
}

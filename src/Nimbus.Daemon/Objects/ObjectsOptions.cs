using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Nimbus.Objects.Proxy;
using Nimbus.Platform.Configuration;

namespace Nimbus.Daemon.Objects;

/// <summary>Object storage in nimbusd: the proxy and the all-in-one's storage nodes. Section <c>Objects</c>; see docs/objects.md.</summary>
[OptionsSection("Objects")]
public sealed class ObjectsOptions : IValidatableObject
{
    [Description("Whether nimbusd runs object storage (the Swift API on the API port and its storage nodes).")]
    public bool Enabled { get; set; } = true;

    [Description("Storage nodes of the all-in-one, each with its own listener and device; used when the rings are first built.")]
    [Range(1, 16, ErrorMessage = "must be from 1 to 16 nodes.")]
    public int Nodes { get; set; } = 4;

    [Description("Copies of each object, container and account; used when the rings are first built.")]
    [Range(1, 6, ErrorMessage = "must be from 1 to 6 replicas.")]
    public int Replicas { get; set; } = 3;

    [Description("log2 of the number of ring partitions; used when the rings are first built.")]
    [Range(4, 20, ErrorMessage = "must be from 4 to 20.")]
    public int PartPower { get; set; } = 10;

    [Description("Node N of the all-in-one listens on BasePort + N (6201, 6202, …) on the API host's address.")]
    [Range(1024, 65000, ErrorMessage = "must be from 1024 to 65000.")]
    public int BasePort { get; set; } = 6200;

    [Description("The proxy's middleware pipeline, in order, ending in proxy-server (Swift's [pipeline:main]).")]
    public string Pipeline { get; set; } = ProxyPipeline.DefaultPipeline;

    [Description("With --role storage: the port the node's object, container and account servers listen on, at Daemon:Listen.")]
    [Range(1, 65535, ErrorMessage = "must be a port number from 1 to 65535.")]
    public int NodePort { get; set; } = 6200;

    [Description("With --role storage: the directory holding the node's devices (one directory or mount per device); default $NIMBUS_HOME/objects/devices.")]
    public string? DevicesRoot { get; set; }

    [Description("With --role storage: where the ring files (account.ring, container.ring, object.ring) are shipped; default $NIMBUS_HOME/objects/rings.")]
    public string? RingDirectory { get; set; }

    [Description("Seconds a storage node may take to answer the proxy before it counts as down (Swift's node_timeout).")]
    [Range(1, 600, ErrorMessage = "must be from 1 to 600 seconds.")]
    public int NodeTimeoutSeconds { get; set; } = 10;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Replicas > Nodes)
        {
            yield return new ValidationResult(
                $"{Replicas} replicas need at least as many nodes, and Objects:Nodes is {Nodes}; lower Objects:Replicas or raise Objects:Nodes.",
                [nameof(Replicas)]);
        }

        if (BasePort + Nodes > 65535)
        {
            yield return new ValidationResult($"nodes would listen past port 65535; lower Objects:BasePort.", [nameof(BasePort)]);
        }
    }
}

using System.Text.Json.Serialization;

namespace Nimbus.Objects.Ring;

/// <summary>The JSON header of a ring file: everything but the assignment table.</summary>
internal sealed record RingHeader(
    int PartPower,
    int Replicas,
    long Version,
    string HashPathPrefix,
    string HashPathSuffix,
    IReadOnlyList<RingDevice> Devices);

/// <summary>
/// A builder file: the ring's parameters and devices (removed ones until the next rebalance drops
/// them), the assignment table as base64 of little-endian uint16 device ids per replica, and each
/// partition's last move as base64 of little-endian uint32 Unix seconds (0: never).
/// </summary>
internal sealed record BuilderFile(
    int Format,
    int PartPower,
    int Replicas,
    double MinPartHours,
    string HashPathPrefix,
    string HashPathSuffix,
    long Version,
    int NextDeviceId,
    IReadOnlyList<BuilderDevice> Devices,
    IReadOnlyList<string>? Replica2Part2Dev,
    string? LastMoved);

internal sealed record BuilderDevice(int Id, int Region, int Zone, string Ip, int Port, string Device, double Weight, string Meta, bool Removed);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(RingHeader))]
[JsonSerializable(typeof(BuilderFile))]
internal sealed partial class RingJson : JsonSerializerContext;

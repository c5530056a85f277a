using System.Text.Json;
using System.Text.Json.Nodes;

namespace Nimbus.Virt.Qemu.Qmp;

/// <summary>Reads members of QMP replies; a missing required member is a protocol error naming the reply.</summary>
internal static class QmpJson
{
    public static JsonObject Object(JsonNode? node, string what) =>
        node as JsonObject ?? throw new QmpProtocolException($"QMP {what} reply is not a JSON object.");

    public static JsonArray Array(JsonNode? node, string what) =>
        node as JsonArray ?? throw new QmpProtocolException($"QMP {what} reply is not a JSON array.");

    public static string? OptionalString(JsonObject obj, string name) =>
        obj[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    public static long? OptionalLong(JsonObject obj, string name) =>
        obj[name] is JsonValue value && value.TryGetValue<long>(out var number) ? number : null;

    public static string RequiredString(JsonObject obj, string name, string what) =>
        OptionalString(obj, name) ?? throw Missing(name, "string", what);

    public static long RequiredLong(JsonObject obj, string name, string what) =>
        OptionalLong(obj, name) ?? throw Missing(name, "integer", what);

    public static int RequiredInt(JsonObject obj, string name, string what) =>
        obj[name] is JsonValue value && value.TryGetValue<int>(out var number) ? number : throw Missing(name, "integer", what);

    public static bool RequiredBool(JsonObject obj, string name, string what) =>
        obj[name] is JsonValue value && value.GetValueKind() is JsonValueKind.True or JsonValueKind.False
            ? value.GetValue<bool>()
            : throw Missing(name, "boolean", what);

    private static QmpProtocolException Missing(string name, string type, string what) =>
        new($"QMP {what} is missing the {type} member \"{name}\".");
}

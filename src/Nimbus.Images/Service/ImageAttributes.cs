using System.Collections.Immutable;
using System.Text.Json;
using Nimbus.Platform.Errors;

namespace Nimbus.Images.Service;

/// <summary>
/// Which image attributes a caller may set and what values they take, as Glance's image schema
/// and its images controller decide (glance/api/v2/images.py, glance/domain/__init__.py).
/// </summary>
internal static class ImageAttributes
{
    public const int MaxNameLength = 255;
    public const int MaxTagLength = 255;
    public const int MaxPropertyNameLength = 255;
    public const int MaxPropertyValueLength = 65535;

    public static readonly ImmutableArray<string> DiskFormats = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"];

    public static readonly ImmutableArray<string> ContainerFormats = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"];

    /// <summary>Attributes only Nimbus sets; a caller naming one gets 403 "Attribute 'x' is read-only.".</summary>
    public static readonly ImmutableHashSet<string> ReadOnly = ImmutableHashSet.Create(
        StringComparer.Ordinal, "created_at", "updated_at", "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size", "direct_url", "self", "file", "schema", "stores");

    /// <summary>Attributes Glance keeps for itself; 403 "Attribute 'x' is reserved.".</summary>
    public static readonly ImmutableHashSet<string> Reserved = ImmutableHashSet.Create(
        StringComparer.Ordinal, "location", "locations", "deleted", "deleted_at");

    /// <summary>Attributes that are columns rather than free-form properties.</summary>
    public static readonly ImmutableHashSet<string> Base = ImmutableHashSet.Create(
        StringComparer.Ordinal, "id", "name", "status", "disk_format", "container_format", "visibility", "protected", "min_disk", "min_ram", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "owner", "created_at", "updated_at", "tags", "os_hidden");

    /// <summary>Refuses attributes a caller may never set, with Glance's words.</summary>
    public static void EnsureWritable(string attribute)
    {
        if (ReadOnly.Contains(attribute) || attribute == "id")
        {
            throw new ForbiddenException("images.attribute_read_only", $"Attribute '{attribute}' is read-only.");
        }

        if (Reserved.Contains(attribute) || attribute.StartsWith("os_glance", StringComparison.Ordinal))
        {
            throw new ForbiddenException("images.attribute_reserved", $"Attribute '{attribute}' is reserved.");
        }
    }

    public static string? Name(JsonElement value) =>
        value.ValueKind == JsonValueKind.Null ? null : StringAttribute("name", value, MaxNameLength);

    public static string Visibility(JsonElement value) =>
        OneOf("visibility", value, ImageVisibility.All, nullable: false)!;

    public static string? DiskFormat(JsonElement value) => OneOf("disk_format", value, DiskFormats, nullable: true);

    public static string? ContainerFormat(JsonElement value) => OneOf("container_format", value, ContainerFormats, nullable: true);

    public static bool Boolean(string attribute, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw SchemaMismatch($"{Show(value)} is not of type 'boolean' (attribute '{attribute}')"),
    };

    public static long NonNegativeInteger(string attribute, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            throw SchemaMismatch($"{Show(value)} is not of type 'integer' (attribute '{attribute}')");
        }

        return number >= 0 ? number : throw SchemaMismatch($"{number} is less than the minimum of 0 (attribute '{attribute}')");
    }

    public static string? Owner(JsonElement value) =>
        value.ValueKind == JsonValueKind.Null ? null : StringAttribute("owner", value, 255);

    public static ImmutableSortedSet<string> Tags(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw SchemaMismatch($"{Show(value)} is not of type 'array' (attribute 'tags')");
        }

        var tags = ImmutableSortedSet.CreateBuilder<string>(StringComparer.Ordinal);
        foreach (var tag in value.EnumerateArray())
        {
            tags.Add(Tag(StringAttribute("tags", tag, MaxTagLength)));
        }

        return tags.ToImmutable();
    }

    public static string Tag(string tag)
    {
        if (tag.Length > MaxTagLength)
        {
            throw SchemaMismatch($"tag '{tag[..20]}…' is longer than {MaxTagLength} characters");
        }

        return tag;
    }

    /// <summary>A free-form property: Glance's schema takes strings only (additionalProperties: string).</summary>
    public static string PropertyValue(string name, JsonElement value)
    {
        if (name.Length is 0 or > MaxPropertyNameLength)
        {
            throw SchemaMismatch($"property name '{name}' must be 1 to {MaxPropertyNameLength} characters");
        }

        return StringAttribute(name, value, MaxPropertyValueLength);
    }

    public static void EnsureUuid(string id)
    {
        if (!Guid.TryParseExact(id, "D", out _))
        {
            throw SchemaMismatch($"'{id}' does not match '^([0-9a-fA-F]){{8}}-([0-9a-fA-F]){{4}}-([0-9a-fA-F]){{4}}-([0-9a-fA-F]){{4}}-([0-9a-fA-F]){{12}}$' (attribute 'id')");
        }
    }

    /// <summary>Glance's 400 for a value its image schema refuses.</summary>
    public static InvalidInputException SchemaMismatch(string detail) =>
        new("images.schema_mismatch", $"Provided object does not match schema 'image': {detail}");

    private static string StringAttribute(string attribute, JsonElement value, int maxLength)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            throw SchemaMismatch($"{Show(value)} is not of type 'string' (attribute '{attribute}')");
        }

        var text = value.GetString()!;
        return text.Length <= maxLength ? text : throw SchemaMismatch($"'{attribute}' is too long (at most {maxLength} characters)");
    }

    private static string? OneOf(string attribute, JsonElement value, ImmutableArray<string> allowed, bool nullable)
    {
        if (nullable && value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String && allowed.Contains(value.GetString()!))
        {
            return value.GetString();
        }

        var choices = string.Join(", ", allowed.Select(a => $"'{a}'"));
        throw SchemaMismatch($"{Show(value)} is not one of [{(nullable ? "None, " : string.Empty)}{choices}] (attribute '{attribute}')");
    }

    private static string Show(JsonElement value) => value.ValueKind == JsonValueKind.String ? $"'{value.GetString()}'" : value.GetRawText();
}

using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Nimbus.Platform.Errors;

namespace Nimbus.Images.Service;

/// <summary>The two JSON patch dialects Glance accepts on PATCH /v2/images/{id} (api-ref "Update image").</summary>
internal enum PatchDialect
{
    /// <summary><c>application/openstack-images-v2.1-json-patch</c>: RFC 6902 objects, <c>{"op": "add", "path": "/x", "value": …}</c>.</summary>
    V21,

    /// <summary><c>application/openstack-images-v2.0-json-patch</c>: draft 4, <c>{"add": "/x", "value": …}</c>; add refuses what exists.</summary>
    V20,
}

/// <summary>
/// One change of a patch, its path already reduced to the attribute it names; <see cref="Index"/>
/// is set for one element of the tags list (<c>/tags/0</c>, <c>/tags/-</c>).
/// </summary>
internal sealed record PatchOperation(string Op, string Attribute, JsonElement? Value, PatchDialect Dialect, string? Index = null);

/// <summary>
/// Parses and applies Glance's image patches (glance/api/v2/images.py RequestDeserializer.update
/// and ImagesController._do_add/_do_replace/_do_remove), with its messages and statuses.
/// </summary>
internal static class ImagePatch
{
    public const string MediaTypeV21 = "application/openstack-images-v2.1-json-patch";
    public const string MediaTypeV20 = "application/openstack-images-v2.0-json-patch";

    private static readonly string[] Operations = ["add", "remove", "replace"];

    /// <summary>The dialect a Content-Type names, or null when it is not a patch media type (415).</summary>
    public static PatchDialect? DialectOf(string? contentType)
    {
        var mediaType = contentType?.Split(';')[0].Trim();
        return mediaType switch
        {
            _ when string.Equals(mediaType, MediaTypeV21, StringComparison.OrdinalIgnoreCase) => PatchDialect.V21,
            _ when string.Equals(mediaType, MediaTypeV20, StringComparison.OrdinalIgnoreCase) => PatchDialect.V20,
            _ => null,
        };
    }

    public static IReadOnlyList<PatchOperation> Parse(JsonElement body, PatchDialect dialect)
    {
        if (body.ValueKind != JsonValueKind.Array)
        {
            throw Bad("Request body must be a JSON array of operation objects.");
        }

        var operations = new List<PatchOperation>();
        foreach (var change in body.EnumerateArray())
        {
            if (change.ValueKind != JsonValueKind.Object)
            {
                throw Bad("Operations must be JSON objects.");
            }

            var (op, path) = dialect == PatchDialect.V21 ? OperationV21(change) : OperationV20(change);
            JsonElement? value = null;
            if (op != "remove")
            {
                value = change.TryGetProperty("value", out var given)
                    ? given.Clone()
                    : throw Bad("Unable to find 'value' in JSON Schema change");
            }

            var (attribute, index) = Attribute(path);
            operations.Add(new PatchOperation(op, attribute, value, dialect, index));
        }

        return operations;
    }

    /// <summary>
    /// Applies <paramref name="operations"/> in order to <paramref name="image"/> and returns the result;
    /// throws on the first refused change, leaving the stored image untouched.
    /// </summary>
    public static Image Apply(Image image, IReadOnlyList<PatchOperation> operations)
    {
        ArgumentNullException.ThrowIfNull(image);
        foreach (var operation in operations)
        {
            ImageAttributes.EnsureWritable(operation.Attribute);
            image = operation.Op switch
            {
                _ when operation.Index is not null => TagElement(image, operation),
                "remove" => Remove(image, operation.Attribute),
                "add" => Add(image, operation),
                _ => Replace(image, operation),
            };
        }

        return image;
    }

    /// <summary>
    /// A change to one element of the tags list, as openstacksdk sends for <c>openstack image set --tag</c>
    /// (its patches come from jsonpatch.make_patch); indexes refer to the list as shown, in order.
    /// </summary>
    private static Image TagElement(Image image, PatchOperation operation)
    {
        var tags = image.Tags.ToList();
        // "-" is the end of the list (RFC 6901 §4), only meaningful for add.
        var at = operation.Index == "-" && operation.Op == "add" ? tags.Count : -1;
        if (at < 0 && (!int.TryParse(operation.Index, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out at) || at > tags.Count || (at == tags.Count && operation.Op != "add")))
        {
            throw Bad($"Invalid JSON pointer for this resource: '/tags/{operation.Index}'");
        }

        if (operation.Op is "remove" or "replace")
        {
            tags.RemoveAt(at);
        }

        if (operation.Op is "add" or "replace")
        {
            var value = operation.Value!.Value;
            tags.Add(ImageAttributes.Tag(value.ValueKind == JsonValueKind.String ? value.GetString()! : throw ImageAttributes.SchemaMismatch($"{value.GetRawText()} is not of type 'string' (attribute 'tags')")));
        }

        return image with { Tags = tags.ToImmutableSortedSet(StringComparer.Ordinal) };
    }

    private static Image Add(Image image, PatchOperation operation)
    {
        var attribute = operation.Attribute;
        var exists = ImageAttributes.Base.Contains(attribute) || image.Properties.ContainsKey(attribute);
        if (exists && operation.Dialect == PatchDialect.V20)
        {
            throw new ConflictException("images.property_exists", $"Property {attribute} already present.");
        }

        return Set(image, attribute, operation.Value!.Value);
    }

    private static Image Replace(Image image, PatchOperation operation)
    {
        var attribute = operation.Attribute;
        if (!ImageAttributes.Base.Contains(attribute) && !image.Properties.ContainsKey(attribute))
        {
            throw new ConflictException("images.property_missing", $"Property {attribute} does not exist.");
        }

        return Set(image, attribute, operation.Value!.Value);
    }

    private static Image Remove(Image image, string attribute)
    {
        if (ImageAttributes.Base.Contains(attribute))
        {
            throw new ForbiddenException("images.property_not_removable", $"Property {attribute} may not be removed.");
        }

        return image.Properties.ContainsKey(attribute)
            ? image with { Properties = image.Properties.Remove(attribute) }
            : throw new ConflictException("images.property_missing", $"Property {attribute} does not exist.");
    }

    private static Image Set(Image image, string attribute, JsonElement value) => attribute switch
    {
        "name" => image with { Name = ImageAttributes.Name(value) },
        "visibility" => image with { Visibility = ImageAttributes.Visibility(value) },
        "protected" => image with { Protected = ImageAttributes.Boolean(attribute, value) },
        "os_hidden" => image with { OsHidden = ImageAttributes.Boolean(attribute, value) },
        "min_disk" => image with { MinDisk = ImageAttributes.NonNegativeInteger(attribute, value) },
        "min_ram" => image with { MinRam = ImageAttributes.NonNegativeInteger(attribute, value) },
        "tags" => image with { Tags = ImageAttributes.Tags(value) },
        "owner" => image with { Owner = ImageAttributes.Owner(value) },
        "disk_format" => EnsureQueued(image, attribute) with { DiskFormat = ImageAttributes.DiskFormat(value) },
        "container_format" => EnsureQueued(image, attribute) with { ContainerFormat = ImageAttributes.ContainerFormat(value) },
        _ => image with { Properties = image.Properties.SetItem(attribute, ImageAttributes.PropertyValue(attribute, value)) },
    };

    // glance/domain/__init__.py: the formats describe the bytes, so they are fixed once bytes arrive.
    private static Image EnsureQueued(Image image, string attribute) =>
        image.Status is ImageStatus.Queued or ImageStatus.Importing
            ? image
            : throw new ForbiddenException("images.format_fixed", $"Attribute {attribute} can be only replaced for a queued image.");

    private static (string Op, string Path) OperationV21(JsonElement change)
    {
        if (!change.TryGetProperty("op", out var op) || op.ValueKind != JsonValueKind.String)
        {
            throw Bad("Unable to find 'op' in JSON Schema change");
        }

        var name = op.GetString()!;
        if (!Operations.Contains(name))
        {
            throw Bad($"Invalid operation: `{name}`. It must be one of the following: {string.Join(", ", Operations)}.");
        }

        if (!change.TryGetProperty("path", out var path) || path.ValueKind != JsonValueKind.String)
        {
            throw Bad("Unable to find 'path' in JSON Schema change");
        }

        return (name, path.GetString()!);
    }

    private static (string Op, string Path) OperationV20(JsonElement change)
    {
        var found = Operations.Where(o => change.TryGetProperty(o, out _)).ToList();
        if (found.Count != 1 || change.GetProperty(found[0]).ValueKind != JsonValueKind.String)
        {
            throw Bad("Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\".");
        }

        return (found[0], change.GetProperty(found[0]).GetString()!);
    }

    /// <summary>Decodes a JSON pointer (RFC 6901) naming one top-level attribute, or one element of the tags.</summary>
    private static (string Attribute, string? Index) Attribute(string pointer)
    {
        if (!pointer.StartsWith('/'))
        {
            throw Bad($"Pointer `{pointer}` does not start with \"/\".");
        }

        if (pointer.Contains("//", StringComparison.Ordinal))
        {
            throw Bad($"Pointer `{pointer}` contains adjacent \"/\".");
        }

        if (pointer.Length > 1 && pointer.EndsWith('/'))
        {
            throw Bad($"Pointer `{pointer}` end with \"/\".");
        }

        var segments = pointer[1..].Split('/');
        var decoded = segments.Select(s => Unescape(pointer, s)).ToList();
        if (decoded is ["tags", var index])
        {
            return ("tags", index);
        }

        if (decoded.Count != 1 || decoded[0].Length == 0)
        {
            if (decoded[0] is "locations")
            {
                throw new ForbiddenException("images.attribute_reserved", "Attribute 'locations' is reserved.");
            }

            throw Bad("Nested paths are not allowed");
        }

        return (decoded[0], null);
    }

    private static string Unescape(string pointer, string segment)
    {
        var text = new StringBuilder(segment.Length);
        for (var i = 0; i < segment.Length; i++)
        {
            if (segment[i] != '~')
            {
                text.Append(segment[i]);
                continue;
            }

            var next = i + 1 < segment.Length ? segment[i + 1] : '\0';
            text.Append(next switch
            {
                '0' => '~',
                '1' => '/',
                _ => throw Bad($"Pointer `{pointer}` contains \"~\" not part of a recognized escape sequence."),
            });
            i++;
        }

        return text.ToString();
    }

    private static InvalidInputException Bad(string message) => new("images.bad_patch", message);
}

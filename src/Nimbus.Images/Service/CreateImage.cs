using System.Collections.Immutable;
using System.Text.Json;
using Nimbus.Platform.Errors;

namespace Nimbus.Images.Service;

/// <summary>POST /v2/images as a typed command: what the caller asked for, values already checked against the image schema.</summary>
internal sealed record CreateImage
{
    public string? Id { get; init; }

    public string? Name { get; init; }

    public string? DiskFormat { get; init; }

    public string? ContainerFormat { get; init; }

    /// <summary>null: Glance's default, shared.</summary>
    public string? Visibility { get; init; }

    public bool Protected { get; init; }

    public bool OsHidden { get; init; }

    public long MinDisk { get; init; }

    public long MinRam { get; init; }

    /// <summary>null: the caller's project.</summary>
    public string? Owner { get; init; }

    public ImmutableSortedSet<string> Tags { get; init; } = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);

    public ImmutableSortedDictionary<string, string> Properties { get; init; } = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);

    /// <summary>Reads a create request body as Glance's images controller does (read-only → 403, schema → 400).</summary>
    public static CreateImage Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidInputException("images.bad_body", "The request body must be a JSON object of image attributes.");
        }

        var command = new CreateImage();
        var properties = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var attribute in body.EnumerateObject())
        {
            var value = attribute.Value;
            if (attribute.Name == "id")
            {
                // The one read-only attribute a creator may choose, as Glance allows.
                var id = value.ValueKind == JsonValueKind.String ? value.GetString()! : throw ImageAttributes.SchemaMismatch($"{value.GetRawText()} is not of type 'string' (attribute 'id')");
                ImageAttributes.EnsureUuid(id);
                command = command with { Id = id.ToLowerInvariant() };
                continue;
            }

            ImageAttributes.EnsureWritable(attribute.Name);
            command = attribute.Name switch
            {
                "name" => command with { Name = ImageAttributes.Name(value) },
                "disk_format" => command with { DiskFormat = ImageAttributes.DiskFormat(value) },
                "container_format" => command with { ContainerFormat = ImageAttributes.ContainerFormat(value) },
                "visibility" => command with { Visibility = ImageAttributes.Visibility(value) },
                "protected" => command with { Protected = ImageAttributes.Boolean(attribute.Name, value) },
                "os_hidden" => command with { OsHidden = ImageAttributes.Boolean(attribute.Name, value) },
                "min_disk" => command with { MinDisk = ImageAttributes.NonNegativeInteger(attribute.Name, value) },
                "min_ram" => command with { MinRam = ImageAttributes.NonNegativeInteger(attribute.Name, value) },
                "owner" => command with { Owner = ImageAttributes.Owner(value) },
                "tags" => command with { Tags = ImageAttributes.Tags(value) },
                _ => command,
            };
            if (!ImageAttributes.Base.Contains(attribute.Name))
            {
                properties[attribute.Name] = ImageAttributes.PropertyValue(attribute.Name, value);
            }
        }

        return command with { Properties = properties.ToImmutable() };
    }
}

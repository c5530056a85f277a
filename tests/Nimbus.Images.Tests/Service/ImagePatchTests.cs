using System.Text.Json;
using Nimbus.Images.Service;
using Nimbus.Platform.Errors;

namespace Nimbus.Images.Tests.Service;

public sealed class ImagePatchTests
{
    private static readonly Image Queued = new()
    {
        Id = "9f0a4c3e-1b2d-4e5f-8a9b-0c1d2e3f4a5b",
        Name = "before",
        Status = ImageStatus.Queued,
        Visibility = ImageVisibility.Private,
        DiskFormat = "raw",
        ContainerFormat = "bare",
        Owner = "project-a",
        CreatedAt = DateTimeOffset.UnixEpoch,
        UpdatedAt = DateTimeOffset.UnixEpoch,
        Properties = System.Collections.Immutable.ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("hw_disk_bus", "virtio"),
    };

    [Theory]
    [InlineData("application/openstack-images-v2.1-json-patch", "V21")]
    [InlineData("application/openstack-images-v2.0-json-patch", "V20")]
    [InlineData("Application/OpenStack-Images-v2.1-JSON-Patch; charset=utf-8", "V21")]
    public void Patch_media_types_name_their_dialect(string contentType, string dialect) =>
        Assert.Equal(Enum.Parse<PatchDialect>(dialect), ImagePatch.DialectOf(contentType));

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json-patch+json")]
    [InlineData(null)]
    public void Other_media_types_are_not_patches(string? contentType) =>
        Assert.Null(ImagePatch.DialectOf(contentType));

    [Fact]
    public void Replace_add_and_remove_change_base_attributes_and_properties()
    {
        var patched = Apply(
            """
            [{"op": "replace", "path": "/name", "value": "after"},
             {"op": "add", "path": "/min_ram", "value": 512},
             {"op": "replace", "path": "/protected", "value": true},
             {"op": "add", "path": "/tags", "value": ["b", "a", "a"]},
             {"op": "add", "path": "/os_distro", "value": "debian"},
             {"op": "remove", "path": "/hw_disk_bus"},
             {"op": "replace", "path": "/disk_format", "value": "qcow2"},
             {"op": "replace", "path": "/os_hidden", "value": true}]
            """);
        Assert.Equal("after", patched.Name);
        Assert.Equal(512, patched.MinRam);
        Assert.True(patched.Protected);
        Assert.True(patched.OsHidden);
        Assert.Equal(["a", "b"], patched.Tags);
        Assert.Equal("debian", patched.Properties["os_distro"]);
        Assert.False(patched.Properties.ContainsKey("hw_disk_bus"));
        Assert.Equal("qcow2", patched.DiskFormat);
    }

    [Fact]
    public void Add_in_v21_overwrites_an_existing_property() =>
        Assert.Equal("scsi", Apply("""[{"op": "add", "path": "/hw_disk_bus", "value": "scsi"}]""").Properties["hw_disk_bus"]);

    [Fact]
    public void Add_in_v20_refuses_an_existing_property_with_409()
    {
        var error = Assert.Throws<ConflictException>(() => Apply("""[{"add": "/hw_disk_bus", "value": "scsi"}]""", PatchDialect.V20));
        Assert.Equal("Property hw_disk_bus already present.", error.Message);
    }

    [Fact]
    public void V20_operations_use_the_op_name_as_key() =>
        Assert.Equal("x", Apply("""[{"replace": "/name", "value": "x"}, {"add": "/new_prop", "value": "v"}]""", PatchDialect.V20).Name);

    [Fact]
    public void Replacing_a_missing_property_is_a_conflict()
    {
        var error = Assert.Throws<ConflictException>(() => Apply("""[{"op": "replace", "path": "/nope", "value": "v"}]"""));
        Assert.Equal("Property nope does not exist.", error.Message);
    }

    [Fact]
    public void Removing_a_missing_property_is_a_conflict() =>
        Assert.Throws<ConflictException>(() => Apply("""[{"op": "remove", "path": "/nope"}]"""));

    [Fact]
    public void Removing_a_base_attribute_is_forbidden()
    {
        var error = Assert.Throws<ForbiddenException>(() => Apply("""[{"op": "remove", "path": "/name"}]"""));
        Assert.Equal("Property name may not be removed.", error.Message);
    }

    [Theory]
    [InlineData("size")]
    [InlineData("status")]
    [InlineData("checksum")]
    [InlineData("created_at")]
    [InlineData("id")]
    [InlineData("self")]
    [InlineData("os_hash_value")]
    public void Read_only_attributes_are_refused_with_403(string attribute)
    {
        var error = Assert.Throws<ForbiddenException>(() => Apply($$"""[{"op": "replace", "path": "/{{attribute}}", "value": "1"}]"""));
        Assert.Equal($"Attribute '{attribute}' is read-only.", error.Message);
    }

    [Theory]
    [InlineData("location")]
    [InlineData("deleted")]
    [InlineData("os_glance_import_task")]
    public void Reserved_attributes_are_refused_with_403(string attribute)
    {
        var error = Assert.Throws<ForbiddenException>(() => Apply($$"""[{"op": "add", "path": "/{{attribute}}", "value": "1"}]"""));
        Assert.Equal($"Attribute '{attribute}' is reserved.", error.Message);
    }

    [Fact]
    public void Formats_are_fixed_once_the_image_has_data()
    {
        var active = Queued with { Status = ImageStatus.Active };
        var error = Assert.Throws<ForbiddenException>(() => ImagePatch.Apply(active, Parse("""[{"op": "replace", "path": "/container_format", "value": "ova"}]""")));
        Assert.Equal("Attribute container_format can be only replaced for a queued image.", error.Message);
    }

    [Theory]
    [InlineData("""[{"op": "replace", "path": "/visibility", "value": "everyone"}]""")]
    [InlineData("""[{"op": "replace", "path": "/disk_format", "value": "exe"}]""")]
    [InlineData("""[{"op": "replace", "path": "/min_disk", "value": -1}]""")]
    [InlineData("""[{"op": "replace", "path": "/min_disk", "value": "10"}]""")]
    [InlineData("""[{"op": "replace", "path": "/protected", "value": "yes"}]""")]
    [InlineData("""[{"op": "add", "path": "/my_prop", "value": 5}]""")]
    [InlineData("""[{"op": "add", "path": "/tags", "value": "one"}]""")]
    public void Values_the_schema_refuses_are_400(string patch) =>
        Assert.Throws<InvalidInputException>(() => Apply(patch));

    [Theory]
    [InlineData("""{"op": "add", "path": "/name", "value": "x"}""", "Request body must be a JSON array of operation objects.")]
    [InlineData("""[{"op": "move", "from": "/a", "path": "/name"}]""", "Invalid operation: `move`. It must be one of the following: add, remove, replace.")]
    [InlineData("""[{"op": "test", "path": "/name", "value": "x"}]""", "Invalid operation: `test`. It must be one of the following: add, remove, replace.")]
    [InlineData("""[{"path": "/name", "value": "x"}]""", "Unable to find 'op' in JSON Schema change")]
    [InlineData("""[{"op": "add", "value": "x"}]""", "Unable to find 'path' in JSON Schema change")]
    [InlineData("""[{"op": "add", "path": "/name"}]""", "Unable to find 'value' in JSON Schema change")]
    [InlineData("""[{"op": "add", "path": "name", "value": "x"}]""", "Pointer `name` does not start with \"/\".")]
    [InlineData("""[{"op": "add", "path": "/a//b", "value": "x"}]""", "Pointer `/a//b` contains adjacent \"/\".")]
    [InlineData("""[{"op": "add", "path": "/name/", "value": "x"}]""", "Pointer `/name/` end with \"/\".")]
    [InlineData("""[{"op": "add", "path": "/a~2", "value": "x"}]""", "Pointer `/a~2` contains \"~\" not part of a recognized escape sequence.")]
    [InlineData("""[{"op": "add", "path": "/a/b", "value": "x"}]""", "Nested paths are not allowed")]
    [InlineData("""[5]""", "Operations must be JSON objects.")]
    public void Malformed_patches_are_400_with_glances_words(string patch, string message)
    {
        var error = Assert.Throws<InvalidInputException>(() => Parse(patch));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void V20_operations_need_exactly_one_op_member() =>
        Assert.Throws<InvalidInputException>(() => Parse("""[{"add": "/a", "replace": "/b", "value": "x"}]""", PatchDialect.V20));

    [Fact]
    public void Tag_elements_change_as_openstacksdk_sends_them()
    {
        var tagged = Apply("""[{"op": "add", "path": "/tags/0", "value": "b"}, {"op": "add", "path": "/tags/-", "value": "a"}]""");
        Assert.Equal(["a", "b"], tagged.Tags);
        var replaced = ImagePatch.Apply(tagged, Parse("""[{"op": "replace", "path": "/tags/0", "value": "c"}]"""));
        Assert.Equal(["b", "c"], replaced.Tags);
        Assert.Equal(["c"], ImagePatch.Apply(replaced, Parse("""[{"op": "remove", "path": "/tags/0"}]""")).Tags);
        var error = Assert.Throws<InvalidInputException>(() => ImagePatch.Apply(replaced, Parse("""[{"op": "remove", "path": "/tags/2"}]""")));
        Assert.Equal("Invalid JSON pointer for this resource: '/tags/2'", error.Message);
    }

    [Fact]
    public void Escaped_pointers_name_properties_with_slashes_and_tildes() =>
        Assert.Equal("v", Apply("""[{"op": "add", "path": "/a~1b~0c", "value": "v"}]""").Properties["a/b~c"]);

    [Fact]
    public void A_refused_change_leaves_earlier_changes_unapplied_to_the_stored_image()
    {
        Assert.Throws<ForbiddenException>(() => Apply("""[{"op": "replace", "path": "/name", "value": "x"}, {"op": "replace", "path": "/size", "value": 1}]"""));
        Assert.Equal("before", Queued.Name);
    }

    private static Image Apply(string patch, PatchDialect dialect = PatchDialect.V21) =>
        ImagePatch.Apply(Queued, Parse(patch, dialect));

    private static IReadOnlyList<PatchOperation> Parse(string patch, PatchDialect dialect = PatchDialect.V21)
    {
        using var document = JsonDocument.Parse(patch);
        return ImagePatch.Parse(document.RootElement, dialect);
    }
}

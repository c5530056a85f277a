namespace Nimbus.Images.Http;

/// <summary>
/// The JSON schemas GET /v2/schemas/… serves, as Glance builds them (glance/api/v2/images.py
/// get_schema, image_members.py get_schema). Clients such as glanceclient read them to know which
/// attributes exist and which are read-only; additionalProperties says free-form properties are strings.
/// </summary>
internal static class ImageSchemas
{
    private const string Uuid = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$";

    public static readonly string Image = $$$"""
        {"name": "image", "properties": {{{ImageProperties}}}, "additionalProperties": {"type": "string"}, "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"}, {"rel": "describedby", "href": "{schema}"}]}
        """;

    public static readonly string Images = $$$"""
        {"name": "images", "properties": {"images": {"type": "array", "items": {"name": "image", "properties": {{{ImageProperties}}}, "additionalProperties": {"type": "string"}, "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"}, {"rel": "describedby", "href": "{schema}"}]}}, "schema": {"type": "string"}, "first": {"type": "string"}, "next": {"type": "string"}}, "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"}, {"rel": "describedby", "href": "{schema}"}]}
        """;

    public static readonly string Member = $$$"""
        {"name": "member", "properties": {{{MemberProperties}}}}
        """;

    public static readonly string Members = $$$"""
        {"name": "members", "properties": {"members": {"type": "array", "items": {"name": "member", "properties": {{{MemberProperties}}}}}, "schema": {"type": "string"}}, "links": [{"rel": "describedby", "href": "{schema}"}]}
        """;

    private const string MemberProperties = $$$"""
        {"created_at": {"type": "string", "description": "Date and time of image member creation"}, "image_id": {"type": "string", "description": "An identifier for the image", "pattern": "{{{Uuid}}}"}, "member_id": {"type": "string", "description": "An identifier for the image member (tenantId)"}, "schema": {"type": "string", "readOnly": true}, "status": {"type": "string", "description": "The status of this image member", "enum": ["pending", "accepted", "rejected"]}, "updated_at": {"type": "string", "description": "Date and time of last modification of image member"}}
        """;

    private const string ImageProperties = $$$"""
        {"id": {"type": "string", "description": "An identifier for the image", "pattern": "{{{Uuid}}}"},
         "name": {"type": ["null", "string"], "description": "Descriptive name for the image", "maxLength": 255},
         "status": {"type": "string", "readOnly": true, "description": "Status of the image", "enum": ["queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"]},
         "visibility": {"type": "string", "description": "Scope of image accessibility", "enum": ["community", "public", "private", "shared"]},
         "protected": {"type": "boolean", "description": "If true, image will not be deletable."},
         "os_hidden": {"type": "boolean", "description": "If true, image will not appear in default image list response."},
         "checksum": {"type": ["null", "string"], "readOnly": true, "description": "md5 hash of image contents.", "maxLength": 32},
         "os_hash_algo": {"type": ["null", "string"], "readOnly": true, "description": "Algorithm to calculate the os_hash_value", "maxLength": 64},
         "os_hash_value": {"type": ["null", "string"], "readOnly": true, "description": "Hexdigest of the image contents using the algorithm specified by the os_hash_algo", "maxLength": 128},
         "owner": {"type": ["null", "string"], "description": "Owner of the image", "maxLength": 255},
         "size": {"type": ["null", "integer"], "readOnly": true, "description": "Size of image file in bytes"},
         "virtual_size": {"type": ["null", "integer"], "readOnly": true, "description": "Virtual size of image in bytes"},
         "container_format": {"type": ["null", "string"], "description": "Format of the container", "enum": [null, "ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]},
         "disk_format": {"type": ["null", "string"], "description": "Format of the disk", "enum": [null, "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]},
         "created_at": {"type": "string", "readOnly": true, "description": "Date and time of image registration"},
         "updated_at": {"type": "string", "readOnly": true, "description": "Date and time of the last image modification"},
         "tags": {"type": "array", "description": "List of strings related to the image", "items": {"type": "string", "maxLength": 255}},
         "direct_url": {"type": "string", "readOnly": true, "description": "URL to access the image file kept in external store"},
         "min_ram": {"type": "integer", "description": "Amount of ram (in MB) required to boot image."},
         "min_disk": {"type": "integer", "description": "Amount of disk space (in GB) required to boot image."},
         "self": {"type": "string", "readOnly": true, "description": "An image self url"},
         "file": {"type": "string", "readOnly": true, "description": "An image file url"},
         "schema": {"type": "string", "readOnly": true, "description": "An image schema url"},
         "locations": {"type": "array", "items": {"type": "object", "properties": {"url": {"type": "string", "maxLength": 255}, "metadata": {"type": "object"}, "validation_data": {"type": "object", "properties": {"checksum": {"type": "string", "minLength": 32, "maxLength": 32}, "os_hash_algo": {"type": "string", "maxLength": 64}, "os_hash_value": {"type": "string", "maxLength": 128}}, "required": ["os_hash_algo", "os_hash_value"], "additionalProperties": false}}, "required": ["url", "metadata"]}, "description": "A set of URLs to access the image file kept in external store"},
         "kernel_id": {"type": ["null", "string"], "pattern": "{{{Uuid}}}", "description": "ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.", "is_base": false},
         "ramdisk_id": {"type": ["null", "string"], "pattern": "{{{Uuid}}}", "description": "ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.", "is_base": false},
         "instance_uuid": {"type": "string", "description": "Metadata which can be used to record which instance this image is associated with. (Informational only, does not create an instance snapshot.)", "is_base": false},
         "architecture": {"type": "string", "description": "Operating system architecture as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html", "is_base": false},
         "os_distro": {"type": "string", "description": "Common name of operating system distribution as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html", "is_base": false},
         "os_version": {"type": "string", "description": "Operating system version as specified by the distributor.", "is_base": false},
         "description": {"type": "string", "description": "A human-readable string describing this image.", "is_base": false}}
        """;
}

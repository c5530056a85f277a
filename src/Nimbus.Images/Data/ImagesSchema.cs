using Nimbus.Platform.Data;

namespace Nimbus.Images.Data;

/// <summary>The images database, one migration per change; a landed migration is never edited.</summary>
internal static class ImagesSchema
{
    public const string Service = "images";

    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "images, properties, tags and members", """
            CREATE TABLE images (
                id TEXT PRIMARY KEY,
                name TEXT NULL,
                status TEXT NOT NULL,
                disk_format TEXT NULL,
                container_format TEXT NULL,
                visibility TEXT NOT NULL,
                protected BOOLEAN NOT NULL,
                min_disk BIGINT NOT NULL,
                min_ram BIGINT NOT NULL,
                size BIGINT NULL,
                virtual_size BIGINT NULL,
                checksum TEXT NULL,
                os_hash_algo TEXT NULL,
                os_hash_value TEXT NULL,
                owner TEXT NULL,
                os_hidden BOOLEAN NOT NULL,
                location TEXT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            );
            CREATE INDEX images_owner ON images (owner);
            CREATE INDEX images_visibility ON images (visibility);
            CREATE INDEX images_status ON images (status);
            CREATE TABLE image_properties (
                image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (image_id, name)
            );
            CREATE TABLE image_tags (
                image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
                tag TEXT NOT NULL,
                PRIMARY KEY (image_id, tag)
            );
            CREATE TABLE image_members (
                image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
                member TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (image_id, member)
            );
            CREATE INDEX image_members_member ON image_members (member);
            """),
        new(2, "image import tasks", """
            CREATE TABLE image_tasks (
                id TEXT PRIMARY KEY,
                image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
                type TEXT NOT NULL,
                status TEXT NOT NULL,
                method TEXT NOT NULL,
                request_id TEXT NULL,
                user_id TEXT NULL,
                owner TEXT NULL,
                message TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            );
            CREATE INDEX image_tasks_image ON image_tasks (image_id);
            """),
        new(3, "listing indexes: the default order (newest first) and by name", """
            CREATE INDEX images_listing ON images (created_at, id COLLATE BINARY);
            CREATE INDEX images_by_name ON images (name COLLATE BINARY, id COLLATE BINARY);
            """),
    ];
}

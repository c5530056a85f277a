using System.Collections.Immutable;
using Dapper;
using Nimbus.Images.Service;
using Nimbus.Platform.Data;

namespace Nimbus.Images.Data;

/// <summary>
/// The SQL of the images database, one statement per method, run inside the session the service
/// opened so that a change of several rows commits as one.
/// </summary>
internal static class ImageRows
{
    private const string Columns = """
        i.id AS Id, i.name AS Name, i.status AS Status, i.disk_format AS DiskFormat, i.container_format AS ContainerFormat,
        i.visibility AS Visibility, i.protected AS Protected, i.min_disk AS MinDisk, i.min_ram AS MinRam, i.size AS Size,
        i.virtual_size AS VirtualSize, i.checksum AS Checksum, i.os_hash_algo AS OsHashAlgo, i.os_hash_value AS OsHashValue,
        i.owner AS Owner, i.os_hidden AS OsHidden, i.location AS Location, i.created_at AS CreatedAt, i.updated_at AS UpdatedAt
        """;

    public static async Task<Image?> FindAsync(DataSession session, string id)
    {
        var row = await session.QuerySingleOrDefaultAsync<ImageRow>($"SELECT {Columns} FROM images i WHERE i.id = @id", new { id });
        if (row is null)
        {
            return null;
        }

        var properties = await session.QueryAsync<PropertyRow>("SELECT image_id AS ImageId, name AS Name, value AS Value FROM image_properties WHERE image_id = @id", new { id });
        var tags = await session.QueryAsync<TagRow>("SELECT image_id AS ImageId, tag AS Tag FROM image_tags WHERE image_id = @id", new { id });
        return row.ToImage(properties, tags);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> images of the listing <paramref name="query"/> asks for, as
    /// <paramref name="project"/> (every project's for <paramref name="admin"/>) sees it, after
    /// <paramref name="marker"/>: paged in the database (<see cref="ImageListing"/>).
    /// </summary>
    public static async Task<IReadOnlyList<Image>> PageAsync(DataSession session, ImageListQuery query, string? project, bool admin, Image? marker, int limit)
    {
        var (sql, args) = ImageListing.Build(query, project, admin, marker, limit, Columns);
        var rows = await session.QueryAsync<ImageRow>(sql, args);
        if (rows.Count == 0)
        {
            return [];
        }

        var ids = rows.Select(r => r.Id).ToArray();
        var properties = (await session.QueryAsync<PropertyRow>("SELECT image_id AS ImageId, name AS Name, value AS Value FROM image_properties WHERE image_id IN @ids", new { ids }))
            .ToLookup(p => p.ImageId, StringComparer.Ordinal);
        var tags = (await session.QueryAsync<TagRow>("SELECT image_id AS ImageId, tag AS Tag FROM image_tags WHERE image_id IN @ids", new { ids }))
            .ToLookup(t => t.ImageId, StringComparer.Ordinal);
        return [.. rows.Select(r => r.ToImage(properties[r.Id], tags[r.Id]))];
    }

    public static async Task InsertAsync(DataSession session, Image image)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO images (id, name, status, disk_format, container_format, visibility, protected, min_disk, min_ram, size, virtual_size,
                checksum, os_hash_algo, os_hash_value, owner, os_hidden, location, created_at, updated_at)
            VALUES (@Id, @Name, @Status, @DiskFormat, @ContainerFormat, @Visibility, @Protected, @MinDisk, @MinRam, @Size, @VirtualSize,
                @Checksum, @OsHashAlgo, @OsHashValue, @Owner, @OsHidden, @Location, @CreatedAt, @UpdatedAt)
            """,
            Parameters(image));
        await WriteExtrasAsync(session, image);
    }

    /// <summary>Stores every attribute of <paramref name="image"/>; returns false when the row is gone.</summary>
    public static async Task<bool> UpdateAsync(DataSession session, Image image)
    {
        var changed = await session.ExecuteAsync(
            """
            UPDATE images SET name = @Name, status = @Status, disk_format = @DiskFormat, container_format = @ContainerFormat,
                visibility = @Visibility, protected = @Protected, min_disk = @MinDisk, min_ram = @MinRam, size = @Size,
                virtual_size = @VirtualSize, checksum = @Checksum, os_hash_algo = @OsHashAlgo, os_hash_value = @OsHashValue,
                owner = @Owner, os_hidden = @OsHidden, location = @Location, updated_at = @UpdatedAt
            WHERE id = @Id
            """,
            Parameters(image));
        if (changed == 0)
        {
            return false;
        }

        await session.ExecuteAsync("DELETE FROM image_properties WHERE image_id = @Id", new { image.Id });
        await session.ExecuteAsync("DELETE FROM image_tags WHERE image_id = @Id", new { image.Id });
        await WriteExtrasAsync(session, image);
        return true;
    }

    public static async Task<bool> DeleteAsync(DataSession session, string id)
    {
        // Children first: SQLite enforces the foreign keys, but not every engine cascades alike.
        await session.ExecuteAsync("DELETE FROM image_tasks WHERE image_id = @id", new { id });
        await session.ExecuteAsync("DELETE FROM image_members WHERE image_id = @id", new { id });
        await session.ExecuteAsync("DELETE FROM image_tags WHERE image_id = @id", new { id });
        await session.ExecuteAsync("DELETE FROM image_properties WHERE image_id = @id", new { id });
        return await session.ExecuteAsync("DELETE FROM images WHERE id = @id", new { id }) > 0;
    }

    public static Task<IReadOnlyList<Image>> InStatusAsync(DataSession session, string status) =>
        ManyAsync(session, "i.status = @status", new { status });

    /// <summary>How many images a project owns and how many bytes they hold.</summary>
    public static async Task<(long Count, long Bytes)> UsageAsync(DataSession session, string owner)
    {
        var usage = await session.QuerySingleOrDefaultAsync<UsageRow>(
            "SELECT COUNT(*) AS Count, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS Bytes FROM images WHERE owner = @owner",
            new { owner });
        return usage is null ? (0, 0) : (usage.Count, usage.Bytes);
    }

    public static async Task<ImageMember?> FindMemberAsync(DataSession session, string imageId, string member)
    {
        var row = await session.QuerySingleOrDefaultAsync<MemberRow>(
            "SELECT image_id AS ImageId, member AS Member, status AS Status, created_at AS CreatedAt, updated_at AS UpdatedAt FROM image_members WHERE image_id = @imageId AND member = @member",
            new { imageId, member });
        return row?.ToMember();
    }

    public static async Task<IReadOnlyList<ImageMember>> MembersAsync(DataSession session, string imageId)
    {
        var rows = await session.QueryAsync<MemberRow>(
            "SELECT image_id AS ImageId, member AS Member, status AS Status, created_at AS CreatedAt, updated_at AS UpdatedAt FROM image_members WHERE image_id = @imageId ORDER BY created_at, member",
            new { imageId });
        return [.. rows.Select(r => r.ToMember())];
    }

    public static Task InsertMemberAsync(DataSession session, ImageMember member) =>
        session.ExecuteAsync(
            "INSERT INTO image_members (image_id, member, status, created_at, updated_at) VALUES (@ImageId, @MemberId, @Status, @CreatedAt, @UpdatedAt)",
            new { member.ImageId, member.MemberId, member.Status, CreatedAt = member.CreatedAt.ToUnixTimeMilliseconds(), UpdatedAt = member.UpdatedAt.ToUnixTimeMilliseconds() });

    public static Task UpdateMemberAsync(DataSession session, ImageMember member) =>
        session.ExecuteAsync(
            "UPDATE image_members SET status = @Status, updated_at = @UpdatedAt WHERE image_id = @ImageId AND member = @MemberId",
            new { member.ImageId, member.MemberId, member.Status, UpdatedAt = member.UpdatedAt.ToUnixTimeMilliseconds() });

    public static async Task<bool> DeleteMemberAsync(DataSession session, string imageId, string member) =>
        await session.ExecuteAsync("DELETE FROM image_members WHERE image_id = @imageId AND member = @member", new { imageId, member }) > 0;

    public static async Task<long> CountMembersAsync(DataSession session, string imageId) =>
        await session.ScalarAsync<long>("SELECT COUNT(*) FROM image_members WHERE image_id = @imageId", new { imageId });

    public static Task InsertTaskAsync(DataSession session, ImageTask task) =>
        session.ExecuteAsync(
            """
            INSERT INTO image_tasks (id, image_id, type, status, method, request_id, user_id, owner, message, created_at, updated_at)
            VALUES (@Id, @ImageId, @Type, @Status, @Method, @RequestId, @UserId, @Owner, @Message, @CreatedAt, @UpdatedAt)
            """,
            new { task.Id, task.ImageId, task.Type, task.Status, task.Method, task.RequestId, task.UserId, task.Owner, task.Message, CreatedAt = task.CreatedAt.ToUnixTimeMilliseconds(), UpdatedAt = task.UpdatedAt.ToUnixTimeMilliseconds() });

    public static Task FinishTaskAsync(DataSession session, string id, string status, string message, DateTimeOffset at) =>
        session.ExecuteAsync(
            "UPDATE image_tasks SET status = @status, message = @message, updated_at = @UpdatedAt WHERE id = @id",
            new { id, status, message, UpdatedAt = at.ToUnixTimeMilliseconds() });

    public static async Task<IReadOnlyList<ImageTask>> TasksAsync(DataSession session, string imageId)
    {
        var rows = await session.QueryAsync<TaskRow>(
            """
            SELECT id AS Id, image_id AS ImageId, type AS Type, status AS Status, method AS Method, request_id AS RequestId,
                user_id AS UserId, owner AS Owner, message AS Message, created_at AS CreatedAt, updated_at AS UpdatedAt
            FROM image_tasks WHERE image_id = @imageId ORDER BY created_at, id
            """,
            new { imageId });
        return [.. rows.Select(r => new ImageTask(r.Id, r.ImageId, r.Type, r.Status, r.Method, r.RequestId, r.UserId, r.Owner, r.Message, DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(r.UpdatedAt)))];
    }

    private static async Task<IReadOnlyList<Image>> ManyAsync(DataSession session, string condition, object args)
    {
        var rows = await session.QueryAsync<ImageRow>($"SELECT {Columns} FROM images i WHERE {condition}", args);
        var result = new List<Image>(rows.Count);
        foreach (var row in rows)
        {
            var properties = await session.QueryAsync<PropertyRow>("SELECT image_id AS ImageId, name AS Name, value AS Value FROM image_properties WHERE image_id = @Id", new { row.Id });
            var tags = await session.QueryAsync<TagRow>("SELECT image_id AS ImageId, tag AS Tag FROM image_tags WHERE image_id = @Id", new { row.Id });
            result.Add(row.ToImage(properties, tags));
        }

        return result;
    }

    private static async Task WriteExtrasAsync(DataSession session, Image image)
    {
        foreach (var (name, value) in image.Properties)
        {
            await session.ExecuteAsync("INSERT INTO image_properties (image_id, name, value) VALUES (@Id, @name, @value)", new { image.Id, name, value });
        }

        foreach (var tag in image.Tags)
        {
            await session.ExecuteAsync("INSERT INTO image_tags (image_id, tag) VALUES (@Id, @tag)", new { image.Id, tag });
        }
    }

    private static DynamicParameters Parameters(Image image)
    {
        var parameters = new DynamicParameters(new
        {
            image.Id,
            image.Name,
            image.Status,
            image.DiskFormat,
            image.ContainerFormat,
            image.Visibility,
            image.Protected,
            image.MinDisk,
            image.MinRam,
            image.Size,
            image.VirtualSize,
            image.Checksum,
            image.OsHashAlgo,
            image.OsHashValue,
            image.Owner,
            image.OsHidden,
            image.Location,
            CreatedAt = image.CreatedAt.ToUnixTimeMilliseconds(),
            UpdatedAt = image.UpdatedAt.ToUnixTimeMilliseconds(),
        });
        return parameters;
    }

    private sealed class ImageRow
    {
        public string Id { get; set; } = string.Empty;

        public string? Name { get; set; }

        public string Status { get; set; } = string.Empty;

        public string? DiskFormat { get; set; }

        public string? ContainerFormat { get; set; }

        public string Visibility { get; set; } = string.Empty;

        public bool Protected { get; set; }

        public long MinDisk { get; set; }

        public long MinRam { get; set; }

        public long? Size { get; set; }

        public long? VirtualSize { get; set; }

        public string? Checksum { get; set; }

        public string? OsHashAlgo { get; set; }

        public string? OsHashValue { get; set; }

        public string? Owner { get; set; }

        public bool OsHidden { get; set; }

        public string? Location { get; set; }

        public long CreatedAt { get; set; }

        public long UpdatedAt { get; set; }

        public Image ToImage(IEnumerable<PropertyRow> properties, IEnumerable<TagRow> tags) => new()
        {
            Id = Id,
            Name = Name,
            Status = Status,
            DiskFormat = DiskFormat,
            ContainerFormat = ContainerFormat,
            Visibility = Visibility,
            Protected = Protected,
            MinDisk = MinDisk,
            MinRam = MinRam,
            Size = Size,
            VirtualSize = VirtualSize,
            Checksum = Checksum,
            OsHashAlgo = OsHashAlgo,
            OsHashValue = OsHashValue,
            Owner = Owner,
            OsHidden = OsHidden,
            Location = Location,
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
            UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAt),
            Properties = properties.ToImmutableSortedDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal),
            Tags = tags.Select(t => t.Tag).ToImmutableSortedSet(StringComparer.Ordinal),
        };
    }

    private sealed class PropertyRow
    {
        public string ImageId { get; set; } = string.Empty;

        public string Name { get; set; } = string.Empty;

        public string Value { get; set; } = string.Empty;
    }

    private sealed class TagRow
    {
        public string ImageId { get; set; } = string.Empty;

        public string Tag { get; set; } = string.Empty;
    }

    private sealed class UsageRow
    {
        public long Count { get; set; }

        public long Bytes { get; set; }
    }

    private sealed class TaskRow
    {
        public string Id { get; set; } = string.Empty;

        public string ImageId { get; set; } = string.Empty;

        public string Type { get; set; } = string.Empty;

        public string Status { get; set; } = string.Empty;

        public string Method { get; set; } = string.Empty;

        public string? RequestId { get; set; }

        public string? UserId { get; set; }

        public string? Owner { get; set; }

        public string Message { get; set; } = string.Empty;

        public long CreatedAt { get; set; }

        public long UpdatedAt { get; set; }
    }

    private sealed class MemberRow
    {
        public string ImageId { get; set; } = string.Empty;

        public string Member { get; set; } = string.Empty;

        public string Status { get; set; } = string.Empty;

        public long CreatedAt { get; set; }

        public long UpdatedAt { get; set; }

        public ImageMember ToMember() =>
            new(ImageId, Member, Status, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAt));
    }
}

using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nimbus.Images.Data;
using Nimbus.Images.Service;
using Nimbus.Images.Stores;
using Nimbus.Platform.Auth;
using Nimbus.Platform.Data;
using Nimbus.Platform.Errors;
using Nimbus.TestSupport;
using static Nimbus.Images.Tests.Callers;

namespace Nimbus.Images.Tests.Service;

/// <summary>The image service against a real database on each engine, with the in-memory store.</summary>
public abstract class ImageServiceTests : IAsyncLifetime
{
    private TestDatabase? _database;

    protected abstract DataProvider Provider { get; }

    private protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));

    private protected MemoryImageStore Store { get; } = new();

    private protected ImageService Images { get; private set; } = null!;

    private protected Database Database { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(Provider);
        Database = _database.Factory.Open(ImagesSchema.Service);
        Images = NewService(new ImagesSettings());
        await Images.InitializeAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    [Fact]
    public async Task Create_gives_a_queued_shared_image_owned_by_the_callers_project()
    {
        var image = await CreateAsync(MemberA, """{"name": "debian", "disk_format": "raw", "container_format": "bare", "tags": ["os"], "os_distro": "debian"}""");
        Assert.Equal(ImageStatus.Queued, image.Status);
        Assert.Equal(ImageVisibility.Shared, image.Visibility);
        Assert.Equal(ProjectA, image.Owner);
        Assert.True(Guid.TryParseExact(image.Id, "D", out _));
        var shown = await Images.GetAsync(MemberA, image.Id, default);
        Assert.Equal(image, shown);
        Assert.Equal("debian", shown.Properties["os_distro"]);
        Assert.Equal(["os"], shown.Tags);
        Assert.Equal(Clock.GetUtcNow(), shown.CreatedAt);
    }

    [Fact]
    public async Task Create_with_a_chosen_id_twice_is_a_conflict()
    {
        const string Id = "0b2c7a5e-9d8f-4f3a-a1b2-c3d4e5f60718";
        var image = await CreateAsync(MemberA, $$"""{"id": "{{Id}}", "name": "one"}""");
        Assert.Equal(Id, image.Id);
        var error = await Assert.ThrowsAsync<ConflictException>(() => CreateAsync(MemberA, $$"""{"id": "{{Id}}"}"""));
        Assert.Equal($"Image with identifier {Id} already exists!", error.Message);
    }

    [Theory]
    [InlineData("""{"status": "active"}""", "Attribute 'status' is read-only.")]
    [InlineData("""{"size": 5}""", "Attribute 'size' is read-only.")]
    [InlineData("""{"self": "/x"}""", "Attribute 'self' is read-only.")]
    [InlineData("""{"location": "file:///etc/passwd"}""", "Attribute 'location' is reserved.")]
    public async Task Create_refuses_read_only_and_reserved_attributes(string body, string message)
    {
        var error = await Assert.ThrowsAsync<ForbiddenException>(() => CreateAsync(MemberA, body));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public async Task Readers_may_not_create_images_nor_members_create_for_other_projects()
    {
        await Assert.ThrowsAsync<ForbiddenException>(() => CreateAsync(ReaderA, """{"name": "x"}"""));
        await Assert.ThrowsAsync<ForbiddenException>(() => CreateAsync(MemberA, """{"name": "x", "owner": "project-b"}"""));
        Assert.Equal(ProjectB, (await CreateAsync(Admin, """{"name": "x", "owner": "project-b"}""")).Owner);
    }

    [Fact]
    public async Task Only_an_admin_may_make_an_image_public()
    {
        await Assert.ThrowsAsync<ForbiddenException>(() => CreateAsync(MemberA, """{"visibility": "public"}"""));
        var image = await CreateAsync(MemberA, """{"visibility": "private"}""");
        await Assert.ThrowsAsync<ForbiddenException>(() => PatchAsync(MemberA, image.Id, """[{"op": "replace", "path": "/visibility", "value": "public"}]"""));
        Assert.Equal(ImageVisibility.Public, (await PatchAsync(Admin, image.Id, """[{"op": "replace", "path": "/visibility", "value": "public"}]""")).Visibility);
        Assert.Equal(ImageVisibility.Community, (await PatchAsync(MemberA, image.Id, """[{"op": "replace", "path": "/visibility", "value": "community"}]""")).Visibility);
    }

    [Fact]
    public async Task Upload_moves_a_queued_image_to_active_with_size_and_checksums()
    {
        var image = await CreateAsync(MemberA, """{"disk_format": "raw", "container_format": "bare"}""");
        var data = TestImages.Raw(5000);
        await Images.UploadAsync(MemberA, image.Id, new MemoryStream(data), data.Length, default);
        var active = await Images.GetAsync(MemberA, image.Id, default);
        Assert.Equal(ImageStatus.Active, active.Status);
        Assert.Equal(5000, active.Size);
        Assert.Equal(5000, active.VirtualSize);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), active.Checksum);
        Assert.Equal("sha512", active.OsHashAlgo);
        Assert.Equal(Convert.ToHexStringLower(SHA512.HashData(data)), active.OsHashValue);
        Assert.Equal(data, await DownloadAllAsync(MemberA, image.Id));
    }

    [Fact]
    public async Task Upload_of_qcow2_data_declared_raw_kills_the_image_and_keeps_no_bytes()
    {
        var image = await CreateAsync(MemberA, """{"disk_format": "raw", "container_format": "bare"}""");
        await Assert.ThrowsAsync<ImageFormatMismatchException>(() => Images.UploadAsync(MemberA, image.Id, new MemoryStream(TestImages.Qcow2(1 << 20)), null, default));
        Assert.Equal(ImageStatus.Killed, (await Images.GetAsync(MemberA, image.Id, default)).Status);
        Assert.Empty(Store.ImageIds);
    }

    [Fact]
    public async Task Qcow2_upload_records_the_virtual_size_from_its_header()
    {
        var image = await CreateAsync(MemberA, """{"disk_format": "qcow2", "container_format": "bare"}""");
        await Images.UploadAsync(MemberA, image.Id, new MemoryStream(TestImages.Qcow2(1 << 30)), null, default);
        var active = await Images.GetAsync(MemberA, image.Id, default);
        Assert.Equal(1L << 30, active.VirtualSize);
        Assert.Equal(1024, active.Size);
    }

    [Fact]
    public async Task An_interrupted_upload_kills_the_image_and_never_leaves_it_active()
    {
        var image = await CreateAsync(MemberA, """{"disk_format": "raw", "container_format": "bare"}""");
        var body = new BreakingStream(TestImages.Raw(100_000), breakAfter: 70_000);
        await Assert.ThrowsAnyAsync<Exception>(() => Images.UploadAsync(MemberA, image.Id, body, 100_000, default));
        var after = await Images.GetAsync(MemberA, image.Id, default);
        Assert.Equal(ImageStatus.Killed, after.Status);
        Assert.Null(after.Size);
        Assert.Empty(Store.ImageIds);
    }

    [Fact]
    public async Task Uploading_again_to_an_image_with_data_is_a_conflict()
    {
        var image = await CreateUploadedAsync(MemberA, TestImages.Raw(10));
        var error = await Assert.ThrowsAsync<ConflictException>(() => Images.UploadAsync(MemberA, image.Id, new MemoryStream(TestImages.Raw(10)), 10, default));
        Assert.Contains("active", error.Message, StringComparison.Ordinal);
        var killed = await CreateAsync(MemberA, """{"disk_format": "raw", "container_format": "bare"}""");
        await Assert.ThrowsAnyAsync<NimbusException>(() => Images.UploadAsync(MemberA, killed.Id, new MemoryStream(TestImages.Qcow2(1024)), null, default));
        await Assert.ThrowsAsync<ConflictException>(() => Images.UploadAsync(MemberA, killed.Id, new MemoryStream(TestImages.Raw(10)), 10, default));
    }

    [Fact]
    public async Task Upload_needs_both_formats_set()
    {
        var image = await CreateAsync(MemberA, """{"disk_format": "raw"}""");
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Images.UploadAsync(MemberA, image.Id, new MemoryStream(TestImages.Raw(10)), 10, default));
        Assert.Equal("Properties disk_format, container_format must be set prior to saving data.", error.Message);
        Assert.Equal(ImageStatus.Queued, (await Images.GetAsync(MemberA, image.Id, default)).Status);
    }

    [Fact]
    public async Task Members_of_other_projects_may_not_upload_or_change_a_shared_image()
    {
        var image = await CreateAsync(MemberA, """{"disk_format": "raw", "container_format": "bare"}""");
        await Images.AddMemberAsync(MemberA, image.Id, ProjectB, default);
        await Assert.ThrowsAsync<ForbiddenException>(() => Images.UploadAsync(MemberB, image.Id, new MemoryStream(TestImages.Raw(10)), 10, default));
        await Assert.ThrowsAsync<ForbiddenException>(() => PatchAsync(MemberB, image.Id, """[{"op": "replace", "path": "/name", "value": "mine"}]"""));
        await Assert.ThrowsAsync<ForbiddenException>(() => Images.DeleteAsync(MemberB, image.Id, default));
        await Assert.ThrowsAsync<ForbiddenException>(() => PatchAsync(ReaderA, image.Id, """[{"op": "replace", "path": "/name", "value": "mine"}]"""));
    }

    [Fact]
    public async Task Byte_quota_refuses_an_upload_that_would_exceed_it_and_leaves_the_image_queued()
    {
        Images = NewService(new ImagesSettings { MaxBytesPerProject = 1000 });
        await CreateUploadedAsync(MemberA, TestImages.Raw(600));
        var image = await CreateAsync(MemberA, """{"disk_format": "raw", "container_format": "bare"}""");
        var error = await Assert.ThrowsAsync<OverLimitException>(() => Images.UploadAsync(MemberA, image.Id, new MemoryStream(TestImages.Raw(500)), null, default));
        Assert.Contains("600", error.Message, StringComparison.Ordinal);
        Assert.Contains("1000", error.Message, StringComparison.Ordinal);
        Assert.Equal(ImageStatus.Queued, (await Images.GetAsync(MemberA, image.Id, default)).Status);
        Assert.Single(Store.ImageIds);
        await Images.UploadAsync(MemberA, image.Id, new MemoryStream(TestImages.Raw(400)), 400, default);
        var full = await CreateAsync(MemberA, """{"disk_format": "raw", "container_format": "bare"}""");
        var refused = await Assert.ThrowsAsync<OverLimitException>(() => Images.UploadAsync(MemberA, full.Id, new MemoryStream(TestImages.Raw(1)), 1, default));
        Assert.Contains("image_size_total", refused.Message, StringComparison.Ordinal);
        await CreateUploadedAsync(MemberB, TestImages.Raw(900));
    }

    [Fact]
    public async Task Byte_quota_holds_for_uploads_that_run_side_by_side()
    {
        Images = NewService(new ImagesSettings { MaxBytesPerProject = 1000 });
        var first = await CreateAsync(MemberA, """{"disk_format": "raw", "container_format": "bare"}""");
        var second = await CreateAsync(MemberA, """{"disk_format": "raw", "container_format": "bare"}""");

        // The second upload starts while the first is still arriving, so both were allowed 1000 bytes.
        var gate = new GatedStream(TestImages.Raw(700));
        var slow = Images.UploadAsync(MemberA, first.Id, gate, 700, default);
        await gate.Started;
        await Images.UploadAsync(MemberA, second.Id, new MemoryStream(TestImages.Raw(600)), 600, default);
        gate.Open();
        var error = await Assert.ThrowsAsync<OverLimitException>(() => slow);
        Assert.Contains("image_size_total", error.Message, StringComparison.Ordinal);
        Assert.Equal(ImageStatus.Queued, (await Images.GetAsync(MemberA, first.Id, default)).Status);
        Assert.Equal([second.Id], Store.ImageIds);
    }

    [Fact]
    public async Task Image_count_quota_refuses_the_image_over_the_limit()
    {
        Images = NewService(new ImagesSettings { MaxImagesPerProject = 2 });
        await CreateAsync(MemberA, "{}");
        await CreateAsync(MemberA, "{}");
        var error = await Assert.ThrowsAsync<OverLimitException>(() => CreateAsync(MemberA, "{}"));
        Assert.Contains("2 images", error.Message, StringComparison.Ordinal);
        Assert.Contains("image_count_total", error.Message, StringComparison.Ordinal);
        await CreateAsync(MemberB, "{}");
    }

    [Fact]
    public async Task Tag_and_property_limits_are_413()
    {
        Images = NewService(new ImagesSettings { MaxTagsPerImage = 1, MaxPropertiesPerImage = 1 });
        var image = await CreateAsync(MemberA, """{"tags": ["one"], "a": "1"}""");
        await Assert.ThrowsAsync<OverLimitException>(() => Images.AddTagAsync(MemberA, image.Id, "two", default));
        await Assert.ThrowsAsync<OverLimitException>(() => PatchAsync(MemberA, image.Id, """[{"op": "add", "path": "/b", "value": "2"}]"""));
    }

    [Fact]
    public async Task Download_serves_ranges_and_nothing_for_an_image_without_data()
    {
        var data = TestImages.Raw(1000);
        var image = await CreateUploadedAsync(MemberA, data);
        var range = await Images.DownloadAsync(MemberA, image.Id, new ByteRange(100, 199), default);
        Assert.True(range.Partial);
        Assert.Equal((100, 100, 1000), (range.Offset, range.Length, range.Total));
        Assert.Equal(data[100..200], await ReadAsync(range.Content!));
        var suffix = await Images.DownloadAsync(MemberA, image.Id, new ByteRange(null, 10), default);
        Assert.Equal(data[990..], await ReadAsync(suffix.Content!));
        var open = await Images.DownloadAsync(MemberA, image.Id, new ByteRange(995, null), default);
        Assert.Equal(data[995..], await ReadAsync(open.Content!));
        await Assert.ThrowsAsync<RangeNotSatisfiableException>(() => Images.DownloadAsync(MemberA, image.Id, new ByteRange(1000, null), default));

        var empty = await CreateAsync(MemberA, "{}");
        Assert.Null((await Images.DownloadAsync(MemberA, empty.Id, null, default)).Content);
    }

    [Fact]
    public async Task Deactivated_images_download_only_for_admins_until_reactivated()
    {
        var image = await CreateUploadedAsync(MemberA, TestImages.Raw(10));
        await Assert.ThrowsAsync<ForbiddenException>(() => Images.DeactivateAsync(ReaderA, image.Id, default));
        await Images.DeactivateAsync(MemberA, image.Id, default);
        Assert.Equal(ImageStatus.Deactivated, (await Images.GetAsync(MemberA, image.Id, default)).Status);
        var error = await Assert.ThrowsAsync<ForbiddenException>(() => Images.DownloadAsync(MemberA, image.Id, null, default));
        Assert.Equal("The requested image has been deactivated. Image data download is forbidden.", error.Message);
        Assert.Equal(10, (await ReadAsync((await Images.DownloadAsync(Admin, image.Id, null, default)).Content!)).Length);
        await Images.ReactivateAsync(Admin, image.Id, default);
        Assert.Equal(10, (await DownloadAllAsync(MemberA, image.Id)).Length);

        var queued = await CreateAsync(MemberA, "{}");
        await Assert.ThrowsAsync<ForbiddenException>(() => Images.DeactivateAsync(Admin, queued.Id, default));
    }

    [Fact]
    public async Task Protected_images_cannot_be_deleted_until_unprotected_and_deleting_removes_the_bytes()
    {
        var image = await CreateUploadedAsync(MemberA, TestImages.Raw(10));
        await PatchAsync(MemberA, image.Id, """[{"op": "replace", "path": "/protected", "value": true}]""");
        var error = await Assert.ThrowsAsync<ForbiddenException>(() => Images.DeleteAsync(MemberA, image.Id, default));
        Assert.Equal($"Image {image.Id} is protected and cannot be deleted.", error.Message);
        await PatchAsync(MemberA, image.Id, """[{"op": "replace", "path": "/protected", "value": false}]""");
        await Images.DeleteAsync(MemberA, image.Id, default);
        Assert.Empty(Store.ImageIds);
        await Assert.ThrowsAsync<NotFoundException>(() => Images.GetAsync(MemberA, image.Id, default));
        await Assert.ThrowsAsync<NotFoundException>(() => Images.DeleteAsync(MemberA, image.Id, default));
    }

    [Fact]
    public async Task Private_images_of_another_project_are_invisible_by_id_and_in_every_list()
    {
        var image = await CreateAsync(MemberA, """{"name": "secret", "visibility": "private"}""");
        var error = await Assert.ThrowsAsync<NotFoundException>(() => Images.GetAsync(MemberB, image.Id, default));
        Assert.Equal($"No image found with ID {image.Id}", error.Message);
        await Assert.ThrowsAsync<NotFoundException>(() => Images.DownloadAsync(MemberB, image.Id, null, default));
        await Assert.ThrowsAsync<NotFoundException>(() => Images.DeleteAsync(MemberB, image.Id, default));
        await Assert.ThrowsAsync<NotFoundException>(() => PatchAsync(MemberB, image.Id, """[{"op": "replace", "path": "/name", "value": "x"}]"""));
        foreach (var visibility in new[] { null, "all", "private", "shared", "public", "community" })
        {
            Assert.Empty(await ListIdsAsync(MemberB, visibility is null ? [] : [("visibility", visibility)]));
        }

        Assert.Equal([image.Id], await ListIdsAsync(MemberA));
        Assert.Equal([image.Id], await ListIdsAsync(ReaderA));
        Assert.Equal([image.Id], await ListIdsAsync(Admin));
    }

    [Fact]
    public async Task Shared_image_is_listed_for_a_member_only_once_accepted()
    {
        var image = await CreateAsync(MemberA, """{"name": "shared"}""");
        var member = await Images.AddMemberAsync(MemberA, image.Id, ProjectB, default);
        Assert.Equal(MemberStatus.Pending, member.Status);

        // Pending: visible by id and with member_status, not in the default list.
        Assert.Equal(image.Id, (await Images.GetAsync(MemberB, image.Id, default)).Id);
        Assert.Empty(await ListIdsAsync(MemberB));
        Assert.Equal([image.Id], await ListIdsAsync(MemberB, ("member_status", "pending")));
        Assert.Equal([image.Id], await ListIdsAsync(MemberB, ("member_status", "all"), ("visibility", "shared")));

        await Images.UpdateMemberAsync(MemberB, image.Id, ProjectB, MemberStatus.Accepted, default);
        Assert.Equal([image.Id], await ListIdsAsync(MemberB));
        Assert.Equal([image.Id], await ListIdsAsync(MemberB, ("visibility", "shared")));

        await Images.UpdateMemberAsync(MemberB, image.Id, ProjectB, MemberStatus.Rejected, default);
        Assert.Empty(await ListIdsAsync(MemberB));
        Assert.Equal([image.Id], await ListIdsAsync(MemberB, ("member_status", "rejected")));

        await Assert.ThrowsAsync<NotFoundException>(() => Images.GetAsync(MemberC, image.Id, default));
        await Images.RemoveMemberAsync(MemberA, image.Id, ProjectB, default);
        await Assert.ThrowsAsync<NotFoundException>(() => Images.GetAsync(MemberB, image.Id, default));
    }

    [Fact]
    public async Task Membership_rules_follow_glance()
    {
        var shared = await CreateAsync(MemberA, "{}");
        var priv = await CreateAsync(MemberA, """{"visibility": "private"}""");
        var error = await Assert.ThrowsAsync<ForbiddenException>(() => Images.AddMemberAsync(MemberA, priv.Id, ProjectB, default));
        Assert.StartsWith("Only shared images have members", error.Message, StringComparison.Ordinal);
        await Images.AddMemberAsync(MemberA, shared.Id, ProjectB, default);
        await Images.AddMemberAsync(MemberA, shared.Id, ProjectC, default);
        await Assert.ThrowsAsync<ConflictException>(() => Images.AddMemberAsync(MemberA, shared.Id, ProjectB, default));

        // The owner sees every member, a member only itself; only the member answers.
        Assert.Equal([ProjectB, ProjectC], (await Images.ListMembersAsync(MemberA, shared.Id, default)).Select(m => m.MemberId).Order());
        Assert.Equal([ProjectB], (await Images.ListMembersAsync(MemberB, shared.Id, default)).Select(m => m.MemberId));
        await Assert.ThrowsAsync<NotFoundException>(() => Images.GetMemberAsync(MemberB, shared.Id, ProjectC, default));
        await Assert.ThrowsAsync<ForbiddenException>(() => Images.UpdateMemberAsync(MemberA, shared.Id, ProjectB, MemberStatus.Accepted, default));
        await Assert.ThrowsAsync<NotFoundException>(() => Images.UpdateMemberAsync(MemberB, shared.Id, ProjectC, MemberStatus.Accepted, default));
        await Assert.ThrowsAsync<InvalidInputException>(() => Images.UpdateMemberAsync(MemberB, shared.Id, ProjectB, "maybe", default));
        await Assert.ThrowsAsync<ForbiddenException>(() => Images.AddMemberAsync(MemberB, shared.Id, "project-d", default));
        Assert.Equal(MemberStatus.Accepted, (await Images.UpdateMemberAsync(MemberB, shared.Id, ProjectB, MemberStatus.Accepted, default)).Status);
        Assert.Equal(MemberStatus.Accepted, (await Images.GetMemberAsync(MemberA, shared.Id, ProjectB, default)).Status);
        await Assert.ThrowsAsync<NotFoundException>(() => Images.RemoveMemberAsync(MemberA, shared.Id, "project-z", default));
    }

    [Fact]
    public async Task Community_images_are_seen_by_id_but_listed_only_when_asked_for()
    {
        var image = await CreateAsync(MemberA, """{"visibility": "community"}""");
        var pub = await CreateAsync(Admin, """{"visibility": "public"}""");
        Assert.Equal(image.Id, (await Images.GetAsync(MemberB, image.Id, default)).Id);
        Assert.Equal([pub.Id], await ListIdsAsync(MemberB));
        Assert.Equal([image.Id], await ListIdsAsync(MemberB, ("visibility", "community")));
        Assert.Contains(image.Id, await ListIdsAsync(MemberA));
    }

    [Fact]
    public async Task Hidden_images_are_listed_only_when_asked_for()
    {
        var hidden = await CreateAsync(MemberA, """{"os_hidden": true}""");
        var shown = await CreateAsync(MemberA, "{}");
        Assert.Equal([shown.Id], await ListIdsAsync(MemberA));
        Assert.Equal([hidden.Id], await ListIdsAsync(MemberA, ("os_hidden", "true")));
        Assert.Equal(hidden.Id, (await Images.GetAsync(MemberA, hidden.Id, default)).Id);
    }

    [Fact]
    public async Task Listing_pages_with_markers_in_multi_key_order()
    {
        var created = new List<Image>();
        foreach (var (name, minRam) in new[] { ("b", 1), ("a", 2), ("c", 1), ("a", 1), ("b", 2), ("c", 2), ("a", 3) })
        {
            Clock.Advance(TimeSpan.FromSeconds(1));
            created.Add(await CreateAsync(MemberA, $$"""{"name": "{{name}}", "min_ram": {{minRam}}}"""));
        }

        var expected = created.OrderBy(i => i.Name, StringComparer.Ordinal).ThenByDescending(i => i.MinRam).Select(i => i.Id).ToList();
        var seen = new List<string>();
        string? marker = null;
        var pages = 0;
        do
        {
            var parameters = new List<(string, string)> { ("sort", "name:asc,min_ram:desc"), ("limit", "3") };
            if (marker is not null)
            {
                parameters.Add(("marker", marker));
            }

            var page = await Images.ListAsync(MemberA, Query([.. parameters]), default);
            Assert.True(page.Images.Count <= 3);
            seen.AddRange(page.Images.Select(i => i.Id));
            marker = page.NextMarker;
            pages++;
        }
        while (marker is not null);

        Assert.Equal(expected, seen);
        Assert.Equal(3, pages);

        // The default order is newest first.
        Assert.Equal(created.Select(i => i.Id).Reverse(), await ListIdsAsync(MemberA));
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Images.ListAsync(MemberA, Query(("marker", Guid.NewGuid().ToString())), default));
        Assert.StartsWith("Invalid marker.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_pages_from_the_database_hold_exactly_the_images_the_listing_rules_show_in_their_order()
    {
        var random = new Random(11);
        var images = new List<Image>();
        var members = new Dictionary<(string Image, string Project), string>();
        string?[] names = [null, "", "alpha", "Alpha", "beta", "_b", "é", "beta"];
        string[] visibilities = [ImageVisibility.Public, ImageVisibility.Community, ImageVisibility.Shared, ImageVisibility.Private];
        string?[] owners = [ProjectA, ProjectB, ProjectC, null];
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var n = 0; n < 60; n++)
        {
            var id = Guid.NewGuid().ToString("D");
            var created = start.AddSeconds(random.Next(0, 20));
            images.Add(new Image
            {
                Id = id,
                Name = names[random.Next(names.Length)],
                Status = random.Next(3) == 0 ? ImageStatus.Queued : ImageStatus.Active,
                DiskFormat = random.Next(3) == 0 ? null : random.Next(2) == 0 ? "raw" : "qcow2",
                ContainerFormat = random.Next(3) == 0 ? null : "bare",
                Visibility = visibilities[random.Next(visibilities.Length)],
                Protected = random.Next(4) == 0,
                MinDisk = random.Next(3),
                MinRam = random.Next(3),
                Size = random.Next(3) == 0 ? null : random.Next(0, 4) * 100,
                Owner = owners[random.Next(owners.Length)],
                OsHidden = random.Next(6) == 0,
                CreatedAt = created,
                UpdatedAt = created.AddSeconds(random.Next(0, 5)),
                Tags = random.Next(2) == 0 ? ["x"] : random.Next(2) == 0 ? ["x", "y"] : [],
                Properties = random.Next(2) == 0 ? ImmutableSortedDictionary<string, string>.Empty.Add("os_distro", random.Next(2) == 0 ? "debian" : "cirros") : ImmutableSortedDictionary<string, string>.Empty,
            });
            foreach (var project in new[] { ProjectA, ProjectB })
            {
                if (random.Next(3) == 0)
                {
                    members[(id, project)] = MemberStatus.All[random.Next(MemberStatus.All.Length)];
                }
            }
        }

        await Database.WriteAsync(
            async session =>
            {
                foreach (var image in images)
                {
                    await ImageRows.InsertAsync(session, image);
                }

                foreach (var ((image, project), status) in members)
                {
                    await ImageRows.InsertMemberAsync(session, new ImageMember(image, project, status, start, start));
                }
            },
            default);

        (string, string)[][] queries =
        [
            [],
            [("sort", "name:asc,size:desc")],
            [("sort", "name:desc,disk_format:asc,created_at:asc")],
            [("sort_key", "size"), ("sort_dir", "asc")],
            [("sort", "owner:asc,visibility:desc,protected:asc,min_ram:desc")],
            [("sort", "container_format:desc,updated_at:desc")],
            [("visibility", "all"), ("sort", "virtual_size:asc,status:desc")],
            [("visibility", "community")],
            [("visibility", "shared"), ("member_status", "all")],
            [("visibility", "shared"), ("member_status", "pending"), ("sort", "name")],
            [("visibility", "private")],
            [("tag", "x"), ("tag", "y"), ("sort", "name:asc")],
            [("os_distro", "debian"), ("protected", "false")],
            [("os_hidden", "true")],
            [("name", "in:alpha,beta,\"\""), ("sort", "name:asc")],
            [("size_min", "100"), ("size_max", "200"), ("sort", "size:asc")],
            [("created_at", "gte:2026-01-01T00:00:05.0005Z"), ("min_ram", "neq:1")],
            [("updated_at", "lt:2026-01-01T00:00:10Z"), ("status", "active"), ("disk_format", "raw")],
            [("owner", ProjectB), ("sort", "created_at:asc")],
        ];
        foreach (var caller in new[] { MemberA, MemberB, MemberC, Admin })
        {
            foreach (var parameters in queries)
            {
                var query = Query(parameters);
                var expected = images
                    .Where(i => query.Shows(i, caller.ProjectId, caller.IsAdmin, members.GetValueOrDefault((i.Id, caller.ProjectId!))) && query.Matches(i))
                    .Order(Comparer<Image>.Create(query.Compare))
                    .Select(i => i.Id)
                    .ToList();
                var seen = new List<string>();
                string? marker = null;
                do
                {
                    var page = await Images.ListAsync(caller, Query([.. parameters, ("limit", "7"), .. marker is null ? Array.Empty<(string, string)>() : [("marker", marker)]]), default);
                    Assert.True(page.Images.Count <= 7);
                    seen.AddRange(page.Images.Select(i => i.Id));
                    marker = page.NextMarker;
                    Assert.True(seen.Count <= expected.Count, $"{caller.UserName} {string.Join('&', parameters)}: more images than expected");
                }
                while (marker is not null);

                Assert.True(expected.SequenceEqual(seen), $"{caller.UserName} {string.Join('&', parameters)}: expected {string.Join(' ', expected)}, listed {string.Join(' ', seen)}");
            }
        }
    }

    [Fact]
    public async Task Filters_narrow_the_listing()
    {
        var raw = await CreateAsync(MemberA, """{"name": "raw-one", "disk_format": "raw", "container_format": "bare", "tags": ["x", "y"], "os_distro": "debian"}""");
        var qcow = await CreateAsync(MemberA, """{"name": "qcow-one", "disk_format": "qcow2", "container_format": "bare", "protected": true}""");
        await Images.UploadAsync(MemberA, raw.Id, new MemoryStream(TestImages.Raw(2000)), 2000, default);
        Assert.Equal([raw.Id], await ListIdsAsync(MemberA, ("disk_format", "raw")));
        Assert.Equal(new[] { qcow.Id, raw.Id }.Order(), (await ListIdsAsync(MemberA, ("disk_format", "in:raw,qcow2"))).Order());
        Assert.Equal([raw.Id], await ListIdsAsync(MemberA, ("tag", "x"), ("tag", "y")));
        Assert.Equal([raw.Id], await ListIdsAsync(MemberA, ("status", "active")));
        Assert.Equal([raw.Id], await ListIdsAsync(MemberA, ("size_min", "1000")));
        Assert.Empty(await ListIdsAsync(MemberA, ("size_max", "1000")));
        Assert.Equal([qcow.Id], await ListIdsAsync(MemberA, ("protected", "true")));
        Assert.Equal([raw.Id], await ListIdsAsync(MemberA, ("os_distro", "debian")));
        Assert.Equal([qcow.Id], await ListIdsAsync(MemberA, ("name", "qcow-one")));
        Assert.Equal([raw.Id], await ListIdsAsync(MemberA, ("owner", ProjectA), ("container_format", "bare"), ("disk_format", "raw")));
    }

    [Fact]
    public async Task Tags_are_added_once_and_removing_a_missing_tag_is_404()
    {
        var image = await CreateAsync(MemberA, "{}");
        await Images.AddTagAsync(MemberA, image.Id, "fast", default);
        await Images.AddTagAsync(MemberA, image.Id, "fast", default);
        Assert.Equal(["fast"], (await Images.GetAsync(MemberA, image.Id, default)).Tags);
        await Images.RemoveTagAsync(MemberA, image.Id, "fast", default);
        await Assert.ThrowsAsync<NotFoundException>(() => Images.RemoveTagAsync(MemberA, image.Id, "fast", default));
        await Assert.ThrowsAsync<ForbiddenException>(() => Images.AddTagAsync(ReaderA, image.Id, "slow", default));
    }

    [Fact]
    public async Task Patch_changes_stick_and_refused_patches_change_nothing()
    {
        var image = await CreateAsync(MemberA, """{"name": "old", "disk_format": "raw", "container_format": "bare"}""");
        Clock.Advance(TimeSpan.FromMinutes(1));
        var patched = await PatchAsync(MemberA, image.Id, """[{"op": "replace", "path": "/name", "value": "new"}, {"op": "add", "path": "/os_distro", "value": "debian"}]""");
        Assert.Equal(patched, await Images.GetAsync(MemberA, image.Id, default));
        Assert.Equal(Clock.GetUtcNow(), patched.UpdatedAt);
        await Assert.ThrowsAsync<ForbiddenException>(() => PatchAsync(MemberA, image.Id, """[{"op": "replace", "path": "/name", "value": "newer"}, {"op": "replace", "path": "/size", "value": 1}]"""));
        Assert.Equal("new", (await Images.GetAsync(MemberA, image.Id, default)).Name);
        await Images.UploadAsync(MemberA, image.Id, new MemoryStream(TestImages.Raw(10)), 10, default);
        await Assert.ThrowsAsync<ForbiddenException>(() => PatchAsync(MemberA, image.Id, """[{"op": "replace", "path": "/disk_format", "value": "qcow2"}]"""));
    }

    [Fact]
    public async Task Glance_direct_import_stages_then_activates()
    {
        var image = await CreateAsync(MemberA, """{"disk_format": "raw", "container_format": "bare"}""");
        await Assert.ThrowsAsync<ConflictException>(() => Images.ImportAsync(MemberA, image.Id, ImageService.GlanceDirect, "req-1", default));
        var data = TestImages.Raw(300);
        await Images.StageAsync(MemberA, image.Id, new MemoryStream(data), data.Length, default);
        Assert.Equal(ImageStatus.Uploading, (await Images.GetAsync(MemberA, image.Id, default)).Status);
        await Assert.ThrowsAsync<ConflictException>(() => Images.UploadAsync(MemberA, image.Id, new MemoryStream(data), data.Length, default));
        await Images.ImportAsync(MemberA, image.Id, ImageService.GlanceDirect, "req-1", default);
        var active = await Images.GetAsync(MemberA, image.Id, default);
        Assert.Equal(ImageStatus.Active, active.Status);
        Assert.Equal(300, active.Size);
        Assert.Equal(data, await DownloadAllAsync(MemberA, image.Id));
        var task = Assert.Single(await Images.ListTasksAsync(MemberA, image.Id, default));
        Assert.Equal((ImageTask.Success, "glance-direct", "req-1"), (task.Status, task.Method, task.RequestId));
    }

    [Fact]
    public async Task Web_download_import_is_refused_because_there_is_no_internet()
    {
        var image = await CreateAsync(MemberA, """{"disk_format": "raw", "container_format": "bare"}""");
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Images.ImportAsync(MemberA, image.Id, ImageService.WebDownload, "req-2", default));
        Assert.Contains("no internet access", error.Message, StringComparison.Ordinal);
        Assert.Contains("glance-direct", error.Message, StringComparison.Ordinal);
        Assert.Equal(ImageStatus.Queued, (await Images.GetAsync(MemberA, image.Id, default)).Status);
        Assert.Empty(await Images.ListTasksAsync(MemberA, image.Id, default));
    }

    [Fact]
    public async Task Start_up_recovery_returns_images_stuck_saving_to_queued_and_removes_their_bytes()
    {
        var stuck = await CreateAsync(MemberA, """{"disk_format": "raw", "container_format": "bare"}""");
        var staging = await CreateAsync(MemberA, """{"disk_format": "raw", "container_format": "bare"}""");
        var fine = await CreateUploadedAsync(MemberA, TestImages.Raw(10));
        var location = await Store.WriteAsync(stuck.Id, new MemoryStream(TestImages.Raw(10)), default);
        await Database.WriteAsync(
            async session =>
            {
                await ImageRows.UpdateAsync(session, stuck with { Status = ImageStatus.Saving, Location = location, Size = 10 });
                await ImageRows.UpdateAsync(session, staging with { Status = ImageStatus.Uploading });
            },
            default);

        // A restart: a new service over the same database and store.
        var restarted = NewService(new ImagesSettings());
        await restarted.InitializeAsync(default);
        var recovered = await restarted.GetAsync(MemberA, stuck.Id, default);
        Assert.Equal(ImageStatus.Queued, recovered.Status);
        Assert.Null(recovered.Size);
        Assert.Equal(ImageStatus.Queued, (await restarted.GetAsync(MemberA, staging.Id, default)).Status);
        Assert.Equal(ImageStatus.Active, (await restarted.GetAsync(MemberA, fine.Id, default)).Status);
        Assert.Equal([fine.Id], Store.ImageIds);
        await restarted.UploadAsync(MemberA, stuck.Id, new MemoryStream(TestImages.Raw(20)), 20, default);
        Assert.Equal(ImageStatus.Active, (await restarted.GetAsync(MemberA, stuck.Id, default)).Status);
    }

    private protected ImageService NewService(ImagesSettings settings) =>
        new(Database, Store, new ImageUploader(), settings, Clock, NullLogger<ImageService>.Instance);

    private protected Task<Image> CreateAsync(AuthContext caller, string json)
    {
        using var document = JsonDocument.Parse(json);
        return Images.CreateAsync(caller, CreateImage.Parse(document.RootElement), default);
    }

    private async Task<Image> CreateUploadedAsync(AuthContext caller, byte[] data)
    {
        var image = await CreateAsync(caller, """{"disk_format": "raw", "container_format": "bare"}""");
        await Images.UploadAsync(caller, image.Id, new MemoryStream(data), data.Length, default);
        return await Images.GetAsync(caller, image.Id, default);
    }

    private Task<Image> PatchAsync(AuthContext caller, string id, string patch)
    {
        using var document = JsonDocument.Parse(patch);
        return Images.UpdateAsync(caller, id, ImagePatch.Parse(document.RootElement, PatchDialect.V21), default);
    }

    private async Task<List<string>> ListIdsAsync(AuthContext caller, params (string Key, string Value)[] parameters) =>
        [.. (await Images.ListAsync(caller, Query(parameters), default)).Images.Select(i => i.Id)];

    private static ImageListQuery Query(params (string Key, string Value)[] parameters) =>
        ImageListQuery.Parse(parameters.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)));

    private async Task<byte[]> DownloadAllAsync(AuthContext caller, string id)
    {
        var download = await Images.DownloadAsync(caller, id, null, default);
        return await ReadAsync(download.Content!);
    }

    private static async Task<byte[]> ReadAsync(Stream stream)
    {
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            return copy.ToArray();
        }
    }

    /// <summary>A request body that sends its first byte, then waits until <see cref="Open"/>.</summary>
    private sealed class GatedStream(byte[] data) : MemoryStream(data)
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Started => _started.Task;

        public void Open() => _open.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position > 0)
            {
                _started.TrySetResult();
                await _open.Task.WaitAsync(cancellationToken);
            }

            return await base.ReadAsync(buffer[..Math.Min(buffer.Length, 1)], cancellationToken);
        }
    }

    /// <summary>A request body whose client hangs up after <c>breakAfter</c> bytes.</summary>
    private sealed class BreakingStream(byte[] data, int breakAfter) : MemoryStream(data)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position >= breakAfter)
            {
                throw new IOException("The client reset the connection.");
            }

            var allowed = (int)Math.Min(buffer.Length, breakAfter - Position);
            return await base.ReadAsync(buffer[..allowed], cancellationToken);
        }
    }
}

public sealed class SqliteImageServiceTests : ImageServiceTests
{
    protected override DataProvider Provider => DataProvider.Sqlite;
}

[Trait("Database", "PostgreSQL")]
public sealed class PostgresImageServiceTests : ImageServiceTests
{
    protected override DataProvider Provider => DataProvider.Postgres;
}

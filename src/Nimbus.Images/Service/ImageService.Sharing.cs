using Nimbus.Images.Data;
using Nimbus.Platform.Auth;
using Nimbus.Platform.Data;
using Nimbus.Platform.Errors;

namespace Nimbus.Images.Service;

/// <summary>Tags and members (api-ref "Image tags", "Sharing").</summary>
internal sealed partial class ImageService
{
    public async Task AddTagAsync(AuthContext caller, string id, string tag, CancellationToken cancellationToken)
    {
        ImageAttributes.Tag(tag);
        await _database.WriteAsync(
            async session =>
            {
                var (image, _) = await FindVisibleAsync(session, caller, id);
                ImagePolicy.Table.Enforce(caller, ImagePolicy.ModifyImage, ImagePolicy.Target(image));
                if (image.Tags.Contains(tag))
                {
                    return;
                }

                EnsureWithinLimits(image.Tags.Count + 1, image.Properties.Count);
                await ImageRows.UpdateAsync(session, image with { Tags = image.Tags.Add(tag), UpdatedAt = Now() });
            },
            cancellationToken);
    }

    public async Task RemoveTagAsync(AuthContext caller, string id, string tag, CancellationToken cancellationToken)
    {
        await _database.WriteAsync(
            async session =>
            {
                var (image, _) = await FindVisibleAsync(session, caller, id);
                ImagePolicy.Table.Enforce(caller, ImagePolicy.ModifyImage, ImagePolicy.Target(image));
                if (!image.Tags.Contains(tag))
                {
                    throw new NotFoundException("images.tag_not_found", $"Tag {tag} not found on image {image.Id}.");
                }

                await ImageRows.UpdateAsync(session, image with { Tags = image.Tags.Remove(tag), UpdatedAt = Now() });
            },
            cancellationToken);
    }

    /// <summary>The owner shares a shared image with another project; the membership starts pending.</summary>
    public async Task<ImageMember> AddMemberAsync(AuthContext caller, string id, string memberId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(memberId) || memberId.Length > 255)
        {
            throw new InvalidInputException("images.bad_member", "member must be a project id of 1 to 255 characters.");
        }

        try
        {
            return await _database.WriteAsync(
                async session =>
                {
                    var image = await SharedImageAsync(session, caller, id, ImagePolicy.AddMember);
                    if (await ImageRows.FindMemberAsync(session, image.Id, memberId) is not null)
                    {
                        throw Duplicate(image.Id, memberId);
                    }

                    var count = await ImageRows.CountMembersAsync(session, image.Id);
                    if (count >= _settings.MaxMembersPerImage)
                    {
                        throw new OverLimitException("images.quota_members", $"Image {image.Id} already has {count} members, the most an image may have (image_member_quota).");
                    }

                    var now = Now();
                    var member = new ImageMember(image.Id, memberId, MemberStatus.Pending, now, now);
                    await ImageRows.InsertMemberAsync(session, member);
                    return member;
                },
                cancellationToken);
        }
        catch (DuplicateKeyException)
        {
            throw Duplicate(id, memberId);
        }
    }

    /// <summary>The owner sees every member; a member sees only its own membership.</summary>
    public async Task<IReadOnlyList<ImageMember>> ListMembersAsync(AuthContext caller, string id, CancellationToken cancellationToken) =>
        await _database.ReadAsync(
            async session =>
            {
                var image = await SharedImageAsync(session, caller, id, ImagePolicy.GetMembers);
                var members = await ImageRows.MembersAsync(session, image.Id);
                return caller.IsAdmin || Owns(caller, image) ? members : [.. members.Where(m => m.MemberId == caller.ProjectId)];
            },
            cancellationToken);

    public async Task<ImageMember> GetMemberAsync(AuthContext caller, string id, string memberId, CancellationToken cancellationToken) =>
        await _database.ReadAsync(
            async session =>
            {
                var image = await SharedImageAsync(session, caller, id, ImagePolicy.GetMember);
                var member = await ImageRows.FindMemberAsync(session, image.Id, memberId);
                return member is not null && (caller.IsAdmin || Owns(caller, image) || memberId == caller.ProjectId)
                    ? member
                    : throw NoMember(image.Id, memberId);
            },
            cancellationToken);

    /// <summary>Only the member project accepts or rejects (Glance's modify_member: project_id:%(member_id)s).</summary>
    public async Task<ImageMember> UpdateMemberAsync(AuthContext caller, string id, string memberId, string status, CancellationToken cancellationToken)
    {
        if (!MemberStatus.All.Contains(status))
        {
            throw new InvalidInputException("images.bad_member_status", $"Provided object does not match schema 'member': '{status}' is not one of ['pending', 'accepted', 'rejected'] (attribute 'status')");
        }

        return await _database.WriteAsync(
            async session =>
            {
                var (image, _) = await FindVisibleAsync(session, caller, id);
                var member = await ImageRows.FindMemberAsync(session, image.Id, memberId);
                if (member is null || !(caller.IsAdmin || Owns(caller, image) || memberId == caller.ProjectId))
                {
                    throw NoMember(image.Id, memberId);
                }

                ImagePolicy.Table.Enforce(caller, ImagePolicy.ModifyMember, new PolicyTarget(ProjectId: memberId));
                var changed = member with { Status = status, UpdatedAt = Now() };
                await ImageRows.UpdateMemberAsync(session, changed);
                return changed;
            },
            cancellationToken);
    }

    public async Task RemoveMemberAsync(AuthContext caller, string id, string memberId, CancellationToken cancellationToken) =>
        await _database.WriteAsync(
            async session =>
            {
                var image = await SharedImageAsync(session, caller, id, ImagePolicy.DeleteMember);
                if (!await ImageRows.DeleteMemberAsync(session, image.Id, memberId))
                {
                    throw NoMember(image.Id, memberId);
                }
            },
            cancellationToken);

    private static async Task<Image> SharedImageAsync(DataSession session, AuthContext caller, string id, string action)
    {
        var (image, _) = await FindVisibleAsync(session, caller, id);
        ImagePolicy.Table.Enforce(caller, action, ImagePolicy.Target(image));
        if (image.Visibility != ImageVisibility.Shared)
        {
            throw new ForbiddenException("images.not_shared", $"Only shared images have members; image {image.Id} is {image.Visibility}. Set its visibility to shared first.");
        }

        return image;
    }

    private static ConflictException Duplicate(string imageId, string memberId) =>
        new("images.duplicate_member", $"Member {memberId} is duplicated for image {imageId}");

    private static NotFoundException NoMember(string imageId, string memberId) =>
        new("images.member_not_found", $"{memberId} not found in the member list of the image {imageId}.");
}

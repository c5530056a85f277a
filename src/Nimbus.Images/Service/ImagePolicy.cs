using Nimbus.Platform.Auth;

namespace Nimbus.Images.Service;

/// <summary>
/// Who may do what to images: Glance's default rules (glance/policies/image.py, member.py) with
/// the target's project being the image owner, or the member for member updates. Which images a
/// caller can see at all is decided by the service (visibility and membership), as Glance's
/// database layer does; these rules only come into play for what the caller can see.
/// </summary>
internal static class ImagePolicy
{
    public const string AddImage = "add_image";
    public const string GetImage = "get_image";
    public const string GetImages = "get_images";
    public const string ModifyImage = "modify_image";
    public const string DeleteImage = "delete_image";
    public const string UploadImage = "upload_image";
    public const string DownloadImage = "download_image";
    public const string PublicizeImage = "publicize_image";
    public const string CommunitizeImage = "communitize_image";
    public const string Deactivate = "deactivate";
    public const string Reactivate = "reactivate";
    public const string AddMember = "add_member";
    public const string GetMember = "get_member";
    public const string GetMembers = "get_members";
    public const string ModifyMember = "modify_member";
    public const string DeleteMember = "delete_member";

    private static readonly PolicyRule Reader = PolicyRule.Admin.Or(PolicyRule.Role("reader"));

    private static readonly PolicyRule OwnerMember = PolicyRule.Admin.Or(PolicyRule.Role("member").And(PolicyRule.ProjectOwner));

    public static PolicyTable Table { get; } = new(new Dictionary<string, PolicyRule>
    {
        [AddImage] = OwnerMember,
        [GetImage] = Reader,
        [GetImages] = Reader,
        [ModifyImage] = OwnerMember,
        [DeleteImage] = OwnerMember,
        [UploadImage] = OwnerMember,
        [DownloadImage] = Reader,
        [PublicizeImage] = PolicyRule.Admin,
        [CommunitizeImage] = OwnerMember,
        // Glance's new defaults (and tempest's non-admin test): the owning project's members too.
        [Deactivate] = OwnerMember,
        [Reactivate] = OwnerMember,
        [AddMember] = OwnerMember,
        [GetMember] = Reader,
        [GetMembers] = Reader,
        [ModifyMember] = OwnerMember,
        [DeleteMember] = OwnerMember,
    });

    /// <summary>The target of a rule about <paramref name="image"/>: its owning project.</summary>
    public static PolicyTarget Target(Image image) => new(ProjectId: image.Owner);
}

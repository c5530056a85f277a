using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Nimbus.Identity.Policy;
using Nimbus.Identity.Resources;
using Nimbus.Platform.Auth;

namespace Nimbus.Identity.Api;

internal static partial class IdentityApi
{
    private static void MapCredentials(RouteGroupBuilder v3)
    {
        v3.MapGet("/credentials", ListCredentialsAsync);
        v3.MapPost("/credentials", CreateCredentialAsync);
        v3.MapGet("/credentials/{credentialId}", GetCredentialAsync);
        v3.MapMethods("/credentials/{credentialId}", ["PATCH"], UpdateCredentialAsync);
        v3.MapDelete("/credentials/{credentialId}", DeleteCredentialAsync);

        v3.MapGet("/users/{userId}/credentials/OS-EC2", ListEc2Async);
        v3.MapPost("/users/{userId}/credentials/OS-EC2", CreateEc2Async);
        v3.MapGet("/users/{userId}/credentials/OS-EC2/{access}", GetEc2Async);
        v3.MapDelete("/users/{userId}/credentials/OS-EC2/{access}", DeleteEc2Async);
    }

    private static JsonObject CredentialJson(HttpContext context, Credential credential) => new()
    {
        ["id"] = credential.Id,
        ["user_id"] = credential.UserId,
        ["project_id"] = credential.ProjectId,
        ["type"] = credential.Type,
        ["blob"] = credential.Blob,
        ["links"] = IdentityJson.Links($"{IdentityJson.V3Base(context)}/credentials/{credential.Id}"),
    };

    private static async Task<IResult> ListCredentialsAsync(HttpContext context, IdentityDirectory directory)
    {
        var caller = context.Caller();
        // Keystone filters the listing down to what the caller may see: their own, unless admin.
        var userId = RequestBody.Query(context, "user_id") ?? (caller.IsAdmin ? null : caller.UserId);
        Enforce(context, "identity:list_credentials", new PolicyTarget(UserId: userId));
        var credentials = await directory.ListCredentialsAsync(userId, RequestBody.Query(context, "type"), context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "credentials", credentials.Select(c => CredentialJson(context, c))));
    }

    private static async Task<IResult> CreateCredentialAsync(HttpContext context, IdentityDirectory directory)
    {
        var body = await RequestBody.ReadAsync(context, "credential");
        var userId = RequestBody.RequiredString(body, "user_id", "credential");
        Enforce(context, "identity:create_credential", new PolicyTarget(UserId: userId));
        var credential = await directory.CreateCredentialAsync(
            userId,
            RequestBody.String(body, "project_id"),
            RequestBody.RequiredString(body, "type", "credential"),
            RequestBody.RequiredString(body, "blob", "credential"),
            context.RequestAborted);
        return IdentityJson.Ok(new JsonObject { ["credential"] = CredentialJson(context, credential) }, StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetCredentialAsync(HttpContext context, IdentityDirectory directory, string credentialId)
    {
        var credential = await OwnCredentialAsync(context, directory, credentialId, "identity:get_credential");
        return IdentityJson.Ok(new JsonObject { ["credential"] = CredentialJson(context, credential) });
    }

    private static async Task<IResult> UpdateCredentialAsync(HttpContext context, IdentityDirectory directory, string credentialId)
    {
        _ = await OwnCredentialAsync(context, directory, credentialId, "identity:update_credential");
        var body = await RequestBody.ReadAsync(context, "credential");
        var credential = await directory.UpdateCredentialAsync(credentialId, RequestBody.String(body, "project_id"), RequestBody.String(body, "type"), RequestBody.String(body, "blob"), context.RequestAborted);
        return IdentityJson.Ok(new JsonObject { ["credential"] = CredentialJson(context, credential) });
    }

    private static async Task<IResult> DeleteCredentialAsync(HttpContext context, IdentityDirectory directory, string credentialId)
    {
        _ = await OwnCredentialAsync(context, directory, credentialId, "identity:delete_credential");
        await directory.DeleteCredentialAsync(credentialId, context.RequestAborted);
        return Results.NoContent();
    }

    /// <summary>The credential, once policy allows the caller at it; someone else's is as absent as a missing one.</summary>
    private static async Task<Credential> OwnCredentialAsync(HttpContext context, IdentityDirectory directory, string credentialId, string action)
    {
        var caller = context.Caller();
        var credential = await directory.FindCredentialAsync(credentialId, context.RequestAborted);
        if (credential is null || !IdentityPolicy.Table.Allows(caller, action, new PolicyTarget(UserId: credential.UserId)))
        {
            IdentityPolicy.Table.Enforce(caller, action, new PolicyTarget(UserId: caller.UserId));
            throw IdentityErrors.NotFound("credential", credentialId);
        }

        return credential;
    }

    // ---- EC2 credentials (api-ref "OS-EC2"), the keys S3 and EC2 clients sign with -------

    private static JsonObject Ec2Json(HttpContext context, Credential credential)
    {
        var blob = JsonNode.Parse(credential.Blob) as JsonObject ?? [];
        return new JsonObject
        {
            ["user_id"] = credential.UserId,
            ["tenant_id"] = credential.ProjectId,
            ["access"] = blob["access"]?.DeepClone(),
            ["secret"] = blob["secret"]?.DeepClone(),
            ["trust_id"] = null,
            ["links"] = IdentityJson.Links($"{IdentityJson.V3Base(context)}/users/{credential.UserId}/credentials/OS-EC2/{(string?)blob["access"]}"),
        };
    }

    private static async Task<IResult> ListEc2Async(HttpContext context, IdentityDirectory directory, string userId)
    {
        Enforce(context, "identity:ec2_list_credentials", new PolicyTarget(UserId: userId));
        var credentials = await directory.ListCredentialsAsync(userId, "ec2", context.RequestAborted);
        return IdentityJson.Ok(IdentityJson.Collection(context, "credentials", credentials.Select(c => Ec2Json(context, c))));
    }

    private static async Task<IResult> CreateEc2Async(HttpContext context, IdentityDirectory directory, string userId)
    {
        Enforce(context, "identity:ec2_create_credential", new PolicyTarget(UserId: userId));
        var body = await RequestBody.ReadAsync(context, null);
        var projectId = RequestBody.RequiredString(body, "tenant_id", "the request body");
        // Keystone only hands out keys for a project the user has a role on.
        if ((await directory.EffectiveRolesAsync(userId, TargetType.Project, projectId, context.RequestAborted)).IsEmpty)
        {
            throw new Platform.Errors.ForbiddenException("identity.ec2_project", $"User {userId} has no role on project {projectId}; EC2 credentials are made for a project the user belongs to.");
        }

        var blob = new JsonObject { ["access"] = IdentityDirectory.NewId(), ["secret"] = IdentityDirectory.NewId(), ["trust_id"] = null }.ToJsonString();
        var credential = await directory.CreateCredentialAsync(userId, projectId, "ec2", blob, context.RequestAborted);
        return IdentityJson.Ok(new JsonObject { ["credential"] = Ec2Json(context, credential) }, StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetEc2Async(HttpContext context, IdentityDirectory directory, string userId, string access)
    {
        Enforce(context, "identity:ec2_get_credential", new PolicyTarget(UserId: userId));
        return IdentityJson.Ok(new JsonObject { ["credential"] = Ec2Json(context, await Ec2Async(directory, userId, access, context.RequestAborted)) });
    }

    private static async Task<IResult> DeleteEc2Async(HttpContext context, IdentityDirectory directory, string userId, string access)
    {
        Enforce(context, "identity:ec2_delete_credential", new PolicyTarget(UserId: userId));
        var credential = await Ec2Async(directory, userId, access, context.RequestAborted);
        await directory.DeleteCredentialAsync(credential.Id, context.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<Credential> Ec2Async(IdentityDirectory directory, string userId, string access, CancellationToken cancellationToken)
    {
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(access)));
        var credential = await directory.FindCredentialAsync(id, cancellationToken);
        return credential is { Type: "ec2" } && credential.UserId == userId
            ? credential
            : throw new Platform.Errors.NotFoundException("identity.ec2_not_found", $"Could not find credential: {id}.");
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Nimbus.Objects.Common;

namespace Nimbus.Objects.Proxy;

/// <summary>
/// GET /info: the cluster's capabilities, as Swift's register_swift_info collects them — the core
/// limits under "swift" and one entry per filter in the pipeline.
/// </summary>
public sealed class SwiftInfo
{
    private readonly JsonObject _info = new()
    {
        ["swift"] = new JsonObject
        {
            ["version"] = "2.30.1",
            ["max_file_size"] = Constraints.MaxFileSize,
            ["max_meta_name_length"] = Constraints.MaxMetaNameLength,
            ["max_meta_value_length"] = Constraints.MaxMetaValueLength,
            ["max_meta_count"] = Constraints.MaxMetaCount,
            ["max_meta_overall_size"] = Constraints.MaxMetaOverallSize,
            ["max_header_size"] = Constraints.MaxHeaderSize,
            ["max_object_name_length"] = Constraints.MaxObjectNameLength,
            ["max_container_name_length"] = Constraints.MaxContainerNameLength,
            ["max_account_name_length"] = Constraints.MaxAccountNameLength,
            ["container_listing_limit"] = Constraints.ContainerListingLimit,
            ["account_listing_limit"] = Constraints.AccountListingLimit,
            ["extra_header_count"] = 0,
            ["valid_api_versions"] = new JsonArray("v1", "v1.0"),
            ["strict_cors_mode"] = true,
            ["policies"] = new JsonArray(new JsonObject { ["name"] = "Policy-0", ["default"] = true }),
        },
    };

    private byte[]? _body;

    /// <summary>Adds a filter's section; called as the pipeline is assembled.</summary>
    public void Register(string name, JsonObject capabilities)
    {
        _info[name] = capabilities;
        _body = null;
    }

    public Task WriteAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            return Http.SwiftResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed);
        }

        var body = _body ??= JsonSerializer.SerializeToUtf8Bytes(_info);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=UTF-8";
        context.Response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}

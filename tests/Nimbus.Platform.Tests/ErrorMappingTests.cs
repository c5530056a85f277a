using Nimbus.Platform.Errors;

namespace Nimbus.Platform.Tests;

public sealed class ErrorMappingTests
{
    [Fact]
    public void Every_error_kind_has_its_own_exit_code_distinct_from_success_and_usage()
    {
        var codes = Enum.GetValues<ErrorKind>().Select(ErrorMapping.ExitCode).ToList();

        Assert.Equal(codes.Count, codes.Distinct().Count());
        Assert.DoesNotContain(ErrorMapping.SuccessExitCode, codes);
        Assert.DoesNotContain(ErrorMapping.UsageExitCode, codes);
    }

    [Theory]
    [InlineData(ErrorKind.InvalidInput, 400, "badRequest")]
    [InlineData(ErrorKind.Unauthorized, 401, "unauthorized")]
    [InlineData(ErrorKind.Forbidden, 403, "forbidden")]
    [InlineData(ErrorKind.NotFound, 404, "itemNotFound")]
    [InlineData(ErrorKind.Conflict, 409, "conflictingRequest")]
    [InlineData(ErrorKind.OverLimit, 413, "overLimit")]
    [InlineData(ErrorKind.Unsupported, 501, "notImplemented")]
    [InlineData(ErrorKind.Unavailable, 503, "serviceUnavailable")]
    [InlineData(ErrorKind.Internal, 500, "computeFault")]
    public void Error_kinds_map_to_the_openstack_status_and_fault_name(ErrorKind kind, int status, string faultName)
    {
        Assert.Equal(status, ErrorMapping.HttpStatus(kind));
        Assert.Equal(faultName, ErrorMapping.FaultName(kind));
        Assert.Equal(kind, ErrorMapping.KindForStatus(status));
    }

    [Fact]
    public void Typed_exceptions_carry_their_kind_and_stable_code()
    {
        NimbusException error = new NotFoundException("domain.not_found", "no domain 'web1'");

        Assert.Equal(ErrorKind.NotFound, error.Kind);
        Assert.Equal("domain.not_found", error.Code);
        Assert.Equal(4, ErrorMapping.ExitCode(error.Kind));
    }
}

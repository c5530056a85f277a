using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.Extensions.Logging.Abstractions;
using Nimbus.Platform.Errors;
using Nimbus.Platform.Http;

namespace Nimbus.Bench;

/// <summary>
/// What the platform middleware every API request passes through costs in process: the request id
/// and fault handling around a trivial handler, against the bare handler, and the fault-body path.
/// </summary>
[MemoryDiagnoser]
public class MiddlewareBenchmarks
{
    private static readonly RequestDelegate Handler = context =>
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        return Task.CompletedTask;
    };

    private RequestDelegate _platform = Handler;

    [GlobalSetup]
    public void Setup()
    {
        var faults = new FaultMiddleware(Handler, NullLogger<FaultMiddleware>.Instance);
        var requestIds = new RequestIdMiddleware(faults.InvokeAsync, NullLogger<RequestIdMiddleware>.Instance);
        _platform = requestIds.InvokeAsync;
    }

    [Benchmark(Baseline = true)]
    public Task BareHandler() => Handler(NewContext());

    [Benchmark]
    public Task RequestIdAndFaults() => _platform(NewContext());

    [Benchmark]
    public Task FaultBody() => FaultWriter.WriteAsync(NewContext(), ErrorKind.NotFound, "No server with id 'x' exists.");

    private static DefaultHttpContext NewContext()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/healthz";
        context.Response.Body = Stream.Null;
        return context;
    }
}

internal static class MiddlewareBenchmark
{
    public static Task<int> RunAsync(string[] args)
    {
        using var progress = new StreamWriter(Console.OpenStandardError()) { AutoFlush = true };
        var config = ManualConfig.CreateEmpty()
            .AddLogger(new StreamLogger(progress))
            .AddColumnProvider(BenchmarkDotNet.Columns.DefaultColumnProviders.Instance)
            .AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default)
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(10))
            .WithOption(ConfigOptions.DisableLogFile, true);
        var summary = BenchmarkRunner.Run<MiddlewareBenchmarks>(config, args);

        var results = new JsonArray();
        foreach (var report in summary.Reports)
        {
            var statistics = report.ResultStatistics;
            results.Add(new JsonObject
            {
                ["method"] = report.BenchmarkCase.Descriptor.WorkloadMethod.Name,
                ["mean_ns"] = statistics is null ? null : Math.Round(statistics.Mean, 1),
                ["stderr_ns"] = statistics is null ? null : Math.Round(statistics.StandardError, 1),
                ["allocated_bytes"] = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase),
            });
        }

        var document = new JsonObject
        {
            ["benchmark"] = "middleware",
            ["tool"] = "BenchmarkDotNet",
            ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            ["results"] = results,
        };
        Console.WriteLine(document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return Task.FromResult(summary.HasCriticalValidationErrors ? 1 : 0);
    }
}

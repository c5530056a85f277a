using System.Diagnostics;
using Xunit;

namespace Nimbus.TestSupport;

public sealed record ProcessResult(int ExitCode, string Output, string Error);

/// <summary>Runs a program to its end for a test, with an argument array and a bounded wait.</summary>
public static class HostProcess
{
    private static readonly TimeSpan DefaultLimit = TimeSpan.FromMinutes(10);

    /// <summary>Standard input, output and error all redirected; the caller may still adjust the environment.</summary>
    public static ProcessStartInfo Info(string program, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    public static Task<ProcessResult> RunAsync(string program, params string[] args) => RunAsync(Info(program, args));

    public static async Task<ProcessResult> RunAsync(ProcessStartInfo info, TimeSpan? limit = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        using var process = Start(info);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit ?? DefaultLimit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Not left running behind the test: it would hold ports, files and the cores the next tests need.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"{info.FileName} {string.Join(' ', info.ArgumentList)} did not finish within {(limit ?? DefaultLimit).TotalMinutes:0.#} minutes; its stderr: {await error}");
        }

        return new ProcessResult(process.ExitCode, await output, await error);
    }

    /// <summary>For synchronous test hooks (fixture constructors, XML factories).</summary>
    public static ProcessResult Run(string program, params string[] args)
    {
        using var process = Start(Info(program, args));
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(DefaultLimit), $"{program} did not finish within {DefaultLimit.TotalMinutes:0} minutes");
        return new ProcessResult(process.ExitCode, output.Result, error.Result);
    }

    public static Process Start(ProcessStartInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        try
        {
            return Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"{info.FileName} is not installed; ./test.sh installs what the tests need", ex);
        }
    }
}

using System.Diagnostics;

namespace Nimbus.Virt;

/// <summary>
/// Runs a host tool (qemu-img, ip, stat, qemu-system) with an argument array — never a shell
/// string — and turns "not installed", "timed out" and "failed" into VirtExceptions that say so.
/// </summary>
internal static class HostCommand
{
    public sealed record Result(int ExitCode, string Output, string Error);

    /// <summary>Runs the tool to its end; <c>package</c> is the Debian package to name when the tool is missing.</summary>
    public static async Task<Result> RunAsync(string program, IEnumerable<string> args, string package, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new VirtException(VirtErrorCode.OperationFailed, $"operation failed: cannot run {program} ({ex.Message}); install {package}", ex);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (timeout is { } within)
            {
                limit.CancelAfter(within);
            }

            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                if (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }

                throw new VirtException(VirtErrorCode.OperationTimeout, $"operation timed out: {Path.GetFileName(program)} did not finish within {timeout!.Value.TotalSeconds:0} s");
            }

            return new Result(process.ExitCode, await output, await error);
        }
    }

    /// <summary>Runs the tool and returns its standard output; a non-zero exit is an OperationFailed naming its error output.</summary>
    public static async Task<string> RunCheckedAsync(string program, IReadOnlyList<string> args, string package, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var result = await RunAsync(program, args, package, cancellationToken, timeout);
        if (result.ExitCode != 0)
        {
            var message = result.Error.Trim();
            throw new VirtException(VirtErrorCode.OperationFailed, $"operation failed: {Path.GetFileName(program)} {args[0]}: {(message.Length == 0 ? $"exit code {result.ExitCode}" : message)}");
        }

        return result.Output;
    }
}

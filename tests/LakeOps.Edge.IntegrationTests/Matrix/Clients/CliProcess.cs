using System.Diagnostics;
using System.Text;

namespace LakeOps.Edge.IntegrationTests.Matrix.Clients;

/// <summary>Runs a client program; stdout is kept as bytes (the mysql CLI prints binary columns raw).</summary>
public static class CliProcess
{
    public sealed record Result(int ExitCode, byte[] StdOut, string StdErr);

    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments, IDictionary<string, string>? environment, string? stdin, int timeoutSeconds = 30)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
        };
        if (environment is not null)
        {
            foreach (KeyValuePair<string, string> pair in environment)
            {
                info.Environment[pair.Key] = pair.Value;
            }
        }

        using Process process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + file);
        using var stdout = new MemoryStream();
        Task copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {timeoutSeconds} s");
        }

        await copy;
        return new Result(process.ExitCode, stdout.ToArray(), await stderr);
    }
}

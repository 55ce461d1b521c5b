using System.Diagnostics;

namespace LakeOps.Edge.IntegrationTests.Support;

/// <summary>Runs real client programs (psql, pgbench) and captures what they print.</summary>
public static class Tools
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        public string All => StdOut + StdErr;
    }

    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments, IDictionary<string, string>? environment = null, string? stdin = null, int timeoutSeconds = 120)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.Environment["PGCONNECT_TIMEOUT"] = "10";
        info.Environment["PSQLRC"] = "/dev/null";
        if (environment is not null)
        {
            foreach (KeyValuePair<string, string> pair in environment)
            {
                info.Environment[pair.Key] = pair.Value;
            }
        }

        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
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

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>psql with -X (no psqlrc), -v ON_ERROR_STOP=1 unless asked otherwise.</summary>
    public static Task<Result> PsqlAsync(EdgeProcess edge, params string[] arguments) =>
        RunAsync("psql", ["-X", "-v", "ON_ERROR_STOP=1", edge.LibpqConnection(), .. arguments]);
}

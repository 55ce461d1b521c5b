using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace LakeOps.Edge.IntegrationTests.Support;

/// <summary>
/// A throwaway PostgreSQL 15 for fault tests: initdb into a temp dir (as user postgres when running as root),
/// trust logins on 127.0.0.1 for user postgres, a free port that stays the same across
/// <see cref="StopImmediateAsync"/> / <see cref="StartAsync"/> (pg_ctl), deleted on dispose.
/// </summary>
internal sealed class SecondPostgres : IAsyncDisposable
{
    private const string BinDirectory = "/usr/lib/postgresql/15/bin";

    private readonly string _directory;

    private SecondPostgres(string directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string Host => "127.0.0.1";

    public string User => "postgres";

    private string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>Runs initdb and starts the server (a few attempts if the free port was taken meanwhile).</summary>
    public static async Task<SecondPostgres> CreateAsync()
    {
        string directory = Path.Combine(Path.GetTempPath(), "edge-pg2-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        if (IsRoot)
        {
            await MustRunAsync("chown", ["-R", "postgres:postgres", directory], asPostgres: false);
        }

        await MustRunAsync(Path.Combine(BinDirectory, "initdb"), [
            "-D", Path.Combine(directory, "data"), "-U", "postgres", "-E", "UTF8", "--locale=C", "--auth=trust", "--no-sync"], asPostgres: true);
        for (int attempt = 1; ; attempt++)
        {
            var server = new SecondPostgres(directory, FreePort());
            try
            {
                await server.StartAsync();
                return server;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
            }
        }
    }

    public async Task StartAsync()
    {
        string options = string.Create(CultureInfo.InvariantCulture,
            $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100");
        await MustRunAsync(Path.Combine(BinDirectory, "pg_ctl"), [
            "-D", DataDirectory, "-l", Path.Combine(_directory, "server.log"), "-o", options, "-w", "-t", "30", "start"], asPostgres: true);
    }

    /// <summary>pg_ctl stop -m immediate: the postmaster and every backend end at once, as in a crash.</summary>
    public Task StopImmediateAsync() =>
        MustRunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "30", "stop"], asPostgres: true);

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            await RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "30", "stop"], asPostgres: true);
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static bool IsRoot => geteuid() == 0;

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static async Task MustRunAsync(string file, string[] arguments, bool asPostgres)
    {
        (int exitCode, string output) = await RunAsync(file, arguments, asPostgres);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({exitCode}):\n{output}");
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] arguments, bool asPostgres)
    {
        ProcessStartInfo info = asPostgres && IsRoot
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", file, .. arguments])
            : new ProcessStartInfo(file, arguments);
        info.RedirectStandardError = true;
        info.RedirectStandardOutput = true;
        info.UseShellExecute = false;
        using Process process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + file);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    [DllImport("libc")]
    private static extern uint geteuid();
}

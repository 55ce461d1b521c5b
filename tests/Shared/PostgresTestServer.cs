using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace LakeOps.Edge.Tests.Shared;

/// <summary>
/// A real PostgreSQL server for tests. When EDGE_TEST_PG_HOST / _PORT / _USER / _PASSWORD (and optionally
/// _DATABASE) are set, that server is used as it is. Otherwise this class starts its own: initdb into a
/// fresh temp dir (as user postgres when running as root), postgres on a free 127.0.0.1 port with
/// fsync off, TLS on (self-signed certificate), local socket trust and these TCP logins:
/// <list type="bullet">
/// <item><see cref="User"/> (superuser "postgres") and <see cref="ScramUser"/>: scram-sha-256;</item>
/// <item><see cref="Md5User"/>: md5 (its password is stored as an md5 hash);</item>
/// <item><see cref="CleartextUser"/>: password (cleartext);</item>
/// <item><see cref="TrustUser"/>: trust.</item>
/// </list>
/// One server per test process: <see cref="GetAsync"/> starts it on first use; it is stopped
/// (immediate shutdown, as pg_ctl stop -m immediate) and its directory deleted when the process exits, or by <see cref="DisposeAsync"/>.
/// </summary>
public sealed class PostgresTestServer : IAsyncDisposable
{
    public const string ScramUser = "edge_scram";
    public const string ScramPassword = "scram-Pa55";
    public const string Md5User = "edge_md5";
    public const string Md5Password = "md5-Pa55";
    public const string CleartextUser = "edge_clear";
    public const string CleartextPassword = "clear-Pa55";
    public const string TrustUser = "edge_trust";

    private const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private const string SuperUser = "postgres";
    private const string SuperPassword = "edge-pg-Pa55";

    private static readonly SemaphoreSlim StartLock = new(1, 1);
    private static PostgresTestServer? _shared;

    private readonly Process? _process;
    private readonly string? _directory;
    private readonly StringBuilder _log = new();
    private int _disposed;

    private PostgresTestServer(string host, int port, string user, string password, string database, Process? process, string? directory)
    {
        Host = host;
        Port = port;
        User = user;
        Password = password;
        Database = database;
        _process = process;
        _directory = directory;
    }

    public string Host { get; }

    public int Port { get; }

    /// <summary>A superuser (own server: "postgres" with a SCRAM password).</summary>
    public string User { get; }

    public string Password { get; }

    public string Database { get; }

    /// <summary>True when this class started the server: the extra users exist and TLS is on.</summary>
    public bool IsOwned => _process is not null;

    /// <summary>The server's log so far (own server only), for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>An Npgsql connection string (no pooling) for <paramref name="user"/>, by default the superuser.</summary>
    public string ConnectionString(string? user = null, string? password = null, string? database = null) =>
        $"Host={Host};Port={Port};Username={user ?? User};Password={password ?? Password};Database={database ?? Database};Pooling=false;SSL Mode=Disable";

    /// <summary>The shared server of this test process, started on first call.</summary>
    public static async Task<PostgresTestServer> GetAsync()
    {
        if (Volatile.Read(ref _shared) is { } ready)
        {
            return ready;
        }

        await StartLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_shared is null)
            {
                PostgresTestServer server = FromEnvironment() ?? await StartOwnAsync().ConfigureAwait(false);
                AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
                Volatile.Write(ref _shared, server);
            }

            return _shared;
        }
        finally
        {
            StartLock.Release();
        }
    }

    /// <summary>
    /// Runs SQL with psql as the superuser and returns its output: unaligned, tuples only, fields separated
    /// by a tab, NULL printed as "NULL". Throws when psql fails. For checking values the way the server prints them.
    /// </summary>
    public async Task<string> PsqlAsync(string sql)
    {
        var result = await RunAsync(Path.Combine(BinDirectory, "psql"), [
            "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-F", "\t", "-P", "null=NULL",
            "-h", Host, "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", User, "-d", Database, "-c", sql],
            environment: new Dictionary<string, string> { ["PGPASSWORD"] = Password, ["PGSSLMODE"] = "disable", ["PGTZ"] = "UTC" },
            asPostgres: false).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"psql failed ({result.ExitCode}) for: {sql}\n{result.Output}");
        }

        return result.Stdout.TrimEnd('\n');
    }

    private static PostgresTestServer? FromEnvironment()
    {
        string? host = Environment.GetEnvironmentVariable("EDGE_TEST_PG_HOST");
        if (string.IsNullOrEmpty(host))
        {
            return null;
        }

        int port = int.Parse(Environment.GetEnvironmentVariable("EDGE_TEST_PG_PORT") is { Length: > 0 } p ? p : "5432", CultureInfo.InvariantCulture);
        string user = Environment.GetEnvironmentVariable("EDGE_TEST_PG_USER") is { Length: > 0 } u ? u : SuperUser;
        string password = Environment.GetEnvironmentVariable("EDGE_TEST_PG_PASSWORD") ?? "";
        string database = Environment.GetEnvironmentVariable("EDGE_TEST_PG_DATABASE") is { Length: > 0 } d ? d : "postgres";
        return new PostgresTestServer(host, port, user, password, database, null, null);
    }

    private static async Task<PostgresTestServer> StartOwnAsync()
    {
        SweepStaleDirectories();
        string directory = Path.Combine(Path.GetTempPath(), "edge-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        try
        {
            string dataDir = Path.Combine(directory, "data");
            string passwordFile = Path.Combine(directory, "pw");
            await File.WriteAllTextAsync(passwordFile, SuperPassword + "\n").ConfigureAwait(false);
            WriteCertificate(directory);
            if (IsRoot)
            {
                await MustRunAsync("chown", ["-R", "postgres:postgres", directory], asPostgres: false).ConfigureAwait(false);
            }

            await MustRunAsync(Path.Combine(BinDirectory, "initdb"), [
                "-D", dataDir, "-U", SuperUser, "--pwfile=" + passwordFile, "-E", "UTF8", "--locale=C",
                "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"], asPostgres: true).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(dataDir, "pg_hba.conf"), $"""
                local all all trust
                host all {TrustUser} 127.0.0.1/32 trust
                host all {Md5User} 127.0.0.1/32 md5
                host all {CleartextUser} 127.0.0.1/32 password
                host all all 127.0.0.1/32 scram-sha-256

                """).ConfigureAwait(false);

            // A free port can be taken between probing and binding: try a few.
            for (int attempt = 1; ; attempt++)
            {
                PostgresTestServer? server = await TryStartAsync(directory, dataDir, FreePort()).ConfigureAwait(false);
                if (server is not null)
                {
                    await server.CreateRolesAsync().ConfigureAwait(false);
                    return server;
                }

                if (attempt == 3)
                {
                    throw new InvalidOperationException("postgres did not start in 3 attempts; see " + directory);
                }
            }
        }
        catch
        {
            TryDelete(directory);
            throw;
        }
    }

    private static async Task<PostgresTestServer?> TryStartAsync(string directory, string dataDir, int port)
    {
        string portText = port.ToString(CultureInfo.InvariantCulture);
        ProcessStartInfo info = StartInfo(Path.Combine(BinDirectory, "postgres"), [
            "-D", dataDir, "-p", portText, "-k", directory,
            "-c", "listen_addresses=127.0.0.1",
            "-c", "max_connections=300",
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
            "-c", "ssl=on",
            "-c", "ssl_cert_file=" + Path.Combine(directory, "server.crt"),
            "-c", "ssl_key_file=" + Path.Combine(directory, "server.key"),
            "-c", "log_min_messages=warning",
        ], asPostgres: true);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start postgres");
        var server = new PostgresTestServer("127.0.0.1", port, SuperUser, SuperPassword, "postgres", process, directory);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        // Poll pg_isready until the deadline; stop early if the server died (e.g. port taken).
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            var ready = await RunAsync(Path.Combine(BinDirectory, "pg_isready"), ["-q", "-h", "127.0.0.1", "-p", portText, "-t", "2"], null, asPostgres: false).ConfigureAwait(false);
            if (ready.ExitCode == 0)
            {
                return server;
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        await server.StopAsync().ConfigureAwait(false);
        string log = server.Log;
        process.Dispose();
        if (log.Contains("Address already in use", StringComparison.Ordinal))
        {
            return null;
        }

        throw new InvalidOperationException("postgres did not become ready:\n" + log);
    }

    private async Task CreateRolesAsync()
    {
        // Over the local socket (trust), as the superuser; md5 needs password_encryption=md5 while its password is set.
        string sql = $"""
            CREATE ROLE {ScramUser} LOGIN SUPERUSER PASSWORD '{ScramPassword}';
            CREATE ROLE {CleartextUser} LOGIN PASSWORD '{CleartextPassword}';
            CREATE ROLE {TrustUser} LOGIN;
            SET password_encryption = 'md5';
            CREATE ROLE {Md5User} LOGIN PASSWORD '{Md5Password}';
            """;
        await MustRunAsync(Path.Combine(BinDirectory, "psql"), [
            "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", _directory!, "-p", Port.ToString(CultureInfo.InvariantCulture),
            "-U", SuperUser, "-d", "postgres", "-c", sql], asPostgres: true).ConfigureAwait(false);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    /// <summary>A self-signed certificate for 127.0.0.1 / localhost so the server offers TLS.</summary>
    private static void WriteCertificate(string directory)
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(Path.Combine(directory, "server.crt"), certificate.ExportCertificatePem());
        string keyFile = Path.Combine(directory, "server.key");
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());

        // PostgreSQL refuses a key file others can read.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>The server certificate (PEM) of an own server, e.g. as a CA file for verify-full; null otherwise.</summary>
    public string? CertificateFile => _directory is null ? null : Path.Combine(_directory, "server.crt");

    private static bool IsRoot => geteuid() == 0;

    private static ProcessStartInfo StartInfo(string file, string[] arguments, bool asPostgres)
    {
        ProcessStartInfo info;
        if (asPostgres && IsRoot)
        {
            info = new ProcessStartInfo("runuser", ["-u", "postgres", "--", file, .. arguments]);
        }
        else
        {
            info = new ProcessStartInfo(file, arguments);
        }

        info.RedirectStandardError = true;
        info.RedirectStandardOutput = true;
        info.UseShellExecute = false;
        return info;
    }

    private static async Task MustRunAsync(string file, string[] arguments, bool asPostgres)
    {
        var result = await RunAsync(file, arguments, null, asPostgres).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed ({result.ExitCode}):\n{result.Output}");
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Output)> RunAsync(
        string file, string[] arguments, Dictionary<string, string>? environment, bool asPostgres)
    {
        ProcessStartInfo info = StartInfo(file, arguments, asPostgres);
        if (environment is not null)
        {
            foreach (KeyValuePair<string, string> pair in environment)
            {
                info.Environment[pair.Key] = pair.Value;
            }
        }

        using Process process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + file);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        string output = await stdout.ConfigureAwait(false);
        return (process.ExitCode, output, output + await stderr.ConfigureAwait(false));
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>
    /// Immediate shutdown (what pg_ctl stop -m immediate does: SIGQUIT to the postmaster), then waits for
    /// the process, killing it after 20 s. Signalling directly keeps this fast enough for a ProcessExit handler.
    /// </summary>
    private async Task StopAsync()
    {
        if (_process is null || _directory is null)
        {
            return;
        }

        try
        {
            if (_process.HasExited)
            {
                return;
            }

            string pidFile = Path.Combine(_directory, "data", "postmaster.pid");
            if (File.Exists(pidFile)
                && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out int postmaster))
            {
                _ = kill(postmaster, SigQuit);
            }
            else
            {
                _process.Kill(entireProcessTree: true);
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>Stops an own server and deletes its directory; nothing for an external one.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_process is null || Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync().ConfigureAwait(false);
        _process.Dispose();
        if (_directory is not null)
        {
            TryDelete(_directory);
        }
    }

    /// <summary>
    /// Deletes directories of earlier runs whose process was killed before it could clean up: no
    /// postmaster.pid (no server running there) and untouched for 30 minutes.
    /// </summary>
    private static void SweepStaleDirectories()
    {
        try
        {
            foreach (string directory in Directory.EnumerateDirectories(Path.GetTempPath(), "edge-pg-*"))
            {
                if (!File.Exists(Path.Combine(directory, "data", "postmaster.pid"))
                    && Directory.GetLastWriteTimeUtc(directory) < DateTime.UtcNow.AddMinutes(-30))
                {
                    TryDelete(directory);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private const int SigQuit = 3;

    [DllImport("libc")]
    private static extern uint geteuid();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}

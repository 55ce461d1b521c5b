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
/// A real MariaDB server for tests: the one named by EDGE_TEST_MYSQL_HOST / _PORT / _USER / _PASSWORD
/// (and optionally _DATABASE), or else one this class starts itself (mariadb-install-db into a temp
/// dir, mariadbd on a free loopback port, real grants and passwords, TLS with a self-signed
/// certificate). One server per test assembly run: <see cref="GetAsync"/> starts it on first use and
/// it is stopped (and its directory deleted) when the test process exits.
/// </summary>
public sealed class MariaDbTestServer : IAsyncDisposable
{
    /// <summary>A mysql_native_password user with all privileges.</summary>
    public const string DefaultUser = "edge";
    public const string DefaultPassword = "edge-Pa55";

    /// <summary>A second user without a password (own server only).</summary>
    public const string EmptyPasswordUser = "edge_nopw";

    private const string DefaultDatabase = "edgetest";

    private static readonly SemaphoreSlim StartLock = new(1, 1);
    private static MariaDbTestServer? _shared;

    private readonly Process? _process;
    private readonly string? _directory;
    private readonly StringBuilder _log = new();

    private MariaDbTestServer(string host, int port, string user, string password, string database, Process? process, string? directory, bool tls)
    {
        Host = host;
        Port = port;
        User = user;
        Password = password;
        Database = database;
        _process = process;
        _directory = directory;
        HasTls = tls;
    }

    public string Host { get; }

    public int Port { get; }

    public string User { get; }

    public string Password { get; }

    /// <summary>A database that exists and the user may create tables in.</summary>
    public string Database { get; }

    /// <summary>True when this class started the server (so extra users like <see cref="EmptyPasswordUser"/> exist).</summary>
    public bool IsOwned => _process is not null;

    /// <summary>True when the server accepts TLS (always for an owned server).</summary>
    public bool HasTls { get; }

    /// <summary>The PEM certificate the owned server presents (self-signed, for 127.0.0.1 and localhost); null for an external server.</summary>
    public string? CertificatePath => _directory is null ? null : Path.Combine(_directory, "server-cert.pem");

    /// <summary>The server's stderr so far (owned server only), for failure messages.</summary>
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

    /// <summary>A MySqlConnector connection string for the default user.</summary>
    public string ConnectionString(string? database = null) =>
        $"Server={Host};Port={Port};User ID={User};Password={Password};Database={database ?? Database};SslMode=None;Pooling=false;AllowPublicKeyRetrieval=true";

    /// <summary>The shared server of this test run, started on first call.</summary>
    public static async Task<MariaDbTestServer> GetAsync()
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
                MariaDbTestServer server = FromEnvironment() ?? await StartOwnAsync().ConfigureAwait(false);
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

    private static MariaDbTestServer? FromEnvironment()
    {
        string? host = Environment.GetEnvironmentVariable("EDGE_TEST_MYSQL_HOST");
        if (string.IsNullOrEmpty(host))
        {
            return null;
        }

        int port = int.Parse(Environment.GetEnvironmentVariable("EDGE_TEST_MYSQL_PORT") is { Length: > 0 } p ? p : "3306", CultureInfo.InvariantCulture);
        string user = Environment.GetEnvironmentVariable("EDGE_TEST_MYSQL_USER") is { Length: > 0 } u ? u : "root";
        string password = Environment.GetEnvironmentVariable("EDGE_TEST_MYSQL_PASSWORD") ?? "";
        string database = Environment.GetEnvironmentVariable("EDGE_TEST_MYSQL_DATABASE") is { Length: > 0 } d ? d : DefaultDatabase;
        bool tls = Environment.GetEnvironmentVariable("EDGE_TEST_MYSQL_TLS") == "1";
        return new MariaDbTestServer(host, port, user, password, database, null, null, tls);
    }

    private static async Task<MariaDbTestServer> StartOwnAsync()
    {
        DeleteStaleDirectories();
        string directory = Path.Combine(Path.GetTempPath(), "edge-mariadb-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        try
        {
            bool root = geteuid() == 0;
            string dataDir = Path.Combine(directory, "data");
            string osUser = root ? "root" : Environment.UserName;
            var install = await RunToEndAsync("mariadb-install-db", [
                "--no-defaults", "--auth-root-authentication-method=normal", "--skip-test-db",
                "--datadir=" + dataDir, "--user=" + osUser]).ConfigureAwait(false);
            if (install.ExitCode != 0)
            {
                throw new InvalidOperationException("mariadb-install-db failed (install mariadb-server?):\n" + install.Output);
            }

            WriteCertificate(directory);
            string initFile = Path.Combine(directory, "init.sql");
            await File.WriteAllTextAsync(initFile, $"""
                CREATE USER '{DefaultUser}'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('{DefaultPassword}');
                GRANT ALL PRIVILEGES ON *.* TO '{DefaultUser}'@'%' WITH GRANT OPTION;
                CREATE USER '{EmptyPasswordUser}'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
                GRANT ALL PRIVILEGES ON *.* TO '{EmptyPasswordUser}'@'%';
                CREATE DATABASE {DefaultDatabase} CHARACTER SET utf8mb4;
                """).ConfigureAwait(false);

            // A free port can be taken between probing and binding: try a few.
            for (int attempt = 1; ; attempt++)
            {
                int port = FreePort();
                MariaDbTestServer? server = await TryStartAsync(directory, dataDir, osUser, initFile, port).ConfigureAwait(false);
                if (server is not null)
                {
                    return server;
                }

                if (attempt == 3)
                {
                    throw new InvalidOperationException("mariadbd did not start in 3 attempts; see " + directory);
                }
            }
        }
        catch
        {
            TryDelete(directory);
            throw;
        }
    }

    private static async Task<MariaDbTestServer?> TryStartAsync(string directory, string dataDir, string osUser, string initFile, int port)
    {
        // A watchdog shell runs the server and kills it when this test process is gone, even when the test host
        // is killed before exit handlers run (which happens after a test run and on hang timeouts).
        const string Watchdog = """
            parent=$1; directory=$2; shift 2
            "$@" & child=$!
            trap 'kill -9 $child 2>/dev/null' EXIT INT TERM
            while kill -0 $child 2>/dev/null; do
              if ! kill -0 "$parent" 2>/dev/null; then kill -9 $child; wait $child; rm -rf "$directory"; exit 0; fi
              sleep 1
            done
            wait $child
            """;
        var info = new ProcessStartInfo("/bin/sh", [
            "-c", Watchdog, "mariadb-watchdog", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), directory,
            "mariadbd",
            "--no-defaults",
            "--datadir=" + dataDir,
            "--port=" + port.ToString(CultureInfo.InvariantCulture),
            "--bind-address=127.0.0.1",
            "--socket=" + Path.Combine(directory, "sock"),
            "--pid-file=" + Path.Combine(directory, "mariadbd.pid"),
            "--user=" + osUser,
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--max-connections=500",
            "--innodb-buffer-pool-size=64M",
            "--innodb-log-file-size=8M",
            "--skip-log-bin",
            "--innodb-flush-log-at-trx-commit=0",
            "--ssl-cert=" + Path.Combine(directory, "server-cert.pem"),
            "--ssl-key=" + Path.Combine(directory, "server-key.pem"),
            "--init-file=" + initFile,
        ])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start mariadbd");
        var server = new MariaDbTestServer("127.0.0.1", port, DefaultUser, DefaultPassword, DefaultDatabase, process, directory, tls: true);
        var ready = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data, ready);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data, ready);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => ready.TrySetResult(false);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        // mariadbd prints "ready for connections" after the init file ran and it accepts clients.
        Task finished = await Task.WhenAny(ready.Task, Task.Delay(TimeSpan.FromSeconds(60))).ConfigureAwait(false);
        if (finished == ready.Task && ready.Task.Result && await AcceptsConnectionsAsync(port).ConfigureAwait(false))
        {
            return server;
        }

        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }

        string log = server.Log;
        process.Dispose();
        if (log.Contains("Address already in use", StringComparison.Ordinal))
        {
            return null;
        }

        throw new InvalidOperationException("mariadbd did not become ready:\n" + log);
    }

    private void OnLine(string? line, TaskCompletionSource<bool> ready)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }

        if (line.Contains("ready for connections", StringComparison.Ordinal))
        {
            ready.TrySetResult(true);
        }
    }

    /// <summary>True once a TCP client gets the server's greeting (a packet with protocol version 10).</summary>
    private static async Task<bool> AcceptsConnectionsAsync(int port)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token).ConfigureAwait(false);
                byte[] header = new byte[5];
                int read = 0;
                while (read < header.Length)
                {
                    int n = await socket.ReceiveAsync(header.AsMemory(read), cts.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break;
                    }

                    read += n;
                }

                if (read == header.Length && header[4] == 10)
                {
                    return true;
                }
            }
            catch (SocketException)
            {
            }
            catch (OperationCanceledException)
            {
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        return false;
    }

    /// <summary>A self-signed RSA certificate so the server offers TLS (Edge does not verify it in prefer/require modes).</summary>
    private static void WriteCertificate(string directory)
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(Path.Combine(directory, "server-cert.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "server-key.pem"), key.ExportPkcs8PrivateKeyPem());
    }

    private static async Task<(int ExitCode, string Output)> RunToEndAsync(string file, string[] arguments)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using Process process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + file);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        return (process.ExitCode, await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>
    /// Stops an owned server and deletes its directory. The data is thrown away, so the server is killed
    /// rather than shut down: the test host gives exit handlers little time.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_process is null)
        {
            return;
        }

        try
        {
            // The server first (by its pid file): killing the watchdog shell first would orphan it.
            string pidFile = Path.Combine(_directory!, "mariadbd.pid");
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int serverPid))
            {
                using Process server = Process.GetProcessById(serverPid);
                server.Kill();
                server.WaitForExit(10_000);
            }

            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException or ArgumentException or IOException or System.ComponentModel.Win32Exception)
        {
            // Already gone, or stuck: the next run's stale-directory sweep removes what is left.
        }

        _process.Dispose();
        if (_directory is not null)
        {
            TryDelete(_directory);
        }
    }

    /// <summary>Deletes directories of earlier runs whose server no longer runs (a test host killed before its exit handler finished).</summary>
    private static void DeleteStaleDirectories()
    {
        foreach (string directory in Directory.EnumerateDirectories(Path.GetTempPath(), "edge-mariadb-*"))
        {
            string pidFile = Path.Combine(directory, "mariadbd.pid");
            bool running = File.Exists(pidFile)
                && int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));
            if (!running && Directory.GetLastWriteTimeUtc(directory) < DateTime.UtcNow.AddMinutes(-1))
            {
                TryDelete(directory);
            }
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

    [DllImport("libc")]
    private static extern uint geteuid();
}

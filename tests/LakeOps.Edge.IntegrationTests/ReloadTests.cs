using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Tests.Shared;
using Npgsql;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>
/// SIGHUP hot reload against the AOT binary and a real PostgreSQL: pgbench through 100 reloads (weights, a cluster
/// and a listener coming and going), a broken file, a certificate swap, a listener move, a removed cluster
/// draining, and the log level.
/// </summary>
public sealed partial class ReloadTests
{
    private const string Database = "edge_reload";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task PgbenchSeesNoFailureThroughHundredReloads()
    {
        PostgresTestServer postgres = await PreparedPostgresAsync();
        int extraPort = EdgeProcess.FreePort();
        await using EdgeProcess edge = await EdgeProcess.StartAsync(Config(postgres, weights: (3, 1), extraPort: null));

        long history = await HistoryRowsAsync(postgres);

        // -C: every transaction is a new session, so each one meets the weights, the listener and the clusters of the moment.
        Task<Tools.Result> bench = Tools.RunAsync(
            "pgbench",
            ["-n", "-C", "-c", "4", "-j", "2", "-T", "25", "-h", "127.0.0.1", "-p", edge.Port.ToString(CultureInfo.InvariantCulture), "-U", "edge", "bench"],
            timeoutSeconds: 90);

        // Reloads start once pgbench has run transactions through Edge.
        await WaitUntilAsync(
            async () => await HistoryRowsAsync(postgres) > history,
            "pgbench's first transactions through Edge");
        for (int reload = 1; reload <= 100; reload++)
        {
            bool extra = reload % 2 == 1;
            (int, int) weights = reload % 4 < 2 ? (1, 3) : (3, 1);
            await ReloadAsync(edge, Config(postgres, weights, extra ? extraPort : null), expectApplied: true);
            if (extra)
            {
                // The cluster and the listener this reload added serve at once.
                Assert.Equal(1, await ScalarAsync(extraPort, "extra", "select 1"));
            }
            else
            {
                await AssertRefusedAsync(extraPort);
            }
        }

        Assert.False(bench.IsCompleted, "pgbench ended before the 100 reloads did; the reloads did not run under load");
        Tools.Result result = await bench;
        Assert.True(result.ExitCode == 0, result.All);
        Match failed = FailedRegex().Match(result.StdOut);
        Assert.True(failed.Success, result.StdOut);
        Assert.Equal("0", failed.Groups[1].Value);
        Match processed = ProcessedRegex().Match(result.StdOut);
        Assert.True(processed.Success && long.Parse(processed.Groups[1].Value, CultureInfo.InvariantCulture) > 100, result.StdOut);
        Assert.Contains("revision 101 (sha256 ", edge.Log, StringComparison.Ordinal);
        Assert.DoesNotContain(" fail [", edge.Log, StringComparison.Ordinal);
        Assert.DoesNotContain(" warn [", edge.Log, StringComparison.Ordinal);
        Assert.Equal(50, Occurrences(edge.Log, "clusters started: pg_extra"));
        Assert.Equal(50, Occurrences(edge.Log, "clusters removed: pg_extra"));
    }

    [Fact]
    public async Task BrokenFileKeepsServingAndTheNextGoodReloadApplies()
    {
        PostgresTestServer postgres = await PreparedPostgresAsync();
        int extraPort = EdgeProcess.FreePort();
        string good = Config(postgres, (3, 1), extraPort: null);
        await using EdgeProcess edge = await EdgeProcess.StartAsync(good);
        string configPath = Path.Combine(edge.Directory, "edge.yaml");
        string startHash = HashOf(edge.Log, "revision 1 (sha256 ");

        // Two errors, each reported with its YAML path; nothing changes.
        string broken = good.Replace("clusters: [pg_a, pg_b]", "clusters: [pg_a, pg_nowhere]", StringComparison.Ordinal)
            .Replace("max_size: 8", "max_size: -1", StringComparison.Ordinal);
        string failure = await ReloadAsync(edge, broken, expectApplied: false);
        Assert.Contains("revision 1 (sha256 " + startHash + ") stays live", failure, StringComparison.Ordinal);
        Assert.Contains("groups.bench.clusters", edge.Log, StringComparison.Ordinal);
        Assert.Contains("clusters.pg_a.pool.max_size", edge.Log, StringComparison.Ordinal);
        Assert.Equal(1, await ScalarAsync(edge.Port, "bench", "select 1"));

        // `validate` runs the same checks on the same file.
        Tools.Result validate = await Tools.RunAsync(EdgeProcess.BinaryPath, ["validate", "--config", configPath]);
        Assert.Equal(1, validate.ExitCode);
        Assert.Contains("groups.bench.clusters", validate.StdErr, StringComparison.Ordinal);
        Assert.Contains("clusters.pg_a.pool.max_size", validate.StdErr, StringComparison.Ordinal);

        string applied = await ReloadAsync(edge, Config(postgres, (1, 3), extraPort), expectApplied: true);
        Assert.Contains("revision 2 (sha256 ", applied, StringComparison.Ordinal);
        Assert.Contains("clusters started: pg_extra", applied, StringComparison.Ordinal);
        Assert.Contains("listeners started: extra", applied, StringComparison.Ordinal);
        Assert.Equal(1, await ScalarAsync(extraPort, "extra", "select 1"));

        validate = await Tools.RunAsync(EdgeProcess.BinaryPath, ["validate", "--config", configPath]);
        Assert.Equal(0, validate.ExitCode);
        Assert.Contains("sha256 " + HashOf(applied, "revision 2 (sha256 "), validate.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewConnectionsGetTheNewCertificateAndOpenOnesKeepTheirs()
    {
        PostgresTestServer postgres = await PreparedPostgresAsync();
        string directory = Directory.CreateTempSubdirectory("edge-reload-tls-").FullName;
        try
        {
            WriteCertificate(directory, "edge-first");
            string config = Config(postgres, (3, 1), extraPort: null).Replace(
                "    auth: trust\n",
                $"    auth: trust\n    tls:\n      certificate: {directory}/cert.pem\n      key: {directory}/key.pem\n",
                StringComparison.Ordinal);
            await using EdgeProcess edge = await EdgeProcess.StartAsync(config);

            (NpgsqlConnection first, Func<string?> firstSubject) = await OpenTlsAsync(edge.Port);
            await using (first)
            {
                Assert.Equal("CN=edge-first", firstSubject());

                WriteCertificate(directory, "edge-second");
                string applied = await ReloadAsync(edge, config, expectApplied: true);
                Assert.Contains("no listener or cluster instance changed", applied, StringComparison.Ordinal);
                Assert.Contains("listener 'pg': new connections get certificate CN=edge-second", edge.Log, StringComparison.Ordinal);

                (NpgsqlConnection second, Func<string?> secondSubject) = await OpenTlsAsync(edge.Port);
                await using (second)
                {
                    Assert.Equal("CN=edge-second", secondSubject());
                }

                Assert.Equal("CN=edge-second", await OpenSslSubjectAsync(edge.Port));

                // The connection made before the swap still works over the session it negotiated.
                await using var command = new NpgsqlCommand("select 41 + 1", first);
                Assert.Equal(42, Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture));
            }

            // A certificate file that no longer parses keeps the running certificate.
            await File.WriteAllTextAsync(Path.Combine(directory, "cert.pem"), "not a certificate");
            await ReloadAsync(edge, config, expectApplied: false);
            Assert.Contains("listeners.pg.tls.certificate", edge.Log, StringComparison.Ordinal);
            Assert.Equal("CN=edge-second", await OpenSslSubjectAsync(edge.Port));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task ChangedListenerAddressRebinds()
    {
        PostgresTestServer postgres = await PreparedPostgresAsync();
        int before = EdgeProcess.FreePort();
        int after = EdgeProcess.FreePort();
        await using EdgeProcess edge = await EdgeProcess.StartAsync(Config(postgres, (3, 1), before));
        Assert.Equal(1, await ScalarAsync(before, "extra", "select 1"));

        string applied = await ReloadAsync(edge, Config(postgres, (3, 1), after), expectApplied: true);

        Assert.Contains("listeners replaced: extra", applied, StringComparison.Ordinal);
        Assert.Equal(1, await ScalarAsync(after, "extra", "select 1"));
        await AssertRefusedAsync(before);
        Assert.Equal(1, await ScalarAsync(edge.Port, "bench", "select 1"));
    }

    [Fact]
    public async Task RemovedClusterDrainsItsRunningQuery()
    {
        PostgresTestServer postgres = await PreparedPostgresAsync();
        int extraPort = EdgeProcess.FreePort();
        await using EdgeProcess edge = await EdgeProcess.StartAsync(Config(postgres, (3, 1), extraPort));

        await using var connection = new NpgsqlConnection(ConnectionString(edge.Port, "extra"));
        await connection.OpenAsync();
        await using var sleep = new NpgsqlCommand("select 7 /* reload drain */ from pg_sleep(2)", connection);
        Task<object?> running = sleep.ExecuteScalarAsync();
        await WaitUntilAsync(
            async () => await postgres.PsqlAsync("select count(*) from pg_stat_activity where query like 'select 7 /* reload drain */%' and state = 'active'") == "1",
            "the sleep to run on the server");

        // The cluster (and its group and listener) go away while the statement runs.
        string applied = await ReloadAsync(edge, Config(postgres, (3, 1), extraPort: null), expectApplied: true);
        Assert.Contains("clusters removed: pg_extra", applied, StringComparison.Ordinal);
        Assert.DoesNotContain("cluster 'pg_extra' old instance", edge.Log, StringComparison.Ordinal);

        Assert.False(running.IsCompleted);
        Assert.Equal(7, Convert.ToInt32(await running.WaitAsync(Deadline), CultureInfo.InvariantCulture));
        await WaitUntilAsync(() => Task.FromResult(edge.Log.Contains("cluster 'pg_extra' old instance drained in", StringComparison.Ordinal)), "the drain to finish");

        // New sessions no longer find the group.
        var refused = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(edge.Port, "extra", "select 1"));
        Assert.Equal("3D000", refused.SqlState);
    }

    [Fact]
    public async Task LogLevelFollowsTheReloadedConfig()
    {
        PostgresTestServer postgres = await PreparedPostgresAsync();
        string config = Config(postgres, (3, 1), extraPort: null);
        await using EdgeProcess edge = await EdgeProcess.StartAsync(config);

        string quiet = config.Replace("  shutdown_timeout: 10s", "  shutdown_timeout: 10s\n  log_level: error", StringComparison.Ordinal);
        await SignalAndWaitAsync(edge, quiet, "[1203 LogLevelChanged] log level info -> error");
        int infoLines = Occurrences(edge.Log, " info [");

        // At level error a reload's info lines are gone, its errors are not.
        await SignalAndWaitAsync(edge, quiet.Replace("max_size: 8", "max_size: 0", StringComparison.Ordinal), "[1012 ConfigReloadFailed]");
        Assert.Equal(infoLines, Occurrences(edge.Log, " info ["));

        await SignalAndWaitAsync(edge, config, "[1203 LogLevelChanged] log level error -> info");
        await WaitUntilAsync(() => Task.FromResult(edge.Log.Contains("revision 3 (sha256 ", StringComparison.Ordinal)), "the info line of the reload");
    }

    private static string Config(PostgresTestServer postgres, (int A, int B) weights, int? extraPort)
    {
        string cluster(string name) => $$"""
              {{name}}:
                engine: postgres
                postgres:
                  host: {{postgres.Host}}
                  port: {{postgres.Port}}
                  user: {{postgres.User}}
                  password: "{{postgres.Password}}"
                  database: {{Database}}
                pool:
                  max_size: 8
                  connect_timeout: 20s

            """;
        string extraListener = extraPort is { } port ? $"""
              extra:
                protocol: postgres
                address: 127.0.0.1:{port}
                auth: trust

            """ : "";
        string extraGroup = extraPort is null ? "" : """
              extra:
                clusters: [pg_extra]

            """;
        return $$"""
            server:
              shutdown_timeout: 10s
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:{PORT}
                auth: trust
            {{extraListener}}clusters:
            {{cluster("pg_a")}}{{cluster("pg_b")}}{{(extraPort is null ? "" : cluster("pg_extra"))}}groups:
              bench:
                clusters: [pg_a, pg_b]
                balancing: weighted
                weights: { pg_a: {{weights.A}}, pg_b: {{weights.B}} }
            {{extraGroup}}routing:
              default_group: bench
              fallback_to_default: false
            """;
    }

    private static async Task<PostgresTestServer> PreparedPostgresAsync()
    {
        PostgresTestServer postgres = await PostgresTestServer.GetAsync();
        await InitLock.WaitAsync();
        try
        {
            if (await postgres.PsqlAsync($"select count(*) from pg_database where datname = '{Database}'") == "0")
            {
                await postgres.PsqlAsync($"create database {Database}");
                Tools.Result init = await Tools.RunAsync(
                    "pgbench",
                    ["-i", "-s", "1", "-q", "-h", postgres.Host, "-p", postgres.Port.ToString(CultureInfo.InvariantCulture), "-U", postgres.User, Database],
                    new Dictionary<string, string> { ["PGPASSWORD"] = postgres.Password, ["PGSSLMODE"] = "disable" });
                Assert.True(init.ExitCode == 0, init.All);
            }
        }
        finally
        {
            InitLock.Release();
        }

        return postgres;
    }

    private static readonly SemaphoreSlim InitLock = new(1, 1);

    /// <summary>Rows pgbench's tpcb-like transactions inserted so far, read directly on the server.</summary>
    private static async Task<long> HistoryRowsAsync(PostgresTestServer postgres)
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString(database: Database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from pgbench_history", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>Rewrites the config, sends SIGHUP and returns the reload's outcome line (1011 applied, 1012 kept).</summary>
    private static async Task<string> ReloadAsync(EdgeProcess edge, string configYaml, bool expectApplied)
    {
        int applied = Occurrences(edge.Log, "[1011 ConfigReloaded]");
        int failed = Occurrences(edge.Log, "[1012 ConfigReloadFailed]");
        await WriteConfigAsync(edge, configYaml);
        Assert.Equal(0, Kill(edge.ProcessId, 1));
        DateTime deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            string log = edge.Log;
            if (Occurrences(log, "[1011 ConfigReloaded]") > applied || Occurrences(log, "[1012 ConfigReloadFailed]") > failed)
            {
                bool wasApplied = Occurrences(log, "[1011 ConfigReloaded]") > applied;
                Assert.True(wasApplied == expectApplied, $"reload {(wasApplied ? "applied" : "failed")} unexpectedly:\n{Tail(log)}");
                return LastLine(log, wasApplied ? "[1011 ConfigReloaded]" : "[1012 ConfigReloadFailed]");
            }

            Assert.True(DateTime.UtcNow < deadline && !edge.HasExited, "no reload outcome logged:\n" + Tail(log));
            await Task.Delay(5);
        }
    }

    private static async Task SignalAndWaitAsync(EdgeProcess edge, string configYaml, string line)
    {
        int before = Occurrences(edge.Log, line);
        await WriteConfigAsync(edge, configYaml);
        Assert.Equal(0, Kill(edge.ProcessId, 1));
        await WaitUntilAsync(() => Task.FromResult(Occurrences(edge.Log, line) > before), line);
    }

    private static Task WriteConfigAsync(EdgeProcess edge, string configYaml) =>
        File.WriteAllTextAsync(
            Path.Combine(edge.Directory, "edge.yaml"),
            configYaml.Replace("{PORT}", edge.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal).Replace("{DIR}", edge.Directory, StringComparison.Ordinal));

    private static string ConnectionString(int port, string database) =>
        $"Host=127.0.0.1;Port={port};Username=edge;Database={database};Pooling=false;Timeout=15;Command Timeout=60;SSL Mode=Disable";

    private static async Task<int> ScalarAsync(int port, string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(port, database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>A retired listener closes its socket right after the reload line: wait (bounded) until connecting is refused.</summary>
    private static Task AssertRefusedAsync(int port) => WaitUntilAsync(
        async () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync("127.0.0.1", port);
                return false;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
            {
                return true;
            }
        },
        $"port {port} to refuse connections");

    private static async Task<(NpgsqlConnection Connection, Func<string?> Subject)> OpenTlsAsync(int port)
    {
        string? subject = null;
        var builder = new NpgsqlDataSourceBuilder($"Host=127.0.0.1;Port={port};Username=edge;Database=bench;Pooling=false;Timeout=15;SSL Mode=Require");
        builder.UseSslClientAuthenticationOptionsCallback(options => options.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            subject = certificate?.Subject;
            return true;
        });
        NpgsqlDataSource source = builder.Build();
        NpgsqlConnection connection = await source.OpenConnectionAsync();
        return (connection, () => subject);
    }

    /// <summary>The subject openssl s_client sees on a new connection (STARTTLS postgres).</summary>
    private static async Task<string> OpenSslSubjectAsync(int port)
    {
        Tools.Result result = await Tools.RunAsync("openssl", ["s_client", "-starttls", "postgres", "-connect", $"127.0.0.1:{port}"], stdin: "", timeoutSeconds: 30);
        Match subject = SubjectRegex().Match(result.StdOut);
        Assert.True(subject.Success, result.All);
        return "CN=" + subject.Groups[1].Value.Trim();
    }

    /// <summary>A self-signed certificate and its key as PEM files (cert.pem, key.pem), replacing what is there.</summary>
    private static void WriteCertificate(string directory, string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        // Key first: a reload never pairs the new certificate with the old key (the test reloads after both).
        File.WriteAllText(Path.Combine(directory, "key.pem"), key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(directory, "cert.pem"), certificate.ExportCertificatePem());
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Deadline, $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }

    private static string HashOf(string text, string prefix)
    {
        int at = text.LastIndexOf(prefix, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{prefix}' not found in:\n{Tail(text)}");
        return text.Substring(at + prefix.Length, 12);
    }

    private static string LastLine(string log, string marker)
    {
        int at = log.LastIndexOf(marker, StringComparison.Ordinal);
        int end = log.IndexOf('\n', at);
        return end < 0 ? log[at..] : log[at..end];
    }

    private static string Tail(string log) => log.Length > 6000 ? log[^6000..] : log;

    private static int Occurrences(string text, string value)
    {
        int count = 0;
        for (int at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"number of failed transactions: (\d+)")]
    private static partial Regex FailedRegex();

    [GeneratedRegex(@"number of transactions actually processed: (\d+)")]
    private static partial Regex ProcessedRegex();

    [GeneratedRegex(@"subject=.*CN\s*=\s*([^,\n]+)")]
    private static partial Regex SubjectRegex();
}

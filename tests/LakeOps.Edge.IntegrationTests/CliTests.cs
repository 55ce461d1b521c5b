using LakeOps.Edge.IntegrationTests.Support;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>The binary's verbs: version, validate, hash-password.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task Version_prints_the_name_and_version()
    {
        Tools.Result result = await Tools.RunAsync(EdgeProcess.BinaryPath, ["version"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^lakeops-edge \d+\.\d+\.\d+", result.StdOut);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--md5 alice")]
    [InlineData("--mysql-native")]
    public async Task Hash_password_prints_a_hash_the_config_accepts(string optionText)
    {
        string[] options = optionText.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Tools.Result result = await Tools.RunAsync(EdgeProcess.BinaryPath, ["hash-password", .. options], stdin: "s3cret\n");
        Assert.True(result.ExitCode == 0, result.All);
        string hash = result.StdOut.Trim();

        bool valid = options switch
        {
            [] => LakeOps.Edge.Core.Security.ScramVerifier.TryParse(hash, out var verifier) && verifier!.VerifyPassword("s3cret"),
            ["--md5", _] => hash == LakeOps.Edge.Core.Security.Md5Password.Hash("alice", "s3cret"),
            _ => hash == LakeOps.Edge.Core.Security.MySqlNativePassword.Hash("s3cret"),
        };
        Assert.True(valid, hash);
    }

    [Fact]
    public async Task Validate_accepts_the_default_config()
    {
        Tools.Result result = await Tools.RunAsync(EdgeProcess.BinaryPath, ["validate", "--config", Path.Combine(EdgeProcess.RepositoryRoot, "configs", "edge.yaml")]);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("OK", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_prints_every_error_with_its_yaml_path_and_exits_1()
    {
        string file = Path.Combine(Path.GetTempPath(), $"edge-bad-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, """
            listeners:
              public:
                protocol: postgres
                address: 0.0.0.0:15432
                auth: trust
                limits:
                  max_connections: -5
            clusters:
              duck:
                engine: notanengine
            groups:
              local:
                clusters: [duck, ghost]
            routing:
              default_group: nowhere
            """);
        try
        {
            Tools.Result result = await Tools.RunAsync(EdgeProcess.BinaryPath, ["validate", "--config", file]);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("listeners.public.auth", result.StdErr, StringComparison.Ordinal);
            Assert.Contains("listeners.public.limits.max_connections", result.StdErr, StringComparison.Ordinal);
            Assert.Contains("clusters.duck.engine", result.StdErr, StringComparison.Ordinal);
            Assert.Contains("groups.local.clusters[1]", result.StdErr, StringComparison.Ordinal);
            Assert.Contains("routing.default_group", result.StdErr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Run_with_a_bad_config_fails_hard()
    {
        string file = Path.Combine(Path.GetTempPath(), $"edge-bad-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, "listeners: {}\n");
        try
        {
            Tools.Result result = await Tools.RunAsync(EdgeProcess.BinaryPath, ["run", "--config", file]);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("error", result.StdErr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Environment_variables_fill_config_values()
    {
        string database = Path.Combine(Path.GetTempPath(), $"edge-env-{Guid.NewGuid():N}.duckdb");
        try
        {
            await using EdgeProcess edge = await EdgeProcess.StartAsync(
                Configs.Trust.Replace("path: \":memory:\"", "path: \"${EDGE_TEST_DB:-:memory:}\"", StringComparison.Ordinal),
                new Dictionary<string, string> { ["EDGE_TEST_DB"] = database });
            Tools.Result result = await Tools.PsqlAsync(edge, "-A", "-t", "-c", "select database_name from duckdb_databases() where database_name like 'edge-env-%'");
            Assert.True(result.ExitCode == 0, result.All);
            Assert.StartsWith("edge-env-", result.StdOut.Trim(), StringComparison.Ordinal);
        }
        finally
        {
            // Edge has stopped here (await using): its database file goes with the test.
            File.Delete(database);
            File.Delete(database + ".wal");
        }
    }

    [Fact]
    public async Task A_busy_port_or_a_locked_database_file_is_a_clear_startup_error()
    {
        string database = Path.Combine(Path.GetTempPath(), $"edge-lock-{Guid.NewGuid():N}.duckdb");
        string fileConfig = Configs.Trust.Replace("path: \":memory:\"", $"path: \"{database}\"", StringComparison.Ordinal);
        await using EdgeProcess first = await EdgeProcess.StartAsync(fileConfig);

        // Same address as the running process: the listener cannot bind.
        string busyPort = Path.Combine(first.Directory, "busy.yaml");
        await File.WriteAllTextAsync(busyPort, Configs.Trust.Replace("{PORT}", first.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Tools.Result port = await Tools.RunAsync(EdgeProcess.BinaryPath, ["run", "--config", busyPort]);
        Assert.Equal(1, port.ExitCode);
        Assert.Contains("cannot start listener", port.StdErr, StringComparison.Ordinal);

        // Same DuckDB file as the running process: DuckDB refuses the second writer.
        string locked = Path.Combine(first.Directory, "locked.yaml");
        await File.WriteAllTextAsync(locked, fileConfig.Replace("{PORT}", EdgeProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Tools.Result file = await Tools.RunAsync(EdgeProcess.BinaryPath, ["run", "--config", locked]);
        Assert.Equal(1, file.ExitCode);
        Assert.Contains("cannot start the clusters", file.StdErr, StringComparison.Ordinal);
        File.Delete(database);
    }

    [Fact]
    public async Task Engine_sessions_start_in_utc_whatever_the_host_zone()
    {
        await using EdgeProcess edge = await EdgeProcess.StartAsync(Configs.Trust, new Dictionary<string, string> { ["TZ"] = "Asia/Tokyo" });
        Tools.Result result = await Tools.PsqlAsync(edge, "-A", "-t", "-c", "select (timestamptz '2024-07-01 12:00:00+00')::varchar");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.StartsWith("2024-07-01 12:00:00", result.StdOut.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_accepts_the_routing_example()
    {
        Tools.Result result = await Tools.RunAsync(EdgeProcess.BinaryPath, ["validate", "--config", Path.Combine(EdgeProcess.RepositoryRoot, "configs", "examples", "routing.yaml")]);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("9 route(s)", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_prints_the_rule_conditions_group_tables_kind_and_fingerprint()
    {
        string config = Path.Combine(EdgeProcess.RepositoryRoot, "configs", "examples", "routing.yaml");

        Tools.Result routed = await Tools.RunAsync(EdgeProcess.BinaryPath,
            ["explain", "--config", config, "--protocol", "postgres", "--user", "alice", "--tags", "etl", "INSERT INTO Sales.Orders SELECT * FROM staging.orders WHERE id IN (1, 2)"]);
        Assert.True(routed.ExitCode == 0, routed.All);
        Assert.Contains("rule:        etl-writes-to-batch", routed.StdOut, StringComparison.Ordinal);
        Assert.Contains("conditions:  tags in [etl]; statement in [insert, update, delete, merge]", routed.StdOut, StringComparison.Ordinal);
        Assert.Contains("group:       batch", routed.StdOut, StringComparison.Ordinal);
        Assert.Contains("statement:   insert", routed.StdOut, StringComparison.Ordinal);
        Assert.Contains("tables:      sales.orders, staging.orders", routed.StdOut, StringComparison.Ordinal);
        Assert.Matches("fingerprint: [0-9a-f]{16}", routed.StdOut);

        // The fingerprint ignores literal values and IN-list lengths.
        Tools.Result sameShape = await Tools.RunAsync(EdgeProcess.BinaryPath,
            ["explain", "--config", config, "--user", "alice", "--tags", "etl", "insert into Sales.Orders select * from staging.orders where id in (7)"]);
        Assert.Equal(FingerprintLine(routed.StdOut), FingerprintLine(sameShape.StdOut));

        Tools.Result denied = await Tools.RunAsync(EdgeProcess.BinaryPath, ["explain", "--config", config, "--user", "alice", "DROP TABLE sales.orders"]);
        Assert.True(denied.ExitCode == 0, denied.All);
        Assert.Contains("rule:        no-ddl-for-analysts", denied.StdOut, StringComparison.Ordinal);
        Assert.Contains("denied:      DDL is not allowed", denied.StdOut, StringComparison.Ordinal);

        Tools.Result fallback = await Tools.RunAsync(EdgeProcess.BinaryPath, ["explain", "--config", config, "--protocol", "mysql", "--user", "bob", "SHOW TABLES"]);
        Assert.Contains("rule:        fallback", fallback.StdOut, StringComparison.Ordinal);
        Assert.Contains("group:       interactive", fallback.StdOut, StringComparison.Ordinal);

        Tools.Result usage = await Tools.RunAsync(EdgeProcess.BinaryPath, ["explain", "--config", config]);
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("needs the SQL text", usage.StdErr, StringComparison.Ordinal);
    }

    private static string FingerprintLine(string output) =>
        output.Split('\n').Single(line => line.StartsWith("fingerprint:", StringComparison.Ordinal));
}

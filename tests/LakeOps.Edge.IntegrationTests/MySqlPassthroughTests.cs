using System.Data;
using System.Globalization;
using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Tests.Shared;
using MySqlConnector;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>
/// One Edge process (the AOT binary) whose MySQL front door serves group "maria" (a real MariaDB, pool of at
/// most 4 server connections, so clients share and switch connections) through the same-protocol passthrough,
/// plus group "slow" (same server, 500 ms statement timeout) and group "down" (nobody listens).
/// </summary>
public sealed class MySqlPassthroughFixture : IAsyncLifetime
{
    public MariaDbTestServer MariaDb { get; private set; } = null!;

    public EdgeProcess Edge { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        MariaDb = await MariaDbTestServer.GetAsync();
        string cluster(string host, int port) => $"""
                engine: mysql
                mysql:
                  host: {host}
                  port: {port}
                  user: {MariaDb.User}
                  password: "{MariaDb.Password}"
                  database: {MariaDb.Database}
                pool:
                  max_size: 4
                  connect_timeout: 20s
            """;
        string config = $"""
            listeners:
              my:
                protocol: mysql
                address: 127.0.0.1:{"{PORT}"}
                auth: trust
            clusters:
              maria:
            {cluster(MariaDb.Host, MariaDb.Port)}
              down:
            {cluster("127.0.0.1", EdgeProcess.FreePort())}
            groups:
              maria:
                clusters: [maria]
              slow:
                clusters: [maria]
                statement_timeout: 500ms
              down:
                clusters: [down]
            routing:
              default_group: maria
            """;
        Edge = await EdgeProcess.StartAsync(config);
    }

    public async Task DisposeAsync() => await Edge.DisposeAsync();

    public string ConnectionString(string database = "maria", string extra = "") => MySqlConnectionStrings.For(Edge.Port, "edge", database, extra);

    /// <summary>A MySqlConnector connection straight to MariaDB (bypassing Edge).</summary>
    public string DirectConnectionString() => MariaDb.ConnectionString() + ";Connection Timeout=15";

    /// <summary>Runs the mysql command-line client in batch mode through Edge or directly.</summary>
    public Task<Tools.Result> CliAsync(string sql, bool direct = false, string database = "maria")
    {
        string[] target = direct
            ? ["-h", MariaDb.Host, "-P", MariaDb.Port.ToString(CultureInfo.InvariantCulture), "-u", MariaDb.User, "-p" + MariaDb.Password, MariaDb.Database]
            : ["-h", "127.0.0.1", "-P", Edge.Port.ToString(CultureInfo.InvariantCulture), "-u", "edge", database];
        return Tools.RunAsync("mariadb", ["--protocol=tcp", "--batch", "--skip-ssl", .. target, "-e", sql]);
    }
}

[CollectionDefinition(Name)]
public sealed class MySqlPassthroughCollection : ICollectionFixture<MySqlPassthroughFixture>
{
    public const string Name = "mysql-passthrough";
}

[Collection(MySqlPassthroughCollection.Name)]
public sealed class MySqlPassthroughTests(MySqlPassthroughFixture fixture)
{
    private static string NewTable() => "pt_" + Guid.NewGuid().ToString("N")[..10];

    private static async Task<object?> ScalarAsync(MySqlConnection connection, string sql, MySqlTransaction? transaction = null)
    {
        await using var command = new MySqlCommand(sql, connection, transaction);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>A statement interrupted by KILL QUERY: SLEEP() returns 1, other statements fail with 1317.</summary>
    private static async Task AssertInterruptedAsync(Task<object?> running)
    {
        try
        {
            Assert.Equal(1L, Convert.ToInt64(await running, CultureInfo.InvariantCulture));
        }
        catch (MySqlException ex)
        {
            Assert.Equal(MySqlErrorCode.QueryInterrupted, ex.ErrorCode);
        }
    }

    private async Task<MySqlConnection> OpenAsync(string database = "maria")
    {
        var connection = new MySqlConnection(fixture.ConnectionString(database));
        await connection.OpenAsync();
        return connection;
    }

    [Fact]
    public async Task The_mysql_cli_prints_the_same_as_against_the_server()
    {
        string table = NewTable();
        string setup = $"""
            CREATE TABLE {table} (id INT PRIMARY KEY, ti TINYINT, bi BIGINT UNSIGNED, d DECIMAL(12,3), f DOUBLE, v VARCHAR(20), b VARBINARY(4),
              dt DATE, ts DATETIME(6), tm TIME, j JSON, e ENUM('a','b'), n INT);
            INSERT INTO {table} VALUES (1, -5, 18446744073709551615, -123.456, 2.5, 'héllo', X'00FF', '2024-02-29', '2001-02-03 04:05:06.789', '-01:02:03', '{"{"}"a":1{"}"}', 'b', NULL),
              (2, 0, 0, 0, -0.125, '', X'', '1000-01-01', '1970-01-01 00:00:00', '838:59:59', '[]', 'a', 7);
            """;
        Tools.Result created = await fixture.CliAsync(setup);
        Assert.True(created.ExitCode == 0, created.All);
        string queries = $"SELECT * FROM {table} ORDER BY id; SELECT * FROM {table} WHERE id < 0; SELECT NULL, 1 + 1, 'x' AS y; SHOW COLUMNS FROM {table};";
        Tools.Result viaEdge = await fixture.CliAsync(queries);
        Tools.Result direct = await fixture.CliAsync(queries, direct: true);
        Assert.True(viaEdge.ExitCode == 0, viaEdge.All);
        Assert.Equal(direct.StdOut, viaEdge.StdOut);
        Assert.Contains("héllo", viaEdge.StdOut, StringComparison.Ordinal);

        Tools.Result error = await fixture.CliAsync("SELECT * FROM no_such_table_pt");
        Tools.Result directError = await fixture.CliAsync("SELECT * FROM no_such_table_pt", direct: true);
        Assert.Equal(1, error.ExitCode);
        Assert.Equal(directError.StdErr, error.StdErr);
        Assert.Contains("ERROR 1146 (42S02)", error.StdErr, StringComparison.Ordinal);
        await fixture.CliAsync($"DROP TABLE {table}");
    }

    [Fact]
    public async Task MySqlConnector_reads_types_nulls_empty_and_large_results()
    {
        await using MySqlConnection connection = await OpenAsync();
        Assert.Contains("MariaDB", (string?)await ScalarAsync(connection, "SELECT VERSION()"), StringComparison.Ordinal);

        await using (var command = new MySqlCommand("SELECT 1, CAST(2.50 AS DECIMAL(5,2)), 'x', NULL, CAST('2020-01-02' AS DATE), X'0102'", connection))
        await using (MySqlDataReader reader = await command.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal(1L, Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
            Assert.Equal(2.50m, reader.GetDecimal(1));
            Assert.Equal("x", reader.GetString(2));
            Assert.True(reader.IsDBNull(3));
            Assert.Equal(new DateTime(2020, 1, 2), reader.GetDateTime(4));
            Assert.Equal(new byte[] { 1, 2 }, (byte[])reader.GetValue(5));
        }

        await using (var empty = new MySqlCommand("SELECT 1 FROM DUAL WHERE 1 = 0", connection))
        await using (MySqlDataReader reader = await empty.ExecuteReaderAsync())
        {
            Assert.False(await reader.ReadAsync());
        }

        await using (var large = new MySqlCommand("SET SESSION max_recursive_iterations = 1000000", connection))
        {
            await large.ExecuteNonQueryAsync();
        }

        await using (var large = new MySqlCommand("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 200000) SELECT x, REPEAT('z', 50) FROM n", connection))
        await using (MySqlDataReader reader = await large.ExecuteReaderAsync())
        {
            long count = 0;
            long sum = 0;
            while (await reader.ReadAsync())
            {
                count++;
                sum += reader.GetInt64(0);
            }

            Assert.Equal(200_000, count);
            Assert.Equal(200_000L * 200_001 / 2, sum);
        }
    }

    [Fact]
    public async Task MySqlConnector_prepared_statements_survive_switching_server_connections()
    {
        string table = NewTable();
        await using MySqlConnection setup = await OpenAsync();
        await using (var create = new MySqlCommand($"CREATE TABLE {table} (id INT PRIMARY KEY, s VARCHAR(20), d DATETIME(6), m DECIMAL(10,2), b BLOB, u BIGINT UNSIGNED)", setup))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using MySqlConnection client = await OpenAsync();
        await using var insert = new MySqlCommand($"INSERT INTO {table} VALUES (@id, @s, @d, @m, @b, @u)", client);
        insert.Parameters.Add("@id", MySqlDbType.Int32);
        insert.Parameters.Add("@s", MySqlDbType.VarChar);
        insert.Parameters.Add("@d", MySqlDbType.DateTime);
        insert.Parameters.Add("@m", MySqlDbType.Decimal);
        insert.Parameters.Add("@b", MySqlDbType.Blob);
        insert.Parameters.Add("@u", MySqlDbType.UInt64);
        await insert.PrepareAsync();

        // Other clients take server connections meanwhile (4 at most), so executions land on different ones.
        var others = new List<MySqlConnection>();
        try
        {
            for (int i = 0; i < 20; i++)
            {
                if (i % 5 == 0 && others.Count < 3)
                {
                    MySqlConnection other = await OpenAsync();
                    others.Add(other);
                    await using var begin = new MySqlCommand("START TRANSACTION; SELECT 1;", other);
                    await begin.ExecuteNonQueryAsync();
                }

                insert.Parameters["@id"].Value = i;
                insert.Parameters["@s"].Value = "row " + i.ToString(CultureInfo.InvariantCulture);
                insert.Parameters["@d"].Value = new DateTime(2020, 1, 1).AddSeconds(i).AddTicks(10);
                insert.Parameters["@m"].Value = i + 0.25m;
                insert.Parameters["@b"].Value = new byte[] { (byte)i, 0, 255 };
                insert.Parameters["@u"].Value = ulong.MaxValue - (ulong)i;
                Assert.Equal(1, await insert.ExecuteNonQueryAsync());
            }
        }
        finally
        {
            foreach (MySqlConnection other in others)
            {
                await other.DisposeAsync();
            }
        }

        await using var select = new MySqlCommand($"SELECT s, d, m, b, u FROM {table} WHERE id = @id", client);
        select.Parameters.Add("@id", MySqlDbType.Int32);
        await select.PrepareAsync();
        for (int i = 0; i < 20; i += 7)
        {
            select.Parameters["@id"].Value = i;
            await using MySqlDataReader reader = await select.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("row " + i.ToString(CultureInfo.InvariantCulture), reader.GetString(0));
            Assert.Equal(new DateTime(2020, 1, 1).AddSeconds(i).AddTicks(10), reader.GetDateTime(1));
            Assert.Equal(i + 0.25m, reader.GetDecimal(2));
            Assert.Equal(new byte[] { (byte)i, 0, 255 }, (byte[])reader.GetValue(3));
            Assert.Equal(ulong.MaxValue - (ulong)i, reader.GetUInt64(4));
        }

        await using var drop = new MySqlCommand($"DROP TABLE {table}", setup);
        await drop.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_transaction_keeps_one_server_connection_and_commit_releases_it()
    {
        string table = NewTable();
        await using MySqlConnection a = await OpenAsync();
        await using MySqlConnection b = await OpenAsync();
        await using (var create = new MySqlCommand($"CREATE TABLE {table} (id INT) ENGINE=InnoDB", a))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using (MySqlTransaction transaction = await a.BeginTransactionAsync())
        {
            object? first = await ScalarAsync(a, "SELECT CONNECTION_ID()", transaction);
            await using (var insert = new MySqlCommand($"INSERT INTO {table} VALUES (1)", a, transaction))
            {
                await insert.ExecuteNonQueryAsync();
            }

            Assert.Equal(0L, Convert.ToInt64(await ScalarAsync(b, $"SELECT COUNT(*) FROM {table}"), CultureInfo.InvariantCulture));
            Assert.Equal(first, await ScalarAsync(a, "SELECT CONNECTION_ID()", transaction));
            await transaction.RollbackAsync();
        }

        Assert.Equal(0L, Convert.ToInt64(await ScalarAsync(b, $"SELECT COUNT(*) FROM {table}"), CultureInfo.InvariantCulture));
        await using (var drop = new MySqlCommand($"DROP TABLE {table}", a))
        {
            await drop.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task Set_and_use_follow_the_client_to_other_server_connections()
    {
        await using MySqlConnection client = await OpenAsync();
        await using (var set = new MySqlCommand("SET SESSION sql_mode = 'ANSI_QUOTES'; USE mysql", client))
        {
            await set.ExecuteNonQueryAsync();
        }

        var seen = new HashSet<long>();
        var holders = new List<MySqlConnection>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                List<object?> state = [];
                await using (var check = new MySqlCommand("SELECT @@sql_mode, DATABASE(), CONNECTION_ID()", client))
                await using (MySqlDataReader reader = await check.ExecuteReaderAsync())
                {
                    Assert.True(await reader.ReadAsync());
                    Assert.Equal("ANSI_QUOTES", reader.GetString(0));
                    Assert.Equal("mysql", reader.GetString(1));
                    seen.Add(Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture));
                }

                // Park the connection the client just used in someone else's transaction.
                if (i < 3)
                {
                    MySqlConnection holder = await OpenAsync();
                    holders.Add(holder);
                    await using var begin = new MySqlCommand("START TRANSACTION; SELECT @@sql_mode", holder);
                    Assert.DoesNotContain("ANSI_QUOTES", (string?)await begin.ExecuteScalarAsync() ?? "", StringComparison.Ordinal);
                }
            }
        }
        finally
        {
            foreach (MySqlConnection holder in holders)
            {
                await holder.DisposeAsync();
            }
        }

        Assert.True(seen.Count >= 2, "the client should have run on several server connections");
    }

    [Fact]
    public async Task Errors_arrive_with_the_servers_code_and_sqlstate()
    {
        await using MySqlConnection connection = await OpenAsync();
        MySqlException error = await Assert.ThrowsAsync<MySqlException>(async () => await ScalarAsync(connection, "SELECT * FROM no_such_table_pt2"));
        Assert.Equal(MySqlErrorCode.NoSuchTable, error.ErrorCode);
        Assert.Equal("42S02", error.SqlState);
        Assert.Equal(3L, Convert.ToInt64(await ScalarAsync(connection, "SELECT 3"), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Cancelling_a_command_kills_the_query_on_the_server()
    {
        await using MySqlConnection connection = await OpenAsync();
        await using var command = new MySqlCommand("SELECT SLEEP(30)", connection);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(700));
        var watch = System.Diagnostics.Stopwatch.StartNew();

        // MySqlConnector cancels with KILL QUERY <Edge's connection id> on a second connection.
        try
        {
            object? result = await command.ExecuteScalarAsync(cancel.Token);
            Assert.Equal(1L, Convert.ToInt64(result, CultureInfo.InvariantCulture)); // SLEEP returns 1 when interrupted
        }
        catch (OperationCanceledException)
        {
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        Assert.Equal(4L, Convert.ToInt64(await ScalarAsync(connection, "SELECT 4"), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task The_group_statement_timeout_interrupts_a_long_statement()
    {
        await using MySqlConnection connection = await OpenAsync("slow");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await AssertInterruptedAsync(ScalarAsync(connection, "SELECT SLEEP(20)"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.Equal(5L, Convert.ToInt64(await ScalarAsync(connection, "SELECT 5"), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_server_connection_killed_mid_query_gives_an_error_and_the_next_query_works()
    {
        await using MySqlConnection client = await OpenAsync();
        await using var admin = new MySqlConnection(fixture.DirectConnectionString());
        await admin.OpenAsync();
        Task<object?> running = ScalarAsync(client, "SELECT SLEEP(30), 'pt-victim'");
        long victim = 0;
        DateTime deadline = DateTime.UtcNow.AddSeconds(20);
        while (victim == 0 && DateTime.UtcNow < deadline)
        {
            victim = Convert.ToInt64(await ScalarAsync(admin, "SELECT COALESCE(MAX(ID), 0) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(30), ''pt-victim''%'"), CultureInfo.InvariantCulture);
            await Task.Delay(victim == 0 ? 20 : 0);
        }

        Assert.NotEqual(0, victim);
        await using (var kill = new MySqlCommand($"KILL {victim}", admin))
        {
            await kill.ExecuteNonQueryAsync();
        }

        MySqlException error = await Assert.ThrowsAsync<MySqlException>(async () => await running);
        Assert.NotNull(error.Message);
        Assert.Equal(ConnectionState.Open, client.State);
        Assert.Equal(6L, Convert.ToInt64(await ScalarAsync(client, "SELECT 6"), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task An_engine_that_is_down_gives_an_error_naming_the_cluster()
    {
        Tools.Result result = await fixture.CliAsync("SELECT 1", database: "down");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("ERROR 1429 (HY000)", result.All, StringComparison.Ordinal);
        Assert.Contains("cluster 'down'", result.All, StringComparison.Ordinal);

        // The client's connection stays usable; every command reports the same.
        await using var connection = new MySqlConnection(fixture.ConnectionString("down"));
        MySqlException error = await Assert.ThrowsAsync<MySqlException>(connection.OpenAsync);
        Assert.Contains("cannot connect to 127.0.0.1:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Many_clients_share_four_server_connections()
    {
        var tasks = new List<Task>();
        for (int c = 0; c < 24; c++)
        {
            int id = c;
            tasks.Add(Task.Run(async () =>
            {
                await using MySqlConnection connection = await OpenAsync();
                for (int i = 0; i < 20; i++)
                {
                    object? value = await ScalarAsync(connection, $"SELECT {id} * 1000 + {i}");
                    Assert.Equal((id * 1000) + i, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                }
            }));
        }

        await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task Sysbench_oltp_read_only_runs_without_errors()
    {
        string[] common =
        [
            "oltp_read_only", "--db-driver=mysql", "--mysql-host=127.0.0.1", "--mysql-port=" + fixture.Edge.Port.ToString(CultureInfo.InvariantCulture),
            "--mysql-user=edge", "--mysql-db=maria", "--mysql-ssl=off", "--tables=2", "--table-size=2000",
        ];
        Tools.Result prepare = await Tools.RunAsync("sysbench", [.. common, "prepare"]);
        try
        {
            Assert.True(prepare.ExitCode == 0, prepare.All);
            Tools.Result run = await Tools.RunAsync("sysbench", [.. common, "--threads=8", "--time=4", "--report-interval=0", "run"]);
            Assert.True(run.ExitCode == 0, run.All);
            Assert.Matches(@"ignored errors:\s+0\s", run.StdOut);
            Assert.Matches(@"transactions:\s+[1-9]\d*\s", run.StdOut);
        }
        finally
        {
            await Tools.RunAsync("sysbench", [.. common, "cleanup"]);
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Tests.Shared;
using MySqlConnector;
using Npgsql;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>
/// Admission end to end through the AOT binary: group limits on the PostgreSQL passthrough (real PostgreSQL),
/// spill on the Arrow path (two DuckDB groups with different marker tables), refusals as native errors, and a
/// reload that lowers max_running. A passthrough session holds its slot while its transaction holds a server
/// connection, which makes "group full" deterministic without sleeps.
/// </summary>
public sealed class AdmissionTests : IAsyncLifetime
{
    private const string SleepMarker = "/* admission-test */";

    private PostgresTestServer _postgres = null!;
    private EdgeProcess _edge = null!;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresTestServer.GetAsync();
        _edge = await EdgeProcess.StartAsync(Config(reloadMaxRunning: 2));
    }

    public async Task DisposeAsync() => await _edge.DisposeAsync();

    private string Config(int reloadMaxRunning) => $$"""
        listeners:
          pg:
            protocol: postgres
            address: 127.0.0.1:{PORT}
            auth: trust
        clusters:
          pg:
            engine: postgres
            postgres: {{Configs.Engine(_postgres)}}
            pool:
              max_size: 30
          duck_a:
            engine: duckdb
            duckdb:
              path: "{DIR}/a.duckdb"
          duck_b:
            engine: duckdb
            duckdb:
              path: "{DIR}/b.duckdb"
        groups:
          pg:
            clusters: [pg]
            admission: { max_running: 2, max_queued: 50, queue_timeout: 60s }
          pgreject:
            clusters: [pg]
            admission: { max_running: 1, max_queued: 3, overflow: reject }
          pgtimeout:
            clusters: [pg]
            admission: { max_running: 1, max_queued: 10, queue_timeout: 500ms }
          pgreload:
            clusters: [pg]
            admission: { max_running: {{reloadMaxRunning}}, overflow: reject }
          pgfree:
            clusters: [pg]
          duck:
            clusters: [duck_a]
            admission:
              max_running: 1
              overflow: { spill: other }
          other:
            clusters: [duck_b]
        routing:
          default_group: pgfree
        audit:
          enabled: true
          path: audit.jsonl
          include_sql: true
        """;

    private async Task<NpgsqlConnection> OpenAsync(string database)
    {
        var connection = new NpgsqlConnection(_edge.ConnectionString(database: database));
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<string?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToString(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private async Task<long> ActiveSleepsAsync(NpgsqlConnection direct)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(0.3) {SleepMarker}%' AND state = 'active'", direct);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The audit record whose statement text contains <paramref name="marker"/>.</summary>
    private Task<System.Text.Json.JsonElement> AuditRecordAsync(string marker) =>
        AuditLog.WaitForLineAsync(Path.Combine(_edge.Directory, "audit.jsonl"), marker, TimeSpan.FromSeconds(10), () => _edge.Log);

    /// <summary>A session whose open transaction holds the group's only slot (passthrough keeps the connection).</summary>
    private async Task<NpgsqlConnection> HoldSlotAsync(string database)
    {
        NpgsqlConnection holder = await OpenAsync(database);
        await ScalarAsync(holder, "BEGIN");
        Assert.Equal("1", await ScalarAsync(holder, "SELECT 1"));
        return holder;
    }

    [Fact]
    public async Task Twenty_clients_never_run_more_than_max_running_on_the_server()
    {
        await using var direct = new NpgsqlConnection(_postgres.ConnectionString());
        await direct.OpenAsync();
        var clients = new List<NpgsqlConnection>();
        try
        {
            for (int i = 0; i < 20; i++)
            {
                clients.Add(await OpenAsync("pg"));
            }

            var clock = Stopwatch.StartNew();
            Task<string?>[] running = [.. clients.Select(c => ScalarAsync(c, $"SELECT pg_sleep(0.3) {SleepMarker}"))];
            Task all = Task.WhenAll(running);
            long most = 0;
            while (!all.IsCompleted)
            {
                most = Math.Max(most, await ActiveSleepsAsync(direct));
            }

            await all;
            clock.Stop();
            Assert.InRange(most, 1, 2);

            // 20 statements of 0.3 s, two at a time: at least ten rounds.
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.9), $"took {clock.Elapsed.TotalSeconds:0.00} s");
        }
        finally
        {
            foreach (NpgsqlConnection client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Full_group_with_overflow_reject_answers_53300_naming_the_group()
    {
        await using NpgsqlConnection holder = await HoldSlotAsync("pgreject");
        await using NpgsqlConnection other = await OpenAsync("pgreject");
        var error = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(other, "SELECT 2"));
        Assert.Equal("53300", error.SqlState);
        Assert.Contains("group 'pgreject' is full: 1 running, 0 queued", error.MessageText, StringComparison.Ordinal);

        // Edge keeps the refused session (Npgsql itself closes a connection that got 53300): ErrorResponse,
        // ReadyForQuery, and the next statement runs once the slot is free.
        await using RawPgClient raw = await RawPgClient.ConnectReadyAsync(_edge.Port, database: "pgreject");
        await raw.SendAsync(w => PgFrontendWriter.WriteQuery(w, "SELECT 9"));
        List<(char Type, byte[] Body)> refused = await raw.ReadUntilAsync('Z');
        Assert.Equal(['E', 'Z'], refused.Select(m => m.Type));
        Assert.Equal("53300", RawPgClient.ErrorCode(refused[0].Body));

        await ScalarAsync(holder, "COMMIT");
        await raw.SendAsync(w => PgFrontendWriter.WriteQuery(w, "SELECT 10"));
        List<(char Type, byte[] Body)> answered = await raw.ReadUntilAsync('Z');
        Assert.Contains(answered, m => m.Type == 'D');
        Assert.DoesNotContain(answered, m => m.Type == 'E');
    }

    [Fact]
    public async Task Queue_timeout_answers_57014_with_the_time_waited()
    {
        await using NpgsqlConnection holder = await HoldSlotAsync("pgtimeout");
        await using NpgsqlConnection other = await OpenAsync("pgtimeout");
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(other, "SELECT 2"));
        Assert.Equal("57014", error.SqlState);
        Assert.Matches(@"waited (0\.[5-9]|[1-9]\d*\.\d) s in the queue of group 'pgtimeout'", error.MessageText);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(450));

        await ScalarAsync(holder, "ROLLBACK");
        Assert.Equal("4", await ScalarAsync(other, "SELECT 4"));
    }

    [Fact]
    public async Task Reload_lowering_max_running_applies_to_new_transactions()
    {
        await using NpgsqlConnection holder = await HoldSlotAsync("pgreload");
        await using NpgsqlConnection other = await OpenAsync("pgreload");
        Assert.Equal("5", await ScalarAsync(other, "SELECT 5"));

        await _edge.ReloadAsync(Config(reloadMaxRunning: 1));
        var error = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(other, "SELECT 6"));
        Assert.Equal("53300", error.SqlState);
        Assert.Contains("group 'pgreload' is full: 1 running", error.MessageText, StringComparison.Ordinal);

        // The holder was not dropped by the reload; once it commits there is room again.
        Assert.Equal("7", await ScalarAsync(holder, "SELECT 7"));
        await ScalarAsync(holder, "COMMIT");
        await using NpgsqlConnection again = await OpenAsync("pgreload");
        Assert.Equal("8", await ScalarAsync(again, "SELECT 8"));
    }

    [Fact]
    public async Task Arrow_path_spills_to_the_other_group_when_full()
    {
        await using (NpgsqlConnection setupA = await OpenAsync("duck"))
        {
            await ScalarAsync(setupA, "CREATE OR REPLACE TABLE marker AS SELECT 'a' AS side");
        }

        await using (NpgsqlConnection setupB = await OpenAsync("other"))
        {
            await ScalarAsync(setupB, "CREATE OR REPLACE TABLE marker AS SELECT 'b' AS side");
        }

        await using NpgsqlConnection probe = await OpenAsync("duck");
        Assert.Equal("a", await ScalarAsync(probe, "SELECT side FROM marker"));

        // A result that streams for a long time (the client reads one row, then stops) holds duck's only slot.
        await using NpgsqlConnection streaming = await OpenAsync("duck");
        await using var big = new NpgsqlCommand("SELECT i, repeat('x', 200) AS pad FROM range(50000000) t(i)", streaming);
        NpgsqlDataReader reader = await big.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());

        Assert.Equal("b", await ScalarAsync(probe, "/* spilled */ SELECT side FROM marker"));

        // The spilled statement is recorded where it ran: the spill group's cluster.
        System.Text.Json.JsonElement record = await AuditRecordAsync("/* spilled */");
        Assert.Equal("other", record.GetProperty("group").GetString());
        Assert.Equal("duck_b", record.GetProperty("cluster").GetString());
        Assert.Equal("ok", record.GetProperty("outcome").GetString());

        big.Cancel();
        try
        {
            await reader.DisposeAsync();
        }
        catch (PostgresException ex) when (ex.SqlState == "57014")
        {
            // Cancelled as asked.
        }

        // Slot released when the cancelled result was disposed: back on its own group.
        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        string? side;
        while ((side = await ScalarAsync(probe, "SELECT side FROM marker")) != "a" && DateTime.UtcNow < deadline)
        {
        }

        Assert.Equal("a", side);
    }
}

/// <summary>Admission on the MySQL front door (passthrough to a real MariaDB): a refusal is ERR 1040 for MySqlConnector.</summary>
public sealed class MySqlAdmissionTests : IAsyncLifetime
{
    private MariaDbTestServer _mariaDb = null!;
    private EdgeProcess _edge = null!;

    public async Task InitializeAsync()
    {
        _mariaDb = await MariaDbTestServer.GetAsync();
        _edge = await EdgeProcess.StartAsync($"""
            listeners:
              my:
                protocol: mysql
                address: 127.0.0.1:{"{PORT}"}
                auth: trust
            clusters:
              maria:
                engine: mysql
                mysql:
                  host: {_mariaDb.Host}
                  port: {_mariaDb.Port}
                  user: {_mariaDb.User}
                  password: "{_mariaDb.Password}"
                  database: {_mariaDb.Database}
              duck:
                engine: duckdb
                duckdb:
                  path: "{"{DIR}"}/duck.duckdb"
              duck2:
                engine: duckdb
                duckdb:
                  path: "{"{DIR}"}/duck2.duckdb"
            groups:
              maria:
                clusters: [maria]
                admission: {"{"} max_running: 1, overflow: reject {"}"}
              duck:
                clusters: [duck]
                admission: {"{"} max_running: 1, max_queued: 5, queue_timeout: 300ms {"}"}
              spilly:
                clusters: [duck]
                admission: {"{"} max_running: 1, overflow: {"{"} spill: other {"}"} {"}"}
              other:
                clusters: [duck2]
              patient:
                clusters: [duck]
                admission: {"{"} max_running: 1, max_queued: 5, queue_timeout: 60s {"}"}
              patient_maria:
                clusters: [maria]
                admission: {"{"} max_running: 1, max_queued: 5, queue_timeout: 60s {"}"}
            routing:
              default_group: maria
            """);
    }

    public async Task DisposeAsync() => await _edge.DisposeAsync();

    [Fact]
    public async Task Full_group_answers_err_1040_naming_the_group()
    {
        await using var holder = new MySqlConnection(MySqlConnectionStrings.For(_edge.Port, "edge", "maria"));
        await holder.OpenAsync();
        // Opened first: the login may borrow a server connection, which is admitted like any other borrow.
        await using var other = new MySqlConnection(MySqlConnectionStrings.For(_edge.Port, "edge", "maria"));
        await other.OpenAsync();
        await using (var begin = new MySqlCommand("BEGIN", holder))
        {
            await begin.ExecuteNonQueryAsync();
        }

        await using (var first = new MySqlCommand("SELECT 1", holder))
        {
            Assert.Equal(1L, Convert.ToInt64(await first.ExecuteScalarAsync(), CultureInfo.InvariantCulture));
        }

        await using var refused = new MySqlCommand("SELECT 2", other);
        var error = await Assert.ThrowsAsync<MySqlException>(() => refused.ExecuteScalarAsync());
        Assert.Equal(1040, error.Number);
        Assert.Equal("08004", error.SqlState);
        Assert.Contains("group 'maria' is full", error.Message, StringComparison.Ordinal);

        await using (var commit = new MySqlCommand("COMMIT", holder))
        {
            await commit.ExecuteNonQueryAsync();
        }

        await using var after = new MySqlCommand("SELECT 3", other);
        Assert.Equal(3L, Convert.ToInt64(await after.ExecuteScalarAsync(), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Arrow_path_queue_timeout_answers_err_1317_naming_the_group()
    {
        await using var streaming = new MySqlConnection(MySqlConnectionStrings.For(_edge.Port, "edge", "duck"));
        await streaming.OpenAsync();
        await using var other = new MySqlConnection(MySqlConnectionStrings.For(_edge.Port, "edge", "duck"));
        await other.OpenAsync();

        // A long result the client stops reading holds duck's only slot while it streams.
        await using var big = new MySqlCommand("SELECT i, repeat('x', 200) AS pad FROM range(50000000) t(i)", streaming);
        MySqlDataReader reader = await big.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());

        await using var waiting = new MySqlCommand("SELECT 1", other);
        var error = await Assert.ThrowsAsync<MySqlException>(() => waiting.ExecuteScalarAsync());
        Assert.Equal(1317, error.Number);
        Assert.Equal("70100", error.SqlState);
        Assert.Matches(@"waited (0\.[3-9]|[1-9]\d*\.\d) s in the queue of group 'duck'", error.Message);

        big.Cancel();
        try
        {
            await reader.DisposeAsync();
        }
        catch (MySqlException)
        {
            // Interrupted as asked.
        }

        // The slot is free again once the interrupted result is gone.
        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                await using var again = new MySqlCommand("SELECT 2", other);
                Assert.Equal(2L, Convert.ToInt64(await again.ExecuteScalarAsync(), CultureInfo.InvariantCulture));
                break;
            }
            catch (MySqlException ex) when (ex.Number == 1317 && DateTime.UtcNow < deadline)
            {
            }
        }
    }

    [Fact]
    public async Task Kill_query_ends_an_arrow_path_queue_wait_at_once()
    {
        await using MySqlConnection streaming = Connection("patient");
        await streaming.OpenAsync();
        await using MySqlConnection waiter = Connection("patient");
        await waiter.OpenAsync();

        // A long result the client stops reading holds the group's only slot while it streams.
        await using var big = new MySqlCommand("SELECT i, repeat('x', 200) AS pad FROM range(50000000) t(i)", streaming);
        MySqlDataReader reader = await big.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());

        await AssertKillEndsTheWaitAsync(waiter, "patient", "SELECT 1");

        big.Cancel();
        try
        {
            await reader.DisposeAsync();
        }
        catch (MySqlException)
        {
            // Interrupted as asked.
        }

        // The killed wait left the waiter's session usable: it runs once the slot is free (queueing until then).
        Assert.Equal("3", await ScalarAsync(waiter, "SELECT 3"));
    }

    [Fact]
    public async Task Kill_query_ends_a_passthrough_queue_wait_at_once()
    {
        await using MySqlConnection holder = Connection("patient_maria");
        await holder.OpenAsync();

        // Opened first: the login may borrow a server connection, which is admitted like any other borrow.
        await using MySqlConnection waiter = Connection("patient_maria");
        await waiter.OpenAsync();
        await ScalarAsync(holder, "BEGIN");
        Assert.Equal("1", await ScalarAsync(holder, "SELECT 1"));

        await AssertKillEndsTheWaitAsync(waiter, "patient_maria", "SELECT 2");
        await ScalarAsync(holder, "COMMIT");

        // The killed wait left the waiter's session usable: it runs now that the slot is free.
        Assert.Equal("3", await ScalarAsync(waiter, "SELECT 3"));
    }

    /// <summary>
    /// A statement of <paramref name="waiter"/> (a session on <paramref name="database"/>) waits for the held slot;
    /// KILL QUERY from a third connection ends the wait with ERR 1317 long before the 60 s queue timeout. The KILL
    /// is repeated until the statement ends: one sent before the statement queued has nothing to end.
    /// </summary>
    private async Task AssertKillEndsTheWaitAsync(MySqlConnection waiter, string database, string sql)
    {
        await using MySqlConnection killer = Connection("duck");
        await killer.OpenAsync();

        var started = System.Diagnostics.Stopwatch.StartNew();
        Task<string?> waiting = ScalarAsync(waiter, sql);
        while (!waiting.IsCompleted)
        {
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(15), "KILL QUERY did not end the queue wait");
            await ScalarAsync(killer, $"KILL QUERY {waiter.ServerThread}");
            await Task.WhenAny(waiting, Task.Delay(100));
        }

        var error = await Assert.ThrowsAsync<MySqlException>(() => waiting);
        Assert.Equal(1317, error.Number);
        Assert.Contains($"cancelled after waiting", error.Message, StringComparison.Ordinal);
        Assert.Contains($"group '{database}'", error.Message, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(15));
    }

    private MySqlConnection Connection(string database) => new(MySqlConnectionStrings.For(_edge.Port, "edge", database));

    private static async Task<string?> ScalarAsync(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToString(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Arrow_path_spills_a_query_to_the_other_group_when_full()
    {
        await using (MySqlConnection setupA = Connection("spilly"))
        {
            await setupA.OpenAsync();
            await ScalarAsync(setupA, "CREATE OR REPLACE TABLE marker AS SELECT 'a' AS side");
        }

        await using (MySqlConnection setupB = Connection("other"))
        {
            await setupB.OpenAsync();
            await ScalarAsync(setupB, "CREATE OR REPLACE TABLE marker AS SELECT 'b' AS side");
        }

        await using MySqlConnection probe = Connection("spilly");
        await probe.OpenAsync();
        Assert.Equal("a", await ScalarAsync(probe, "SELECT side FROM marker"));

        await using MySqlConnection streaming = Connection("spilly");
        await streaming.OpenAsync();
        await using var big = new MySqlCommand("SELECT i, repeat('x', 200) AS pad FROM range(50000000) t(i)", streaming);
        MySqlDataReader reader = await big.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());

        Assert.Equal("b", await ScalarAsync(probe, "SELECT side FROM marker"));

        big.Cancel();
        try
        {
            await reader.DisposeAsync();
        }
        catch (MySqlException)
        {
            // Interrupted as asked.
        }

        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        string? side;
        while ((side = await ScalarAsync(probe, "SELECT side FROM marker")) != "a" && DateTime.UtcNow < deadline)
        {
        }

        Assert.Equal("a", side);
    }
}

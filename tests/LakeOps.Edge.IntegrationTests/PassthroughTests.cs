using System.Data;
using System.Globalization;
using System.Text.RegularExpressions;
using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Tests.Shared;
using Npgsql;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>
/// One Edge process in front of a real PostgreSQL: group "pg" (pool of at most 4 server connections, so
/// clients share and switch connections), group "slow" (same cluster, 500 ms statement timeout) and
/// group "down" (a cluster nobody listens on).
/// </summary>
public sealed class PassthroughFixture : IAsyncLifetime
{
    public const string Database = "edge_passthrough";

    public PostgresTestServer Postgres { get; private set; } = null!;

    public EdgeProcess Edge { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Postgres = await PostgresTestServer.GetAsync();
        if (await Postgres.PsqlAsync($"select count(*) from pg_database where datname = '{Database}'") == "0")
        {
            await Postgres.PsqlAsync($"create database {Database}");
        }

        Tools.Result init = await Tools.RunAsync(
            "pgbench",
            ["-i", "-s", "1", "-q", "-h", Postgres.Host, "-p", Postgres.Port.ToString(CultureInfo.InvariantCulture), "-U", Postgres.User, Database],
            new Dictionary<string, string> { ["PGPASSWORD"] = Postgres.Password, ["PGSSLMODE"] = "disable" });
        Assert.True(init.ExitCode == 0, init.All);
        await RunDirectAsync("create table if not exists passthrough_rows (id int primary key, note text)");

        string config = $$"""
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:{PORT}
                auth: trust
                limits:
                  idle_in_transaction_timeout: 3s
            clusters:
              pg:
                engine: postgres
                postgres:
                  host: {{Postgres.Host}}
                  port: {{Postgres.Port}}
                  user: {{Postgres.User}}
                  password: "{{Postgres.Password}}"
                  database: {{Database}}
                pool:
                  max_size: 4
                  connect_timeout: 20s
              down:
                engine: postgres
                postgres:
                  host: 127.0.0.1
                  port: {{EdgeProcess.FreePort()}}
                  user: nobody
                pool:
                  connect_timeout: 2s
            groups:
              pg:
                clusters: [pg]
              slow:
                clusters: [pg]
                statement_timeout: 500ms
              down:
                clusters: [down]
            routing:
              default_group: pg
            """;
        Edge = await EdgeProcess.StartAsync(config);
    }

    public async Task DisposeAsync() => await Edge.DisposeAsync();

    /// <summary>A connection straight to PostgreSQL (not through Edge).</summary>
    public async Task<NpgsqlConnection> OpenDirectAsync()
    {
        var connection = new NpgsqlConnection(Postgres.ConnectionString(database: Database));
        await connection.OpenAsync();
        return connection;
    }

    public async Task<object?> RunDirectAsync(string sql)
    {
        await using NpgsqlConnection connection = await OpenDirectAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class PassthroughCollection : ICollectionFixture<PassthroughFixture>
{
    public const string Name = "passthrough";
}

/// <summary>PostgreSQL clients through Edge to a real PostgreSQL: frames forwarded, connections pooled per transaction.</summary>
[Collection(PassthroughCollection.Name)]
public sealed partial class PassthroughTests(PassthroughFixture fixture)
{
    private readonly EdgeProcess _edge = fixture.Edge;

    private async Task<NpgsqlConnection> OpenAsync(string database = "pg", string extra = "")
    {
        var connection = new NpgsqlConnection(_edge.ConnectionString(database: database, extra: extra));
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private string Port => _edge.Port.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Psql_runs_queries_on_the_engine()
    {
        Tools.Result result = await Tools.RunAsync("psql", ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", _edge.LibpqConnection(database: "pg"),
            "-c", "select 40 + 2", "-c", "show server_version", "-c", "select count(*) from pgbench_branches", "-c", "select current_database()"]);
        Assert.True(result.ExitCode == 0, result.All);
        string[] lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("42", lines[0]);
        Assert.StartsWith("15.", lines[1], StringComparison.Ordinal);
        Assert.Equal("1", lines[2]);
        Assert.Equal(PassthroughFixture.Database, lines[3]);

        // Errors come from PostgreSQL itself, and the session goes on.
        result = await Tools.RunAsync("psql", ["-X", "-A", "-t", _edge.LibpqConnection(database: "pg"),
            "-c", "\\set VERBOSITY verbose", "-c", "select * from no_such_table", "-c", "select 'still here'"]);
        Assert.Contains("42P01", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("still here", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Npgsql_reads_types_parameters_and_errors()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        Assert.StartsWith("15.", connection.PostgresParameters["server_version"], StringComparison.Ordinal);
        await using (var command = new NpgsqlCommand("select $1::int + 1, $2::text || '!', $3::numeric * 2, null::int, now() is not null, '{1,2}'::int[]", connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = 41 });
            command.Parameters.Add(new NpgsqlParameter { Value = "héllo" });
            command.Parameters.Add(new NpgsqlParameter { Value = 1.25m });
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(42, reader.GetInt32(0));
            Assert.Equal("héllo!", reader.GetString(1));
            Assert.Equal(2.5m, reader.GetDecimal(2));
            Assert.True(reader.IsDBNull(3));
            Assert.True(reader.GetBoolean(4));
            Assert.Equal([1, 2], reader.GetFieldValue<int[]>(5));
        }

        var error = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync<int>(connection, "select 1/0"));
        Assert.Equal("22012", error.SqlState);

        // A large result streams through.
        Assert.Equal(200_000L, await ScalarAsync<long>(connection, "select count(*) from (select repeat('x', 100) from generate_series(1, 200000)) s"));
        await using (var command = new NpgsqlCommand("select g, repeat('y', 50) from generate_series(1, 50000) g", connection))
        await using (NpgsqlDataReader reader = await command.ExecuteReaderAsync())
        {
            long sum = 0;
            while (await reader.ReadAsync())
            {
                sum += reader.GetInt32(0);
            }

            Assert.Equal(50000L * 50001 / 2, sum);
        }
    }

    [Fact]
    public async Task Prepared_statements_follow_the_client_across_server_connections()
    {
        await using NpgsqlConnection client = await OpenAsync();
        await using var command = new NpgsqlCommand("select $1::int * 3, pg_backend_pid()", client);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        await command.PrepareAsync();

        var pids = new HashSet<int>();
        for (int i = 0; i < 12; i++)
        {
            // Another client holding a connection in a transaction forces this one onto another server connection.
            await using NpgsqlConnection other = await OpenAsync();
            await using NpgsqlTransaction? transaction = i % 2 == 0 ? await other.BeginTransactionAsync() : null;
            if (transaction is not null)
            {
                await ExecuteAsync(other, "select 1");
            }

            command.Parameters[0].Value = i;
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(i * 3, reader.GetInt32(0));
            pids.Add(reader.GetInt32(1));
        }

        Assert.True(pids.Count >= 2, "the statement should have run on more than one server connection");
    }

    [Fact]
    public async Task Settings_follow_the_client_and_only_that_client()
    {
        await using NpgsqlConnection tokyo = await OpenAsync();
        await ExecuteAsync(tokyo, "create schema if not exists passthrough_app");
        await ExecuteAsync(tokyo, "SET search_path TO passthrough_app, public");
        await ExecuteAsync(tokyo, "SET TimeZone = 'Asia/Tokyo'");

        var pids = new HashSet<int>();
        for (int i = 0; i < 8; i++)
        {
            await using NpgsqlConnection other = await OpenAsync();
            await using NpgsqlTransaction? hold = i % 2 == 0 ? await other.BeginTransactionAsync() : null;
            Assert.Equal("\"$user\", public", await ScalarAsync<string>(other, "show search_path"));
            Assert.Equal("UTC", await ScalarAsync<string>(other, "show timezone"));

            Assert.Equal("passthrough_app, public", await ScalarAsync<string>(tokyo, "show search_path"));
            Assert.Equal("Asia/Tokyo", await ScalarAsync<string>(tokyo, "show timezone"));
            pids.Add(await ScalarAsync<int>(tokyo, "select pg_backend_pid()"));
        }

        Assert.True(pids.Count >= 2, "the settings should have been carried to another server connection");

        // SET LOCAL and a rolled-back SET do not stick; a committed SET in a transaction does.
        await using (NpgsqlTransaction transaction = await tokyo.BeginTransactionAsync())
        {
            await ExecuteAsync(tokyo, "SET LOCAL TimeZone = 'Europe/Paris'");
            await ExecuteAsync(tokyo, "SET application_name = 'rolled back'");
            await transaction.RollbackAsync();
        }

        await using (NpgsqlTransaction transaction = await tokyo.BeginTransactionAsync())
        {
            await ExecuteAsync(tokyo, "SET work_mem = '12MB'");
            await transaction.CommitAsync();
        }

        await using NpgsqlConnection holder = await OpenAsync();
        await using NpgsqlTransaction held = await holder.BeginTransactionAsync();
        await ExecuteAsync(holder, "select 1");
        Assert.Equal("Asia/Tokyo", await ScalarAsync<string>(tokyo, "show timezone"));
        Assert.NotEqual("rolled back", await ScalarAsync<string>(tokyo, "show application_name"));
        Assert.Equal("12MB", await ScalarAsync<string>(tokyo, "show work_mem"));

        // Startup parameters follow the client too (psql's options / PGOPTIONS).
        Tools.Result result = await Tools.RunAsync("psql", ["-X", "-A", "-t", _edge.LibpqConnection(database: "pg"), "-c", "show statement_timeout", "-c", "show application_name"],
            new Dictionary<string, string> { ["PGOPTIONS"] = "-c statement_timeout=4321", ["PGAPPNAME"] = "passthrough-test" });
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal(["4321ms", "passthrough-test"], result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_bad_startup_setting_fails_the_login_as_on_postgresql()
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(extra: "Options=-c statement_timeout=soon"));
        Assert.Equal("22023", error.SqlState);
    }

    [Fact]
    public async Task Temp_tables_pin_the_server_connection_until_the_client_leaves()
    {
        int pinnedPid;
        await using (NpgsqlConnection pinned = await OpenAsync())
        {
            await ExecuteAsync(pinned, "create temp table passthrough_scratch (a int)");
            pinnedPid = await ScalarAsync<int>(pinned, "select pg_backend_pid()");
            for (int i = 0; i < 5; i++)
            {
                // Others keep working with the remaining connections meanwhile.
                await using NpgsqlConnection other = await OpenAsync();
                Assert.NotEqual(pinnedPid, await ScalarAsync<int>(other, "select pg_backend_pid()"));
                await ExecuteAsync(pinned, $"insert into passthrough_scratch values ({i})");
            }

            Assert.Equal(5L, await ScalarAsync<long>(pinned, "select count(*) from passthrough_scratch"));
            Assert.Equal(pinnedPid, await ScalarAsync<int>(pinned, "select pg_backend_pid()"));
        }

        // After the client left, the connection was reset (DISCARD ALL) before anyone else got it.
        await WaitUntilAsync(async () => Convert.ToInt64(await fixture.RunDirectAsync(
            "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relname = 'passthrough_scratch'"), CultureInfo.InvariantCulture) == 0);
    }

    [Fact]
    public async Task Listen_pins_and_notifications_arrive()
    {
        await using NpgsqlConnection listener = await OpenAsync();
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.Notification += (_, e) => received.TrySetResult(e.Payload);
        await ExecuteAsync(listener, "LISTEN passthrough_channel");

        await using NpgsqlConnection sender = await OpenAsync();
        await ExecuteAsync(sender, "NOTIFY passthrough_channel, 'hello'");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await listener.WaitAsync(timeout.Token);
        Assert.Equal("hello", await received.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Session_advisory_locks_pin_and_are_released_when_the_client_leaves()
    {
        await using (NpgsqlConnection owner = await OpenAsync())
        {
            await ExecuteAsync(owner, "select pg_advisory_lock(884422)");
            await using NpgsqlConnection other = await OpenAsync();
            Assert.False(await ScalarAsync<bool>(other, "select pg_try_advisory_lock(884422)"));

            // Still held by the owner's (pinned) connection after the other client's work.
            Assert.True(await ScalarAsync<bool>(owner, "select pg_advisory_unlock(884422)"));
            await ExecuteAsync(owner, "select pg_advisory_lock(884422)");
        }

        await WaitUntilAsync(async () => Convert.ToInt64(await fixture.RunDirectAsync("select count(*) from pg_locks where locktype = 'advisory' and objid = 884422"), CultureInfo.InvariantCulture) == 0);
    }

    [Fact]
    public async Task Cancel_request_cancels_the_running_statement()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using var command = new NpgsqlCommand("select pg_sleep(30)", connection);
        Task<object?> running = command.ExecuteScalarAsync();
        await WaitUntilAsync(async () => Convert.ToInt64(await fixture.RunDirectAsync("select count(*) from pg_stat_activity where query = 'select pg_sleep(30)' and state = 'active'"), CultureInfo.InvariantCulture) == 1);
        command.Cancel();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => running);
        PostgresException postgres = Assert.IsType<PostgresException>(error is OperationCanceledException { InnerException: { } inner } ? inner : error);
        Assert.Equal("57014", postgres.SqlState);
        Assert.Equal(1, await ScalarAsync<int>(connection, "select 1"));
    }

    [Fact]
    public async Task Group_statement_timeout_cancels_on_the_server()
    {
        await using NpgsqlConnection connection = await OpenAsync(database: "slow");
        DateTime started = DateTime.UtcNow;
        var error = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync<object>(connection, "select pg_sleep(10)"));
        Assert.Equal("57014", error.SqlState);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(8));
        Assert.Equal(2, await ScalarAsync<int>(connection, "select 2"));
    }

    [Fact]
    public async Task A_server_connection_killed_mid_query_gives_08006_and_the_session_recovers()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        int victim = await ScalarAsync<int>(connection, "select pg_backend_pid()");
        Task<object?> running = ScalarAsync<object?>(connection, "select pg_sleep(20) /* victim */");
        await WaitUntilAsync(async () => Convert.ToInt64(await fixture.RunDirectAsync("select count(*) from pg_stat_activity where query like 'select pg_sleep(20) /* victim */%' and state = 'active'"), CultureInfo.InvariantCulture) == 1);
        await fixture.RunDirectAsync("select pg_terminate_backend(pid) from pg_stat_activity where query like 'select pg_sleep(20) /* victim */%'");

        var error = await Assert.ThrowsAsync<PostgresException>(() => running);
        Assert.Equal("08006", error.SqlState);
        Assert.Contains("cluster 'pg'", error.MessageText, StringComparison.Ordinal);
        Assert.Equal(ConnectionState.Open, connection.State);
        Assert.Equal(7, await ScalarAsync<int>(connection, "select 7"));
        Assert.NotEqual(victim, await ScalarAsync<int>(connection, "select pg_backend_pid()"));
    }

    [Fact]
    public async Task A_connection_lost_inside_a_transaction_fails_it_until_rollback()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, "insert into passthrough_rows values (9001, 'lost') on conflict do nothing");
        int pid = await ScalarAsync<int>(connection, "select pg_backend_pid()");
        await fixture.RunDirectAsync($"select pg_terminate_backend({pid})");

        var lost = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync<int>(connection, "select 1"));
        Assert.Equal("08006", lost.SqlState);
        var aborted = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync<int>(connection, "select 1"));
        Assert.Equal("25P02", aborted.SqlState);
        await transaction.RollbackAsync();
        Assert.Equal(0L, await ScalarAsync<long>(connection, "select count(*) from passthrough_rows where id = 9001"));
    }

    [Fact]
    public async Task A_client_vanishing_mid_transaction_leaves_no_dirty_connection()
    {
        await using (NpgsqlConnection connection = await OpenAsync())
        {
            NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
            await ExecuteAsync(connection, "insert into passthrough_rows values (9002, 'uncommitted') on conflict do nothing");

            // Gone without COMMIT or ROLLBACK.
        }

        await WaitUntilAsync(async () => Convert.ToInt64(await fixture.RunDirectAsync(
            $"select count(*) from pg_stat_activity where datname = '{PassthroughFixture.Database}' and state like 'idle in transaction%'"), CultureInfo.InvariantCulture) == 0);
        Assert.Equal(0L, Convert.ToInt64(await fixture.RunDirectAsync("select count(*) from passthrough_rows where id = 9002"), CultureInfo.InvariantCulture));
        await using NpgsqlConnection next = await OpenAsync();
        Assert.Equal("I", await ScalarAsync<string>(next, "select case when txid_current_if_assigned() is null then 'I' else 'T' end"));
    }

    [Fact]
    public async Task An_unreachable_cluster_gives_08006_naming_it()
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(database: "down"));
        Assert.Equal("08006", error.SqlState);
        Assert.Contains("cluster 'down'", error.MessageText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prepared")]
    [InlineData("extended")]
    [InlineData("simple")]
    public async Task Pgbench_select_only_with_more_clients_than_server_connections(string mode)
    {
        Tools.Result result = await Tools.RunAsync(
            "pgbench",
            ["-n", "-S", "-M", mode, "-c", "20", "-j", "2", "-t", "100", "-h", "127.0.0.1", "-p", Port, "-U", "edge", "pg"]);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Matches(ProcessedRegex(), result.StdOut);
        Assert.Equal("0", FailedRegex().Match(result.StdOut).Groups[1].Value);
    }

    [Fact]
    public async Task Pgbench_transactions_commit_through_the_pool()
    {
        Tools.Result result = await Tools.RunAsync(
            "pgbench",
            ["-n", "-M", "prepared", "-c", "8", "-j", "2", "-t", "50", "-h", "127.0.0.1", "-p", Port, "-U", "edge", "pg"]);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal("0", FailedRegex().Match(result.StdOut).Groups[1].Value);
    }

    [Fact]
    public async Task Copy_in_and_out_pass_through()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await ExecuteAsync(connection, "create temp table passthrough_copy (a int, b text)");
        await using (NpgsqlBinaryImporter importer = await connection.BeginBinaryImportAsync("copy passthrough_copy from stdin (format binary)"))
        {
            for (int i = 0; i < 1000; i++)
            {
                await importer.StartRowAsync();
                await importer.WriteAsync(i);
                await importer.WriteAsync("row " + i.ToString(CultureInfo.InvariantCulture));
            }

            await importer.CompleteAsync();
        }

        using TextReader reader = await connection.BeginTextExportAsync("copy (select a, b from passthrough_copy order by a) to stdout");
        string text = await reader.ReadToEndAsync();
        Assert.Equal(1000, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.StartsWith("0\trow 0\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Npgsql_batches_with_an_error_skip_to_the_end_like_postgresql()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands = { new("select 1"), new("select 1/0"), new("select 3") },
        };
        await using (NpgsqlDataReader reader = await batch.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal(1, reader.GetInt32(0));
            var error = await Assert.ThrowsAsync<PostgresException>(() => reader.NextResultAsync());
            Assert.Equal("22012", error.SqlState);
        }

        Assert.Equal(4, await ScalarAsync<int>(connection, "select 4"));

        // Prepared commands in a batch, on whatever connections they land.
        for (int i = 0; i < 5; i++)
        {
            await using var prepared = new NpgsqlBatch(connection)
            {
                BatchCommands = { new("select $1::int + 1") { Parameters = { new() { Value = i } } }, new("select $1::text") { Parameters = { new() { Value = "x" } } } },
            };
            await prepared.PrepareAsync();
            await using NpgsqlDataReader reader = await prepared.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(i + 1, reader.GetInt32(0));
            Assert.True(await reader.NextResultAsync());
            Assert.True(await reader.ReadAsync());
            Assert.Equal("x", reader.GetString(0));
        }
    }

    [Fact]
    public async Task Pipelined_extended_protocol_keeps_the_response_order()
    {
        await using RawPgClient client = await RawPgClient.ConnectReadyAsync(_edge.Port, database: "pg");
        string sql = "select $1::int * 2 /* pipelined " + Guid.NewGuid().ToString("N") + " */";

        // Parse, a Close of a statement that never existed, two executions, Sync; then a named statement used
        // again after Sync, and a Bind of a closed name, which fails and skips to its Sync.
        await client.SendAsync(w =>
        {
            PgFrontendWriter.WriteParse(w, "s1", sql, [23]);
            PgFrontendWriter.WriteClose(w, 'S', "nothing");
            PgFrontendWriter.WriteBind(w, "", "s1", [], [System.Text.Encoding.ASCII.GetBytes("21")], []);
            PgFrontendWriter.WriteExecute(w, "", 0);
            PgFrontendWriter.WriteBind(w, "", "s1", [], [System.Text.Encoding.ASCII.GetBytes("5")], []);
            PgFrontendWriter.WriteExecute(w, "", 0);
            PgFrontendWriter.WriteSync(w);
            PgFrontendWriter.WriteClose(w, 'S', "s1");
            PgFrontendWriter.WriteBind(w, "", "s1", [], [System.Text.Encoding.ASCII.GetBytes("1")], []);
            PgFrontendWriter.WriteExecute(w, "", 0);
            PgFrontendWriter.WriteSync(w);
            PgFrontendWriter.WriteQuery(w, "select 'after'");
        });

        List<(char Type, byte[] Body)> first = await client.ReadUntilAsync('Z');
        Assert.Equal("132DC2DCZ", new string(first.Select(m => m.Type).ToArray()));
        Assert.Equal("42", System.Text.Encoding.ASCII.GetString(first[3].Body[6..]));
        Assert.Equal("10", System.Text.Encoding.ASCII.GetString(first[6].Body[6..]));

        List<(char Type, byte[] Body)> second = await client.ReadUntilAsync('Z');
        Assert.Equal("3EZ", new string(second.Select(m => m.Type).ToArray()));
        Assert.Contains("26000", System.Text.Encoding.UTF8.GetString(second[1].Body), StringComparison.Ordinal);

        List<(char Type, byte[] Body)> third = await client.ReadUntilAsync('Z');
        Assert.Equal("TDCZ", new string(third.Select(m => m.Type).ToArray()));
    }

    [Fact]
    public async Task A_client_leaving_mid_query_gets_its_statement_cancelled()
    {
        string marker = "leaving_" + Guid.NewGuid().ToString("N");
        await using (RawPgClient client = await RawPgClient.ConnectReadyAsync(_edge.Port, database: "pg"))
        {
            await client.SendAsync(w => PgFrontendWriter.WriteQuery(w, $"select pg_sleep(30) /* {marker} */"));
            await WaitUntilAsync(async () => Convert.ToInt64(await fixture.RunDirectAsync($"select count(*) from pg_stat_activity where query like '%{marker}%' and state = 'active' and pid <> pg_backend_pid()"), CultureInfo.InvariantCulture) == 1);
        }

        await WaitUntilAsync(async () => Convert.ToInt64(await fixture.RunDirectAsync($"select count(*) from pg_stat_activity where query like '%{marker}%' and state = 'active' and pid <> pg_backend_pid()"), CultureInfo.InvariantCulture) == 0);
    }

    [Fact]
    public async Task Idle_in_transaction_ends_the_session_and_rolls_back()
    {
        await using RawPgClient client = await RawPgClient.ConnectReadyAsync(_edge.Port, database: "pg");
        await client.SendAsync(w => PgFrontendWriter.WriteQuery(w, "begin; insert into passthrough_rows values (9003, 'idle') on conflict do nothing"));
        List<(char Type, byte[] Body)> begun = await client.ReadUntilAsync('Z');
        Assert.Equal((byte)'T', begun[^1].Body[0]);

        // Nothing more from the client: after 3 s Edge ends the session (FATAL 25P03) and rolls the transaction back.
        (char Type, byte[] Body)? fatal = await client.ReadAsync(timeoutSeconds: 20);
        Assert.NotNull(fatal);
        Assert.Equal('E', fatal.Value.Type);
        Assert.Contains("25P03", System.Text.Encoding.UTF8.GetString(fatal.Value.Body), StringComparison.Ordinal);
        Assert.Null(await client.ReadAsync(timeoutSeconds: 10));
        await WaitUntilAsync(async () => Convert.ToInt64(await fixture.RunDirectAsync("select count(*) from passthrough_rows where id = 9003"), CultureInfo.InvariantCulture) == 0
            && Convert.ToInt64(await fixture.RunDirectAsync($"select count(*) from pg_stat_activity where datname = '{PassthroughFixture.Database}' and state like 'idle in transaction%'"), CultureInfo.InvariantCulture) == 0);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 15 s");
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"number of transactions actually processed: 2000/2000")]
    private static partial Regex ProcessedRegex();

    [GeneratedRegex(@"number of failed transactions: (\d+)")]
    private static partial Regex FailedRegex();
}

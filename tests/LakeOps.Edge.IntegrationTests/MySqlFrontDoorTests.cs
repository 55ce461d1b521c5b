using System.Diagnostics;
using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Protocols.MySql;
using MySqlConnector;
using Com = LakeOps.Edge.Protocols.MySql.MySqlCommand;
using MySqlCommand = MySqlConnector.MySqlCommand;
using MySqlErrorCode = MySqlConnector.MySqlErrorCode;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>The MySQL front door against DuckDB through the AOT binary, with the mysql CLI, MySqlConnector and a raw client.</summary>
[Collection(MySqlEdgeCollection.Name)]
public sealed class MySqlFrontDoorTests(MySqlEdgeFixture fixture)
{
    private static Task<Tools.Result> Cli(int port, string sql, string database = "local", params string[] extra) =>
        Tools.RunAsync("mysql", ["--protocol=TCP", "-h127.0.0.1", $"-P{port}", "-uedge", "--batch", "--raw", "--skip-ssl", .. extra, database, "-e", sql]);

    private async Task<MySqlConnection> OpenAsync(string database = "local", string extra = "")
    {
        var connection = new MySqlConnection(fixture.ConnectionString(database, extra));
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<object?> ScalarAsync(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    [Fact]
    public async Task Mysql_cli_connects_and_gets_the_connect_time_answers()
    {
        Tools.Result result = await Cli(fixture.Edge.Port,
            "select @@version_comment limit 1; select version(); select @@max_allowed_packet; select database(); select @@session.auto_increment_increment as inc; show databases; set names utf8mb4; set autocommit=1; select @@character_set_client");
        Assert.True(result.ExitCode == 0, result.All);
        string[] lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
        [
            "@@version_comment", "LakeOps Edge",
            "version()", "8.0.36-LakeOps-Edge",
            "@@max_allowed_packet", (64 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "database()", "local",
            "inc", "1",
            "Database", "local", "other", "slow",
            "@@character_set_client", "utf8mb4",
        ], lines);
    }

    [Fact]
    public async Task Mysql_cli_prints_every_common_type_and_nulls()
    {
        Tools.Result result = await Cli(fixture.Edge.Port,
            "select 42::integer as i, 9000000000::bigint as big, 12.345::decimal(10,3) as amount, 2.5::double as dbl, 'héllo' as s, "
            + "'abc'::blob as bin, date '2024-02-29' as d, time '12:34:56.5' as t, timestamp '2024-02-29 12:34:56' as ts, true as flag, null as nothing, "
            + "(-3)::tinyint as tiny, 200::utinyint as utiny");
        Assert.True(result.ExitCode == 0, result.All);
        string[] lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("i\tbig\tamount\tdbl\ts\tbin\td\tt\tts\tflag\tnothing\ttiny\tutiny", lines[0]);
        Assert.Equal("42\t9000000000\t12.345\t2.5\théllo\tabc\t2024-02-29\t12:34:56.500000\t2024-02-29 12:34:56\t1\tNULL\t-3\t200", lines[1]);
    }

    [Fact]
    public async Task Mysql_cli_reports_errors_with_codes_and_keeps_the_session()
    {
        Tools.Result result = await Cli(fixture.Edge.Port, "select * from no_such_table", "local", "--force");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("ERROR 1146 (42S02)", result.StdErr, StringComparison.Ordinal);

        // Statements from stdin run one by one; --force carries on after the error.
        result = await Tools.RunAsync("mysql", ["--protocol=TCP", "-h127.0.0.1", $"-P{fixture.Edge.Port}", "-uedge", "--batch", "--raw", "--skip-ssl", "--force", "local"],
            stdin: "selec 1;\nselect 'after';\n");
        Assert.Contains("ERROR 1064 (42000)", result.StdErr, StringComparison.Ordinal);
        Assert.True(result.StdOut.Contains("after", StringComparison.Ordinal), result.All);
    }

    [Fact]
    public async Task Use_switches_group_and_show_databases_lists_the_groups()
    {
        Tools.Result result = await Cli(fixture.Edge.Port, "use other; select database(); show databases like 'o%'");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal(["database()", "other", "Database (o%)", "other"], result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        await using MySqlConnection connection = await OpenAsync();
        await connection.ChangeDatabaseAsync("other");
        Assert.Equal("other", await ScalarAsync(connection, "SELECT DATABASE()"));
        await using (var use = new MySqlCommand("USE local", connection))
        {
            await use.ExecuteNonQueryAsync();
        }

        Assert.Equal("local", await ScalarAsync(connection, "SELECT DATABASE()"));

        // COM_INIT_DB without a name.
        await using MySqlRawClient client = await MySqlRawClient.ConnectAsync(fixture.Edge.Port);
        await client.SendAsync([(byte)Com.InitDb]);
        Assert.Equal(1046, MySqlErrPacket.Parse((await client.ReadAsync()).Payload).ErrorCode);
        await client.SendAsync([(byte)Com.InitDb, .. "other"u8]);
        Assert.True(MySqlPacketHeader.IsOk((await client.ReadAsync()).Payload));
    }

    [Fact]
    public async Task Connector_reads_every_common_type_as_the_right_clr_type()
    {
        await using MySqlConnection connection = await OpenAsync();
        await using var command = new MySqlCommand(
            "select 42::integer as i, 9000000000::bigint as big, (-5)::smallint as small, 12.345::decimal(10,3) as amount, 2.5::double as dbl, "
            + "1.25::float as flt, 'héllo' as s, '\\x00\\xFF'::blob as bin, date '2024-02-29' as d, time '12:34:56.5' as t, "
            + "timestamp '2024-02-29 12:34:56.123456' as ts, true as flag, null::integer as nothing, 18446744073709551615::ubigint as ubig", connection);
        await using MySqlDataReader reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(42, reader.GetInt32(0));
        Assert.Equal(9_000_000_000L, reader.GetInt64(1));
        Assert.Equal((short)-5, reader.GetInt16(2));
        Assert.Equal(12.345m, reader.GetDecimal(3));
        Assert.Equal(2.5, reader.GetDouble(4));
        Assert.Equal(1.25f, reader.GetFloat(5));
        Assert.Equal("héllo", reader.GetString(6));
        Assert.Equal(new byte[] { 0x00, 0xFF }, (byte[])reader.GetValue(7));
        Assert.Equal(new DateTime(2024, 2, 29), reader.GetDateTime(8));
        Assert.Equal(new TimeSpan(0, 12, 34, 56, 500), reader.GetTimeSpan(9));
        Assert.Equal(new DateTime(2024, 2, 29, 12, 34, 56, 123).AddTicks(4560), reader.GetDateTime(10));
        Assert.True(reader.GetBoolean(11));
        Assert.True(reader.IsDBNull(12));
        Assert.Equal(ulong.MaxValue, reader.GetUInt64(13));
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task Empty_result_keeps_its_columns()
    {
        await using MySqlConnection connection = await OpenAsync();
        await using var command = new MySqlCommand("select 1 as a, 'x' as b where false", connection);
        await using MySqlDataReader reader = await command.ExecuteReaderAsync();
        Assert.Equal(2, reader.FieldCount);
        Assert.Equal("b", reader.GetName(1));
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task Engine_errors_become_mysql_error_numbers_and_sqlstates()
    {
        await using MySqlConnection connection = await OpenAsync();
        (string Sql, int Number, string State)[] cases =
        [
            ("select * from missing_table", 1146, "42S02"),
            ("selectx 1", 1064, "42000"),
            ("select no_such_column from (select 1 as a)", 1054, "42S22"),
        ];
        foreach (var c in cases)
        {
            var error = await Assert.ThrowsAsync<MySqlException>(() => ScalarAsync(connection, c.Sql));
            Assert.Equal((c.Number, c.State), (error.Number, error.SqlState));
        }

        // The session survives errors.
        Assert.Equal(1, Convert.ToInt32(await ScalarAsync(connection, "select 1"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Large_result_streams_100k_rows()
    {
        await using MySqlConnection connection = await OpenAsync();
        await using var command = new MySqlCommand("select x, 'row ' || x::varchar as label from range(100000) t(x)", connection);
        await using MySqlDataReader reader = await command.ExecuteReaderAsync();
        long count = 0;
        long sum = 0;
        while (await reader.ReadAsync())
        {
            sum += reader.GetInt64(0);
            count++;
            if (count == 99_999)
            {
                Assert.Equal("row 99998", reader.GetString(1));
            }
        }

        Assert.Equal(100_000, count);
        Assert.Equal(99_999L * 100_000 / 2, sum);
    }

    [Fact]
    public async Task Multi_statements_return_one_result_each_and_stop_at_an_error()
    {
        await using MySqlConnection connection = await OpenAsync();
        await using (var command = new MySqlCommand(
            "create temp table ms(a integer); insert into ms values (1), (2); select a from ms order by a; select 'two' as b, 3 as c", connection))
        await using (MySqlDataReader reader = await command.ExecuteReaderAsync())
        {
            Assert.Equal(1, reader.FieldCount);
            Assert.True(await reader.ReadAsync());
            Assert.Equal(1, reader.GetInt32(0));
            Assert.True(await reader.ReadAsync());
            Assert.False(await reader.ReadAsync());
            Assert.True(await reader.NextResultAsync());
            Assert.True(await reader.ReadAsync());
            Assert.Equal("two", reader.GetString(0));
            Assert.False(await reader.NextResultAsync());
            Assert.Equal(2, reader.RecordsAffected);
        }

        await using (var failing = new MySqlCommand("select 1 as a; select * from nowhere; select 3", connection))
        await using (MySqlDataReader reader = await failing.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            var error = await Assert.ThrowsAsync<MySqlException>(() => reader.NextResultAsync());
            Assert.Equal(1146, error.Number);
        }

        Assert.Equal("ok", await ScalarAsync(connection, "select 'ok'"));
    }

    [Fact]
    public async Task Prepared_statements_bind_every_parameter_type()
    {
        await using MySqlConnection connection = await OpenAsync();
        (object Value, string Cast, Func<object, object> Read)[] cases =
        [
            (42, "integer", v => Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture)),
            (9_000_000_000L, "bigint", v => v),
            ((short)-7, "smallint", v => Convert.ToInt16(v, System.Globalization.CultureInfo.InvariantCulture)),
            ((sbyte)-3, "tinyint", v => Convert.ToSByte(v, System.Globalization.CultureInfo.InvariantCulture)),
            ((byte)200, "utinyint", v => Convert.ToByte(v, System.Globalization.CultureInfo.InvariantCulture)),
            (uint.MaxValue, "uinteger", v => Convert.ToUInt32(v, System.Globalization.CultureInfo.InvariantCulture)),
            (ulong.MaxValue, "ubigint", v => v),
            (2.5, "double", v => v),
            (1.5f, "float", v => v),
            (123.456m, "decimal(10,3)", v => v),
            ("héllo", "varchar", v => v),
            (new byte[] { 0, 1, 0xFF }, "blob", v => v),
            (new DateTime(2024, 2, 29, 12, 34, 56, 789), "timestamp", v => v),
            (new DateTime(2024, 2, 29), "date", v => v),
            (new TimeSpan(0, 1, 2, 3, 400), "time", v => v),
            (true, "boolean", v => Convert.ToBoolean(v, System.Globalization.CultureInfo.InvariantCulture)),
        ];
        foreach (var c in cases)
        {
            await using var command = new MySqlCommand($"select cast(@p as {c.Cast}) as v, @p is null as n", connection);
            command.Parameters.AddWithValue("@p", c.Value);
            await command.PrepareAsync();
            await using MySqlDataReader reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync(), c.Cast);
            Assert.Equal(c.Value, c.Read(reader.GetValue(0)));
            Assert.False(reader.GetBoolean(1));
        }

        await using var nulls = new MySqlCommand("select cast(@p as integer) is null", connection);
        nulls.Parameters.AddWithValue("@p", DBNull.Value);
        await nulls.PrepareAsync();
        Assert.True(Convert.ToBoolean(await nulls.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));

        // Executing again reuses the statement (no new types sent by the connector when they match).
        await using var again = new MySqlCommand("select @a + @b", connection);
        again.Parameters.AddWithValue("@a", 1);
        again.Parameters.AddWithValue("@b", 2);
        await again.PrepareAsync();
        Assert.Equal(3, Convert.ToInt32(await again.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
        again.Parameters["@a"].Value = 40;
        Assert.Equal(42, Convert.ToInt32(await again.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Prepared_statement_errors_and_dml_report_affected_rows()
    {
        await using MySqlConnection connection = await OpenAsync();
        await using (var create = new MySqlCommand("create temp table ps(a integer, b varchar)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using var insert = new MySqlCommand("insert into ps values (@a, @b)", connection);
        insert.Parameters.AddWithValue("@a", 1);
        insert.Parameters.AddWithValue("@b", "x");
        await insert.PrepareAsync();
        Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        insert.Parameters["@a"].Value = 2;
        insert.Parameters["@b"].Value = DBNull.Value;
        Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        Assert.Equal(2L, await ScalarAsync(connection, "select count(*) from ps"));

        await using var bad = new MySqlCommand("select * from nowhere where a = @a", connection);
        bad.Parameters.AddWithValue("@a", 1);
        var error = await Assert.ThrowsAsync<MySqlException>(() => bad.PrepareAsync());
        Assert.Equal(1146, error.Number);
    }

    [Fact]
    public async Task Stream_parameters_travel_as_long_data_and_query_attributes_are_accepted()
    {
        await using MySqlConnection connection = await OpenAsync();
        byte[] blob = new byte[300_000];
        new Random(7).NextBytes(blob);

        // MySqlConnector sends a non-MemoryStream parameter with COM_STMT_SEND_LONG_DATA before COM_STMT_EXECUTE.
        await using (var command = new MySqlCommand("select cast(@p as blob)", connection))
        {
            command.Parameters.AddWithValue("@p", new BufferedStream(new MemoryStream(blob)));
            await command.PrepareAsync();
            Assert.Equal(blob, (byte[])(await command.ExecuteScalarAsync())!);
        }

        // Query attributes (CLIENT_QUERY_ATTRIBUTES) ride along with COM_QUERY and COM_STMT_EXECUTE.
        await using (var command = new MySqlCommand("select 'with attributes'", connection))
        {
            command.Attributes.SetAttribute("trace_id", "abc-123");
            command.Attributes.SetAttribute("retries", 2);
            Assert.Equal("with attributes", await command.ExecuteScalarAsync());
            await command.PrepareAsync();
            Assert.Equal("with attributes", await command.ExecuteScalarAsync());
        }
    }

    [Fact]
    public async Task Raw_client_prepare_long_data_reset_execute_and_close()
    {
        await using MySqlRawClient client = await MySqlRawClient.ConnectAsync(fixture.Edge.Port);
        await client.SendAsync([(byte)Com.StmtPrepare, .. "select cast(? as varchar) as v"u8]);
        MySqlPrepareOk ok = MySqlPrepareOk.Parse((await client.ReadAsync()).Payload);
        Assert.Equal((1, 1), (ok.ParameterCount, ok.ColumnCount));
        Assert.Equal("?", MySqlColumnDefinition.Parse((await client.ReadAsync()).Payload).Name);
        Assert.Equal("v", MySqlColumnDefinition.Parse((await client.ReadAsync()).Payload).Name);
        byte[] id = BitConverter.GetBytes(ok.StatementId);

        // Long data, then a reset that discards it.
        await client.SendAsync([(byte)Com.StmtSendLongData, .. id, 0, 0, .. "discarded"u8]);
        await client.SendAsync([(byte)Com.StmtReset, .. id]);
        Assert.True(MySqlPacketHeader.IsOk((await client.ReadAsync()).Payload));

        // Execute with an inline VAR_STRING value: binary result row.
        byte[] execute = [(byte)Com.StmtExecute, .. id, 0, 1, 0, 0, 0, 0, 1, (byte)MySqlColumnType.VarString, 0, 5, .. "hello"u8];
        await client.SendAsync(execute);
        (byte[] count, _) = await client.ReadAsync();
        Assert.Equal(1, count[0]);
        Assert.Equal("v", MySqlColumnDefinition.Parse((await client.ReadAsync()).Payload).Name);
        (byte[] row, _) = await client.ReadAsync();
        Assert.Equal([0x00, 0x00, 5, .. "hello"u8], row);
        Assert.True(MySqlPacketHeader.IsEndOfRows((await client.ReadAsync()).Payload, MySqlRawClient.Capabilities));

        // Long data for the next execute replaces the inline value.
        await client.SendAsync([(byte)Com.StmtSendLongData, .. id, 0, 0, .. "long "u8]);
        await client.SendAsync([(byte)Com.StmtSendLongData, .. id, 0, 0, .. "data"u8]);
        await client.SendAsync([(byte)Com.StmtExecute, .. id, 0, 1, 0, 0, 0, 0, 0]);
        await client.ReadAsync();
        await client.ReadAsync();
        (row, _) = await client.ReadAsync();
        Assert.Equal([0x00, 0x00, 9, .. "long data"u8], row);
        await client.ReadAsync();

        // Closed statements are unknown afterwards (COM_STMT_CLOSE has no reply).
        await client.SendAsync([(byte)Com.StmtClose, .. id]);
        await client.SendAsync(execute);
        MySqlErrPacket error = MySqlErrPacket.Parse((await client.ReadAsync()).Payload);
        Assert.Equal(1243, error.ErrorCode);
    }

    [Fact]
    public async Task Sysbench_read_only_runs_against_duckdb_without_errors()
    {
        await using (MySqlConnection connection = await OpenAsync("other"))
        {
            await using var setup = new MySqlCommand(
                "create or replace table sbtest1(id integer primary key, k integer not null default 0, c varchar(120) not null default '', pad varchar(60) not null default '');"
                + "insert into sbtest1 select i, (i * 7) % 1000, 'c-' || i::varchar, 'pad-' || i::varchar from range(1, 1001) t(i)", connection);
            await setup.ExecuteNonQueryAsync();
        }

        Tools.Result result = await Tools.RunAsync("sysbench",
        [
            "oltp_read_only", "--db-driver=mysql", "--mysql-host=127.0.0.1", $"--mysql-port={fixture.Edge.Port}", "--mysql-user=edge",
            "--mysql-db=other", "--mysql-ssl=off", "--tables=1", "--table-size=1000", "--threads=4", "--time=2", "run",
        ]);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Matches(@"ignored errors:\s+0\s", result.StdOut);
        Assert.Matches(@"transactions:\s+[1-9]", result.StdOut);
    }

    [Fact]
    public async Task Kill_query_from_another_connection_interrupts_the_statement()
    {
        await using MySqlConnection victim = await OpenAsync();
        await using MySqlConnection killer = await OpenAsync();
        int id = victim.ServerThread;
        Assert.Equal((long)id, await ScalarAsync(victim, "select connection_id()"));

        await using var slow = new MySqlCommand("select count(*) from range(100000000000) a(x) where x % 7 = 3", victim);
        Task<object?> running = slow.ExecuteScalarAsync();
        var watch = Stopwatch.StartNew();
        while (!running.IsCompleted && watch.Elapsed < TimeSpan.FromSeconds(2))
        {
            await Task.Delay(50);
        }

        Assert.False(running.IsCompleted);
        await using (var kill = new MySqlCommand($"KILL QUERY {id}", killer))
        {
            await kill.ExecuteNonQueryAsync();
        }

        var error = await Assert.ThrowsAsync<MySqlException>(() => running);
        Assert.Equal((1317, "70100"), (error.Number, error.SqlState));
        Assert.Contains("interrupted", error.Message, StringComparison.Ordinal);
        Assert.Equal("alive", await ScalarAsync(victim, "select 'alive'"));

        var unknown = await Assert.ThrowsAsync<MySqlException>(async () =>
        {
            await using var kill = new MySqlCommand("KILL QUERY 4000000000", killer);
            await kill.ExecuteNonQueryAsync();
        });
        Assert.Equal(1094, unknown.Number);
    }

    [Fact]
    public async Task Kill_connection_ends_the_other_session()
    {
        await using MySqlConnection victim = await OpenAsync();
        await using MySqlConnection killer = await OpenAsync();
        await using (var kill = new MySqlCommand($"KILL {victim.ServerThread}", killer))
        {
            await kill.ExecuteNonQueryAsync();
        }

        await Assert.ThrowsAnyAsync<Exception>(() => ScalarAsync(victim, "select 1"));
    }

    [Fact]
    public async Task Command_timeout_cancels_through_kill_query()
    {
        // MySqlConnector implements CommandTimeout by sending KILL QUERY on a second connection.
        await using MySqlConnection connection = await OpenAsync();
        await using var slow = new MySqlCommand("select count(*) from range(100000000000) a(x) where x % 7 = 3", connection) { CommandTimeout = 1 };
        var error = await Assert.ThrowsAsync<MySqlException>(() => slow.ExecuteScalarAsync());
        Assert.True(error.ErrorCode is MySqlErrorCode.QueryInterrupted or MySqlErrorCode.CommandTimeoutExpired, error.ToString());
        Assert.Equal("still here", await ScalarAsync(connection, "select 'still here'"));
    }

    [Fact]
    public async Task Group_statement_timeout_gives_error_3024()
    {
        await using MySqlConnection connection = await OpenAsync("slow");
        var error = await Assert.ThrowsAsync<MySqlException>(() => ScalarAsync(connection, "select count(*) from range(100000000000) a(x) where x % 7 = 3"));
        Assert.Equal((3024, "HY000"), (error.Number, error.SqlState));
        Assert.Equal(1L, await ScalarAsync(connection, "select 1::bigint"));
    }

    [Fact]
    public async Task Packets_over_16_MiB_travel_both_ways()
    {
        await using MySqlConnection connection = await OpenAsync();
        string big = new('x', (17 * 1024 * 1024) + 3);

        // In: a 17 MiB COM_QUERY (the connector inlines the parameter) and a 17 MiB COM_STMT_EXECUTE.
        await using (var text = new MySqlCommand("select length(@p)", connection))
        {
            text.Parameters.AddWithValue("@p", big);
            Assert.Equal((long)big.Length, await text.ExecuteScalarAsync());
        }

        await using (var prepared = new MySqlCommand("select length(cast(@p as varchar))", connection))
        {
            prepared.Parameters.AddWithValue("@p", big);
            await prepared.PrepareAsync();
            Assert.Equal((long)big.Length, await prepared.ExecuteScalarAsync());
        }

        // Out: a 17 MiB row, text and binary.
        Assert.Equal(big.Length, ((string)(await ScalarAsync(connection, $"select repeat('x', {big.Length})"))!).Length);
        await using (var binary = new MySqlCommand("select repeat('y', @n)", connection))
        {
            binary.Parameters.AddWithValue("@n", big.Length);
            await binary.PrepareAsync();
            string value = (string)(await binary.ExecuteScalarAsync())!;
            Assert.Equal(big.Length, value.Length);
            Assert.All(value[..100], c => Assert.Equal('y', c));
        }
    }

    [Fact]
    public async Task Ping_reset_and_transactions_work()
    {
        await using MySqlConnection connection = await OpenAsync();
        Assert.True(await connection.PingAsync());
        await using (var command = new MySqlCommand("create temp table tx(a integer)", connection))
        {
            await command.ExecuteNonQueryAsync();
        }

        await using (MySqlTransaction transaction = await connection.BeginTransactionAsync())
        {
            await using var insert = new MySqlCommand("insert into tx values (1)", connection, transaction);
            await insert.ExecuteNonQueryAsync();
            await transaction.RollbackAsync();
        }

        Assert.Equal(0L, await ScalarAsync(connection, "select count(*) from tx"));
        await using (MySqlTransaction transaction = await connection.BeginTransactionAsync())
        {
            await using var insert = new MySqlCommand("insert into tx values (2)", connection, transaction);
            await insert.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
        }

        Assert.Equal(1L, await ScalarAsync(connection, "select count(*) from tx"));
        await connection.ResetConnectionAsync();
        Assert.Equal("utf8mb4", await ScalarAsync(connection, "select @@character_set_client"));
    }

    [Fact]
    public async Task Raw_client_field_list_statistics_and_quit()
    {
        await using MySqlConnection setup = await OpenAsync();
        await using (var create = new MySqlCommand("create table if not exists fl(id integer, name varchar)", setup))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using MySqlRawClient client = await MySqlRawClient.ConnectAsync(fixture.Edge.Port);
        await client.SendAsync([(byte)Com.FieldList, .. "fl"u8, 0]);
        var columns = new List<MySqlColumnDefinition>();
        while (true)
        {
            (byte[] payload, _) = await client.ReadAsync();
            if (MySqlPacketHeader.IsEndOfRows(payload, MySqlRawClient.Capabilities))
            {
                break;
            }

            columns.Add(MySqlColumnDefinition.Parse(payload));
        }

        Assert.Equal(["id", "name"], columns.Select(c => c.Name));
        Assert.Equal(MySqlColumnType.Long, columns[0].Type);
        Assert.Equal("fl", columns[0].Table);

        await client.SendAsync([(byte)Com.Statistics]);
        string statistics = System.Text.Encoding.UTF8.GetString((await client.ReadAsync()).Payload);
        Assert.StartsWith("Uptime: ", statistics, StringComparison.Ordinal);
        Assert.Contains("Threads: ", statistics, StringComparison.Ordinal);

        await client.SendAsync([(byte)Com.Query, .. "select 1; select 2"u8]);
        (byte[] first, _) = await client.ReadAsync();
        var (_, rows, end) = await client.ReadResultSetAsync(first);
        Assert.Equal("1", rows.Single()[0]);
        Assert.True((MySqlOkPacket.Parse(end, MySqlRawClient.Capabilities).Status & MySqlServerStatus.MoreResultsExist) != 0);
        (byte[] second, _) = await client.ReadAsync();
        (_, _, end) = await client.ReadResultSetAsync(second);
        Assert.True((MySqlOkPacket.Parse(end, MySqlRawClient.Capabilities).Status & MySqlServerStatus.MoreResultsExist) == 0);

        await client.SendAsync([(byte)Com.Quit]);
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task Bad_input_gets_an_error_and_the_connection_closes()
    {
        // A command with sequence id 5.
        await using (MySqlRawClient client = await MySqlRawClient.ConnectAsync(fixture.Edge.Port))
        {
            await client.SendAsync([(byte)Com.Ping], sequence: 5);
            MySqlErrPacket error = MySqlErrPacket.Parse((await client.ReadAsync()).Payload);
            Assert.Equal((1156, "08S01"), (error.ErrorCode, error.SqlState));
            Assert.True(await client.IsClosedAsync());
        }

        // A truncated COM_STMT_EXECUTE.
        await using (MySqlRawClient client = await MySqlRawClient.ConnectAsync(fixture.Edge.Port))
        {
            await client.SendAsync([(byte)Com.StmtExecute, 1]);
            MySqlErrPacket error = MySqlErrPacket.Parse((await client.ReadAsync()).Payload);
            Assert.Equal(1156, error.ErrorCode);
            Assert.True(await client.IsClosedAsync());
        }

        // Garbage instead of a handshake response.
        await using (MySqlRawClient client = await MySqlRawClient.ConnectAsync(fixture.Edge.Port, login: false))
        {
            await client.SendRawAsync([3, 0, 0, 1, 1, 2, 3]);
            MySqlErrPacket error = MySqlErrPacket.Parse((await client.ReadAsync()).Payload);
            Assert.Equal(1156, error.ErrorCode);
            Assert.True(await client.IsClosedAsync());
        }

        // Edge is still serving.
        await using MySqlConnection connection = await OpenAsync();
        Assert.Equal("fine", await ScalarAsync(connection, "select 'fine'"));
    }
}

/// <summary>Authentication methods and limits of the MySQL front door, each with its own Edge.</summary>
public sealed class MySqlFrontDoorAuthTests
{
    private const string Password = "s3cret-Pa55";

    private static readonly byte[] FullAuthentication = [MySqlAuthPackets.AuthMoreDataHeader, MySqlAuthPackets.PerformFullAuthentication];

    private static readonly byte[] FastAuthentication = [MySqlAuthPackets.AuthMoreDataHeader, MySqlAuthPackets.FastAuthSuccess];

    private static async Task<string> HashAsync(params string[] arguments)
    {
        Tools.Result result = await Tools.RunAsync(EdgeProcess.BinaryPath, ["hash-password", .. arguments], stdin: Password + "\n");
        Assert.True(result.ExitCode == 0, result.All);
        return result.StdOut.Trim();
    }

    private static async Task<(EdgeProcess Edge, string Directory)> StartAsync(string auth, bool tls = false, string limits = "", bool tlsRequired = false)
    {
        string scram = await HashAsync();
        string native = await HashAsync("--mysql-native");
        string directory = System.IO.Directory.CreateTempSubdirectory("edge-mysql-tls").FullName;
        string tlsYaml = "";
        if (tls)
        {
            string cert = Path.Combine(directory, "cert.pem");
            string key = Path.Combine(directory, "key.pem");
            Tools.Result openssl = await Tools.RunAsync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"]);
            Assert.True(openssl.ExitCode == 0, openssl.All);
            tlsYaml = $"    tls:\n      certificate: {cert}\n      key: {key}\n      required: {(tlsRequired ? "true" : "false")}\n";
        }

        string config = $"""
            listeners:
              my:
                protocol: mysql
                address: 127.0.0.1:{"{PORT}"}
                auth: {auth}
            {tlsYaml}{limits}
            users:
              alice:
                scram: "{scram}"
                mysql_native: "{native}"
              bob:
                scram: "{scram}"
            clusters:
              duckdb:
                engine: duckdb
            groups:
              local:
                clusters: [duckdb]
            routing:
              default_group: local
            """;
        return (await EdgeProcess.StartAsync(config), directory);
    }

    private static async Task<string?> WhoAmIAsync(int port, string user, string password, string extra = "")
    {
        await using var connection = new MySqlConnection(MySqlConnectionStrings.For(port, user, "local", $"Password={password}{(extra.Length > 0 ? ";" + extra : "")}"));
        await connection.OpenAsync();
        await using var command = new MySqlCommand("select current_user()", connection);
        return (string?)await command.ExecuteScalarAsync();
    }

    [Fact]
    public async Task Native_password_accepts_the_right_password_only()
    {
        (EdgeProcess edge, string directory) = await StartAsync("mysql_native_password");
        await using (edge)
        {
            Assert.Equal("alice@%", await WhoAmIAsync(edge.Port, "alice", Password));
            var wrong = await Assert.ThrowsAsync<MySqlException>(() => WhoAmIAsync(edge.Port, "alice", "nope"));
            Assert.Equal((1045, "28000"), (wrong.Number, wrong.SqlState));
            Assert.Contains("Access denied for user 'alice'@'127.0.0.1' (using password: YES)", wrong.Message, StringComparison.Ordinal);
            var unknown = await Assert.ThrowsAsync<MySqlException>(() => WhoAmIAsync(edge.Port, "mallory", Password));
            Assert.Equal(1045, unknown.Number);

            // The mysql CLI (MariaDB client, mysql_native_password by default).
            Tools.Result cli = await Tools.RunAsync("mysql", ["--protocol=TCP", "-h127.0.0.1", $"-P{edge.Port}", "-ualice", $"-p{Password}", "--batch", "--skip-ssl", "-e", "select 'cli in'"]);
            Assert.True(cli.ExitCode == 0, cli.All);
            Assert.Contains("cli in", cli.StdOut, StringComparison.Ordinal);
            Tools.Result cliWrong = await Tools.RunAsync("mysql", ["--protocol=TCP", "-h127.0.0.1", $"-P{edge.Port}", "-ualice", "-pwrong", "--batch", "--skip-ssl", "-e", "select 1"]);
            Assert.Contains("ERROR 1045 (28000)", cliWrong.StdErr, StringComparison.Ordinal);
        }

        System.IO.Directory.Delete(directory, true);
    }

    /// <summary>
    /// The first caching_sha2_password answer a raw client gets for <paramref name="password"/>: [1, 3] (fast path
    /// succeeded), [1, 4] (full authentication needed) or an ERR.
    /// </summary>
    private static async Task<byte[]> Sha2FirstReplyAsync(int port, string password)
    {
        await using MySqlRawClient client = await MySqlRawClient.ConnectAsync(port, login: false);
        byte[] answer = LakeOps.Edge.Core.Security.CachingSha2Password.ComputeClientResponse(password, client.Handshake.Scramble);
        return await client.SendLoginAsync("alice", answer, MySqlAuthPackets.CachingSha2Password);
    }

    [Fact]
    public async Task Caching_sha2_full_auth_over_tls_then_fast_path_without_tls()
    {
        (EdgeProcess edge, string directory) = await StartAsync("caching_sha2_password", tls: true);
        await using (edge)
        {
            // Nothing cached yet: the server asks for full authentication.
            Assert.Equal(FullAuthentication, await Sha2FirstReplyAsync(edge.Port, Password));

            // Full authentication: the password in cleartext over TLS, checked against the SCRAM verifier.
            Assert.Equal("alice@%", await WhoAmIAsync(edge.Port, "alice", Password, "SslMode=Required"));

            // Cached now: the SHA-256 fast path succeeds without TLS, and the connector gets in without the RSA key.
            Assert.Equal(FastAuthentication, await Sha2FirstReplyAsync(edge.Port, Password));
            Assert.Equal("alice@%", await WhoAmIAsync(edge.Port, "alice", Password, "SslMode=None"));

            // A wrong password against the cache is refused at once.
            byte[] refused = await Sha2FirstReplyAsync(edge.Port, "nope");
            Assert.Equal(1045, MySqlErrPacket.Parse(refused).ErrorCode);
            var wrong = await Assert.ThrowsAsync<MySqlException>(() => WhoAmIAsync(edge.Port, "alice", "nope", "SslMode=Required"));
            Assert.True((1045, "28000") == (wrong.Number, wrong.SqlState), wrong.ToString() + edge.Log);

            // The mysql CLI over TLS with caching_sha2_password.
            Tools.Result cli = await Tools.RunAsync("mysql", ["--protocol=TCP", "-h127.0.0.1", $"-P{edge.Port}", "-ualice", $"-p{Password}", "--batch", "--ssl",
                "--default-auth=caching_sha2_password", "-e", "select 'cli sha2'"]);
            Assert.True(cli.ExitCode == 0, cli.All);
            Assert.Contains("cli sha2", cli.StdOut, StringComparison.Ordinal);
        }

        System.IO.Directory.Delete(directory, true);
    }

    [Fact]
    public async Task A_listener_that_requires_tls_refuses_plain_connections()
    {
        (EdgeProcess edge, string directory) = await StartAsync("mysql_native_password", tls: true, tlsRequired: true);
        await using (edge)
        {
            var plain = await Assert.ThrowsAsync<MySqlException>(() => WhoAmIAsync(edge.Port, "alice", Password, "SslMode=None"));
            Assert.Equal(3159, plain.Number);
            Assert.Equal("alice@%", await WhoAmIAsync(edge.Port, "alice", Password, "SslMode=Required"));
        }

        System.IO.Directory.Delete(directory, true);
    }

    [Fact]
    public async Task Caching_sha2_full_auth_with_the_rsa_public_key()
    {
        (EdgeProcess edge, string directory) = await StartAsync("caching_sha2_password");
        await using (edge)
        {
            var wrong = await Assert.ThrowsAsync<MySqlException>(() => WhoAmIAsync(edge.Port, "alice", "nope", "SslMode=None;AllowPublicKeyRetrieval=true"));
            Assert.Equal(1045, wrong.Number);
            Assert.Equal(FullAuthentication, await Sha2FirstReplyAsync(edge.Port, Password));

            // No TLS: the connector asks for the public key (0x02) and sends the password RSA-OAEP encrypted.
            Assert.Equal("alice@%", await WhoAmIAsync(edge.Port, "alice", Password, "SslMode=None;AllowPublicKeyRetrieval=true"));

            // And the fast path afterwards.
            Assert.Equal(FastAuthentication, await Sha2FirstReplyAsync(edge.Port, Password));

            // A client that sends its password in cleartext without TLS (bob is not cached) is refused.
            await using MySqlRawClient client = await MySqlRawClient.ConnectAsync(edge.Port, login: false);
            byte[] answer = LakeOps.Edge.Core.Security.CachingSha2Password.ComputeClientResponse(Password, client.Handshake.Scramble);
            Assert.Equal(FullAuthentication,
                await client.SendLoginAsync("bob", answer, MySqlAuthPackets.CachingSha2Password));
            await client.SendAsync([.. System.Text.Encoding.UTF8.GetBytes(Password), 0], sequence: 3);
            Assert.Equal(1045, MySqlErrPacket.Parse((await client.ReadAsync()).Payload).ErrorCode);
        }

        System.IO.Directory.Delete(directory, true);
    }

    /// <summary>A raw login, retried while the server still counts just-closed connections against max_connections.</summary>
    private static async Task<MySqlRawClient> ConnectWhenAcceptedAsync(int port)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            MySqlRawClient client = await MySqlRawClient.ConnectAsync(port);
            if (client.FirstError is null || DateTime.UtcNow > deadline)
            {
                return client;
            }

            await client.DisposeAsync();
            await Task.Yield();
        }
    }

    /// <summary>A connector login, retried on 1040 while the server still counts just-closed connections.</summary>
    private static async Task<MySqlConnection> OpenWhenAcceptedAsync(int port)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var connection = new MySqlConnection(MySqlConnectionStrings.For(port, "edge"));
            try
            {
                await connection.OpenAsync();
                return connection;
            }
            catch (MySqlException error) when (error.Number == 1040 && DateTime.UtcNow < deadline)
            {
                await connection.DisposeAsync();
                await Task.Yield();
            }
        }
    }

    [Fact]
    public async Task Limits_connections_over_the_limit_get_1040_and_oversized_packets_1153()
    {
        (EdgeProcess edge, string directory) = await StartAsync("trust", limits: "    limits:\n      max_connections: 2\n      max_message_size: 1MiB\n");
        await using (edge)
        {
            await using (var first = new MySqlConnection(MySqlConnectionStrings.For(edge.Port, "edge")))
            await using (var second = new MySqlConnection(MySqlConnectionStrings.For(edge.Port, "edge")))
            {
                await first.OpenAsync();
                await second.OpenAsync();
                await using var third = new MySqlConnection(MySqlConnectionStrings.For(edge.Port, "edge"));
                var error = await Assert.ThrowsAsync<MySqlException>(() => third.OpenAsync());
                Assert.Equal(1040, error.Number);
            }

            // A 16 MiB header is refused as soon as it arrives: ERR 1153, then the connection closes.
            // (The connections above free their slots asynchronously, hence the retrying connect.)
            await using (MySqlRawClient client = await ConnectWhenAcceptedAsync(edge.Port))
            {
                await client.SendRawAsync([0xFF, 0xFF, 0xFF, 0, (byte)Com.Query, .. "select 1"u8]);
                MySqlErrPacket error = MySqlErrPacket.Parse((await client.ReadAsync()).Payload);
                Assert.Equal((1153, "08S01"), (error.ErrorCode, error.SqlState));
                Assert.Contains("max_message_size", error.Message, StringComparison.Ordinal);
                Assert.True(await client.IsClosedAsync());
            }

            // A query just over the limit through the connector (the raw client's slot, too, frees asynchronously).
            await using MySqlConnection connection = await OpenWhenAcceptedAsync(edge.Port);
            await using var big = new MySqlCommand("select length(@p)", connection);
            big.Parameters.AddWithValue("@p", new string('z', 1024 * 1024));
            var tooLarge = await Assert.ThrowsAsync<MySqlException>(() => big.ExecuteScalarAsync());
            Assert.Equal(1153, tooLarge.Number);
        }

        System.IO.Directory.Delete(directory, true);
    }
}

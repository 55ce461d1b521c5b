using System.Data.SqlTypes;
using System.Globalization;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Tests.Shared;
using static LakeOps.Edge.Engines.Tests.MySql.MySqlTestSupport;

namespace LakeOps.Edge.Engines.Tests.MySql;

/// <summary>Engine sessions: streaming, errors, transaction pooling, state replay, prepared statements, cancel and faults.</summary>
public sealed class MySqlSessionTests : IAsyncLifetime
{
    private MariaDbTestServer _server = null!;
    private MySqlEngine _engine = null!;

    public async Task InitializeAsync()
    {
        _server = await MariaDbTestServer.GetAsync();
        _engine = new MySqlEngine(Cluster(_server, maxSize: 4));
    }

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    private static long Long(object? value) => Convert.ToInt64(value, CultureInfo.InvariantCulture);

    private static string NewTable() => "t_" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_large_result_streams_in_bounded_batches()
    {
        await using IEngineSession session = await OpenAsync(_engine);
        const int total = 50_000;
        await RowsAsync(session, "SET SESSION max_recursive_iterations = 1000000");
        await using IQueryResult result = await session.ExecuteAsync(
            $"WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {total}) SELECT x, REPEAT('y', 100) AS pad FROM n",
            CancellationToken.None);
        int batches = 0;
        long rows = 0;
        long sum = 0;
        while (await result.ReadBatchAsync(CancellationToken.None) is { } batch)
        {
            batches++;
            Assert.InRange(batch.Length, 1, MySqlQueryResult.MaxBatchRows);
            for (int i = 0; i < batch.Length; i++)
            {
                sum += Long(ArrowValue(batch.Column(0), i));
            }

            rows += batch.Length;
        }

        Assert.Equal(total, rows);
        Assert.Equal((long)total * (total + 1) / 2, sum);
        Assert.True(batches >= total / MySqlQueryResult.MaxBatchRows);
    }

    [Fact]
    public async Task A_result_abandoned_early_leaves_the_session_usable()
    {
        await using IEngineSession session = await OpenAsync(_engine);
        await RowsAsync(session, "SET SESSION max_recursive_iterations = 1000000");
        IQueryResult result = await session.ExecuteAsync("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000) SELECT x FROM n", CancellationToken.None);
        Assert.NotNull(await result.ReadBatchAsync(CancellationToken.None));
        await result.DisposeAsync();
        Assert.Equal(7L, Long(await ScalarAsync(session, "SELECT 7")));
    }

    [Fact]
    public async Task Errors_keep_the_servers_sqlstate_and_message()
    {
        await using IEngineSession session = await OpenAsync(_engine);
        EngineException missing = await Assert.ThrowsAsync<EngineException>(async () => await RowsAsync(session, "SELECT * FROM no_such_table_here"));
        Assert.Equal("42S02", missing.SqlState);
        Assert.Contains("no_such_table_here", missing.Message, StringComparison.Ordinal);
        Assert.Equal(1146, missing.Data[MySqlErrors.ErrorCodeKey]);

        EngineException syntax = await Assert.ThrowsAsync<EngineException>(async () => await RowsAsync(session, "SELEC 1"));
        Assert.Equal("42000", syntax.SqlState);

        string table = NewTable();
        await RowsAsync(session, $"CREATE TABLE {table} (id INT PRIMARY KEY)");
        await RowsAsync(session, $"INSERT INTO {table} VALUES (1)");
        EngineException duplicate = await Assert.ThrowsAsync<EngineException>(async () => await RowsAsync(session, $"INSERT INTO {table} VALUES (1)"));
        Assert.Equal("23000", duplicate.SqlState);
        await RowsAsync(session, $"DROP TABLE {table}");

        // A runtime error in the middle of the rows.
        EngineException midRows = await Assert.ThrowsAsync<EngineException>(async () =>
            await RowsAsync(session, "SELECT IF(x < 3, x, (SELECT 1 UNION SELECT 2)) FROM (SELECT 1 AS x UNION SELECT 2 UNION SELECT 3) t"));
        Assert.Equal("21000", midRows.SqlState);
        Assert.Equal(5L, Long(await ScalarAsync(session, "SELECT 5")));
        Assert.Equal(0, _engine.Pool.Statistics.InUse);
    }

    [Fact]
    public async Task Rows_affected_come_from_the_ok_packet()
    {
        await using IEngineSession session = await OpenAsync(_engine);
        string table = NewTable();
        await RowsAsync(session, $"CREATE TABLE {table} (id INT)");
        await using (IQueryResult insert = await session.ExecuteAsync($"INSERT INTO {table} VALUES (1), (2), (3)", CancellationToken.None))
        {
            Assert.False(insert.ReturnsRows);
            Assert.Null(await insert.ReadBatchAsync(CancellationToken.None));
            Assert.Equal(3, insert.RowsAffected);
        }

        await using (IQueryResult update = await session.ExecuteAsync($"UPDATE {table} SET id = id + 1 WHERE id > 1", CancellationToken.None))
        {
            Assert.Equal(2, update.RowsAffected);
        }

        await RowsAsync(session, $"DROP TABLE {table}");
    }

    [Fact]
    public async Task A_transaction_holds_one_connection_until_commit()
    {
        await using IEngineSession session = await OpenAsync(_engine);
        await using IEngineSession other = await OpenAsync(_engine);
        var mysql = (MySqlEngineSession)session;
        string table = NewTable();
        await RowsAsync(session, $"CREATE TABLE {table} (id INT) ENGINE=InnoDB");
        Assert.Null(mysql.HeldConnection);

        await RowsAsync(session, "START TRANSACTION");
        MySqlServerConnection? held = mysql.HeldConnection;
        Assert.NotNull(held);
        object? id1 = await ScalarAsync(session, "SELECT CONNECTION_ID()");
        await RowsAsync(session, $"INSERT INTO {table} VALUES (1)");

        // Other sessions run meanwhile on other connections and do not see the uncommitted row.
        Assert.Equal(0L, Long(await ScalarAsync(other, $"SELECT COUNT(*) FROM {table}")));
        object? id2 = await ScalarAsync(session, "SELECT CONNECTION_ID()");
        Assert.Equal(id1, id2);
        Assert.Same(held, mysql.HeldConnection);

        await RowsAsync(session, "COMMIT");
        Assert.Null(mysql.HeldConnection);
        Assert.Equal(1L, Long(await ScalarAsync(other, $"SELECT COUNT(*) FROM {table}")));

        // Autocommit off holds the connection too, until it is switched back on.
        await RowsAsync(session, "SET autocommit = 0");
        Assert.NotNull(mysql.HeldConnection);
        await RowsAsync(session, $"INSERT INTO {table} VALUES (2)");
        await RowsAsync(session, "ROLLBACK");
        Assert.NotNull(mysql.HeldConnection);
        await RowsAsync(session, "SET autocommit = 1");
        Assert.Null(mysql.HeldConnection);
        Assert.Equal(1L, Long(await ScalarAsync(other, $"SELECT COUNT(*) FROM {table}")));
        await RowsAsync(session, $"DROP TABLE {table}");
    }

    [Fact]
    public async Task Closing_a_session_in_a_transaction_rolls_it_back()
    {
        await using IEngineSession checker = await OpenAsync(_engine);
        string table = NewTable();
        await RowsAsync(checker, $"CREATE TABLE {table} (id INT) ENGINE=InnoDB");
        IEngineSession session = await OpenAsync(_engine);
        await RowsAsync(session, "BEGIN");
        await RowsAsync(session, $"INSERT INTO {table} VALUES (1)");
        await session.DisposeAsync();

        Assert.Equal(0L, Long(await ScalarAsync(checker, $"SELECT COUNT(*) FROM {table}")));
        Assert.Equal(0, _engine.Pool.Statistics.InUse);
        await RowsAsync(checker, $"DROP TABLE {table}");
    }

    [Fact]
    public async Task Set_and_use_follow_the_session_to_another_connection()
    {
        await using var engine = new MySqlEngine(Cluster(_server, maxSize: 4));
        await using IEngineSession a = await OpenAsync(engine);
        await using IEngineSession b = await OpenAsync(engine);
        await RowsAsync(a, "SET SESSION sql_mode = 'ANSI_QUOTES'");
        await RowsAsync(a, "SET @@session.max_join_size = 12345");
        await RowsAsync(a, "USE mysql");
        object? first = await ScalarAsync(a, "SELECT CONNECTION_ID()");

        // b takes the connection a just used (the pool is LIFO) and keeps it in a transaction.
        await RowsAsync(b, "BEGIN");
        object? bConnection = await ScalarAsync(b, "SELECT CONNECTION_ID()");
        Assert.Equal(first, bConnection);

        // b must not see a's settings there ...
        List<object?[]> bState = await RowsAsync(b, "SELECT @@sql_mode, @@max_join_size, DATABASE()");
        Assert.DoesNotContain("ANSI_QUOTES", (string?)bState[0][0] ?? "", StringComparison.Ordinal);
        Assert.Equal(_server.Database, bState[0][2]);

        // ... and a gets them replayed on a new connection.
        List<object?[]> aState = await RowsAsync(a, "SELECT @@sql_mode, @@max_join_size, DATABASE(), CONNECTION_ID()");
        Assert.NotEqual(first, aState[0][3]);
        Assert.Equal("ANSI_QUOTES", aState[0][0]);
        Assert.Equal(12345UL, Convert.ToUInt64(aState[0][1], CultureInfo.InvariantCulture));
        Assert.Equal("mysql", aState[0][2]);
        Assert.Equal("+00:00", await ScalarAsync(a, "SELECT @@time_zone"));
        await RowsAsync(b, "COMMIT");
    }

    [Fact]
    public async Task Temporary_tables_pin_the_session_to_its_connection()
    {
        await using IEngineSession session = await OpenAsync(_engine);
        var mysql = (MySqlEngineSession)session;
        await RowsAsync(session, "CREATE TEMPORARY TABLE tmp_pinned (x INT)");
        Assert.True(mysql.State.IsPinned);
        Assert.NotNull(mysql.HeldConnection);
        await RowsAsync(session, "INSERT INTO tmp_pinned VALUES (42)");
        Assert.Equal(42, await ScalarAsync(session, "SELECT x FROM tmp_pinned"));
    }

    [Fact]
    public async Task Several_statements_in_one_call_are_rejected()
    {
        await using IEngineSession session = await OpenAsync(_engine);
        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await RowsAsync(session, "SELECT 1; SELECT 2"));
        Assert.Equal(SqlStates.FeatureNotSupported, error.SqlState);

        // A trailing semicolon and comments are one statement.
        Assert.Equal(3L, Long(await ScalarAsync(session, "SELECT 3; -- done")));
        Assert.Equal("a;b", await ScalarAsync(session, "SELECT 'a;b' /* ; */"));
    }

    [Fact]
    public async Task Set_names_is_accepted_and_ignored()
    {
        await using IEngineSession session = await OpenAsync(_engine);
        await RowsAsync(session, "SET NAMES latin1");
        Assert.Equal("ü", await ScalarAsync(session, "SELECT 'ü'"));
        Assert.Equal("utf8mb4", await ScalarAsync(session, "SELECT @@character_set_results"));
    }

    [Fact]
    public async Task Prepared_statements_bind_every_parameter_type()
    {
        await using IEngineSession session = await OpenAsync(_engine);
        string table = NewTable();
        await RowsAsync(session, $"""
            CREATE TABLE {table} (b BOOL, s SMALLINT, i INT, l BIGINT, f FLOAT, d DOUBLE, m DECIMAL(20,4), t VARCHAR(40), y VARBINARY(8),
              dt DATE, tm TIME(6), ts DATETIME(6), tz DATETIME(6), j JSON, u CHAR(36), n INT, iv TIME(6))
            """);
        using IPreparedStatement insert = await session.PrepareAsync($"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", CancellationToken.None);
        Assert.Equal(17, insert.ParameterTypes.Count);
        Assert.False(insert.ReturnsRows);
        var guid = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        long micros = ((new DateTime(2020, 5, 6, 7, 8, 9, DateTimeKind.Utc).Ticks - DateTime.UnixEpoch.Ticks) / 10) + 123456;
        ParameterValue[] values =
        [
            ParameterValue.FromBoolean(true), ParameterValue.FromInt16(-7), ParameterValue.FromInt32(123456), ParameterValue.FromInt64(-9_000_000_000L),
            ParameterValue.FromFloat32(1.25f), ParameterValue.FromFloat64(-3.5), ParameterValue.FromDecimalText("-1234.5678"), ParameterValue.FromText("zoë"),
            ParameterValue.FromBytes([1, 2, 255]), ParameterValue.FromDate(-1), ParameterValue.FromTime((13 * 3600 + 14 * 60 + 15) * 1_000_000L + 5),
            ParameterValue.FromTimestamp(micros), ParameterValue.FromTimestampTz(micros), ParameterValue.FromJson("{\"k\": 1}"), ParameterValue.FromUuid(guid),
            ParameterValue.Null, ParameterValue.FromInterval(0, 1, 1_000_000),
        ];
        await using (IQueryResult r = await insert.ExecuteAsync(values, CancellationToken.None))
        {
            Assert.Equal(1, r.RowsAffected);
        }

        List<object?[]> rows = await RowsAsync(session, $"SELECT b, s, i, l, f, d, m, t, y, dt, tm, ts, tz, j, u, n FROM {table}");
        object?[] row = rows[0];
        Assert.Equal((sbyte)1, row[0]);
        Assert.Equal((short)-7, row[1]);
        Assert.Equal(123456, row[2]);
        Assert.Equal(-9_000_000_000L, row[3]);
        Assert.Equal(1.25f, row[4]);
        Assert.Equal(-3.5, row[5]);
        Assert.Equal(SqlDecimal.Parse("-1234.5678"), row[6]);
        Assert.Equal("zoë", row[7]);
        Assert.Equal(new byte[] { 1, 2, 255 }, row[8]);
        Assert.Equal(new DateOnly(1969, 12, 31), row[9]);
        Assert.Equal(new TimeOnly(13, 14, 15, 0, 5), row[10]);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddTicks(micros * 10), row[11]);
        Assert.Equal(row[11], row[12]);
        Assert.Equal("{\"k\": 1}", row[13]);
        Assert.Equal(guid.ToString(), row[14]);
        Assert.Null(row[15]);

        // TIME with days: 24:00:01 is outside a time of day; read it back as text.
        Assert.Equal("24:00:01.000000", await ScalarAsync(session, $"SELECT CAST(iv AS CHAR) FROM {table}"));

        // Select with parameters, executed several times.
        using IPreparedStatement select = await session.PrepareAsync($"SELECT t, i FROM {table} WHERE i = ? AND t = ?", CancellationToken.None);
        Assert.Equal(["t", "i"], select.ResultSchema.FieldsList.Select(f => f.Name));
        for (int k = 0; k < 3; k++)
        {
            await using IQueryResult found = await select.ExecuteAsync(new[] { ParameterValue.FromInt32(123456), ParameterValue.FromText("zoë") }, CancellationToken.None);
            Assert.Single(await ReadAllAsync(found));
            await using IQueryResult none = await select.ExecuteAsync(new[] { ParameterValue.FromInt32(1), ParameterValue.FromText("zoë") }, CancellationToken.None);
            Assert.Empty(await ReadAllAsync(none));
        }

        EngineException wrongCount = await Assert.ThrowsAsync<EngineException>(async () => await select.ExecuteAsync(new[] { ParameterValue.FromInt32(1) }, CancellationToken.None));
        Assert.Contains("2 parameters", wrongCount.Message, StringComparison.Ordinal);
        EngineException array = await Assert.ThrowsAsync<EngineException>(async () =>
            await select.ExecuteAsync(new[] { ParameterValue.FromArray([ParameterValue.FromInt32(1)]), ParameterValue.Null }, CancellationToken.None));
        Assert.Equal(SqlStates.FeatureNotSupported, array.SqlState);
        Assert.Equal(1L, Long(await ScalarAsync(session, "SELECT 1")));
        await RowsAsync(session, $"DROP TABLE {table}");
    }

    [Fact]
    public async Task A_prepared_statement_is_prepared_again_on_another_connection()
    {
        await using var engine = new MySqlEngine(Cluster(_server, maxSize: 4));
        await using IEngineSession a = await OpenAsync(engine);
        await using IEngineSession b = await OpenAsync(engine);
        using IPreparedStatement statement = await a.PrepareAsync("SELECT CONNECTION_ID() + ? - ?", CancellationToken.None);
        ParameterValue[] zero = [ParameterValue.FromInt32(5), ParameterValue.FromInt32(5)];
        await using (IQueryResult r = await statement.ExecuteAsync(zero, CancellationToken.None))
        {
            await ReadAllAsync(r);
        }

        // b holds the connection a prepared on; a's next execution lands on another one.
        await RowsAsync(b, "BEGIN");
        object? bConnection = await ScalarAsync(b, "SELECT CONNECTION_ID()");
        await using (IQueryResult r = await statement.ExecuteAsync(zero, CancellationToken.None))
        {
            object? aConnection = (await ReadAllAsync(r))[0][0];
            Assert.NotEqual(Long(bConnection), Long(aConnection));
        }

        await RowsAsync(b, "COMMIT");
    }

    [Fact]
    public async Task Cancel_interrupts_the_running_statement_with_57014()
    {
        await using IEngineSession session = await OpenAsync(_engine);
        var mysql = (MySqlEngineSession)session;
        await RowsAsync(session, "SET SESSION max_recursive_iterations = 4294967295");
        Task<List<object?[]>> running = RowsAsync(session, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 4000000000) SELECT SUM(x) FROM n");
        await WaitUntilAsync(async () => running.IsCompleted || (await ProcessListAsync()).Any(q => q.Contains("x < 4000000000", StringComparison.Ordinal)));
        session.Cancel();
        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await running);
        Assert.Equal(SqlStates.QueryCanceled, error.SqlState);
        Assert.Equal(2L, Long(await ScalarAsync(session, "SELECT 2")));
        Assert.Null(mysql.HeldConnection);
    }

    [Fact]
    public async Task A_killed_server_connection_gives_08006_and_the_next_statement_works()
    {
        await using var engine = new MySqlEngine(Cluster(_server, maxSize: 2));
        await using IEngineSession session = await OpenAsync(engine);
        await using IEngineSession killer = await OpenAsync(engine);
        Task<List<object?[]>> running = RowsAsync(session, "SELECT SLEEP(30), 'victim'");
        long victim = 0;
        await WaitUntilAsync(async () =>
        {
            List<object?[]> list = await RowsAsync(killer, "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(30), ''victim''%'");
            victim = list.Count > 0 ? Long(list[0][0]) : 0;
            return victim != 0;
        });
        await RowsAsync(killer, $"KILL {victim}");
        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await running);
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
        Assert.Contains("cluster 'maria'", error.Message, StringComparison.Ordinal);

        Assert.Equal(3L, Long(await ScalarAsync(session, "SELECT 3")));
        Assert.NotEqual(victim, Long(await ScalarAsync(session, "SELECT CONNECTION_ID()")));
    }

    [Fact]
    public async Task A_connection_killed_while_idle_in_the_pool_is_replaced()
    {
        await using var engine = new MySqlEngine(Cluster(_server, maxSize: 2) with { Pool = new Core.Config.PoolOptions { MaxSize = 2, HealthCheckAfterIdle = TimeSpan.Zero } });
        await using IEngineSession session = await OpenAsync(engine);
        long first = Long(await ScalarAsync(session, "SELECT CONNECTION_ID()"));
        await using (MySqlServerConnection admin = await ConnectAsync(_server))
        {
            await ExecAsync(admin, $"KILL {first}");
        }

        long second = Long(await ScalarAsync(session, "SELECT CONNECTION_ID()"));
        Assert.NotEqual(first, second);
    }

    private async Task<List<string>> ProcessListAsync()
    {
        await using var engine = new MySqlEngine(Cluster(_server, maxSize: 1));
        await using IEngineSession session = await OpenAsync(engine);
        List<object?[]> rows = await RowsAsync(session, "SELECT INFO FROM information_schema.PROCESSLIST WHERE INFO IS NOT NULL");
        return rows.Select(r => (string)r[0]!).ToList();
    }
}

using Apache.Arrow;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Tests.Shared;
using static LakeOps.Edge.Engines.Tests.Postgres.PgTestSupport;

namespace LakeOps.Edge.Engines.Tests.Postgres;

public class PostgresEngineSessionTests
{
    [Fact]
    public async Task Engine_reports_cluster_dialect_and_registry_creates_it()
    {
        var server = await PostgresTestServer.GetAsync();
        ClusterConfig cluster = Cluster(server, name: "pgreg");
        await using IEngine created = EngineRegistry.Create(cluster);
        var engine = Assert.IsType<PostgresEngine>(created);
        Assert.Equal("pgreg", engine.ClusterName);
        Assert.Equal(SqlDialect.Postgres, engine.Dialect);
        Assert.Same(cluster, engine.Cluster);
        Assert.Equal("pgreg", engine.Pool.ClusterName);
    }

    [Fact]
    public async Task New_session_runs_in_utc()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        Assert.Equal("UTC", await ScalarAsync<string>(session, "show timezone"));
    }

    [Fact]
    public async Task Empty_result_has_schema_and_no_batches()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        await using IQueryResult result = await session.ExecuteAsync("select 1::int4 as a, 'x'::text as b where false", CancellationToken.None);
        Assert.True(result.ReturnsRows);
        Assert.Equal(["a", "b"], result.Schema.FieldsList.Select(f => f.Name));
        Assert.Null(await result.ReadBatchAsync(CancellationToken.None));
        Assert.Equal(0, result.RowsAffected);
    }

    [Fact]
    public async Task Large_result_streams_in_several_batches()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        await using IQueryResult result = await session.ExecuteAsync(
            "select i::int8, md5(i::text) as h from generate_series(1, 100000) as i", CancellationToken.None);
        int batches = 0;
        long rows = 0;
        long sum = 0;
        while (await result.ReadBatchAsync(CancellationToken.None) is { } batch)
        {
            batches++;
            rows += batch.Length;
            Assert.True(batch.Length <= 1024);
            var ids = (Int64Array)batch.Column(0);
            for (int i = 0; i < ids.Length; i++)
            {
                sum += ids.GetValue(i)!.Value;
            }

            Assert.Equal(32, ((StringArray)batch.Column(1)).GetString(batch.Length - 1).Length);
        }

        Assert.Equal(100_000, rows);
        Assert.Equal(100_000L * 100_001 / 2, sum);
        Assert.True(batches >= 98, $"{batches} batches");
        Assert.Equal(100_000, result.RowsAffected);
    }

    [Theory]
    [InlineData("select 1/0", SqlStates.DivisionByZero)]
    [InlineData("selec 1", SqlStates.SyntaxError)]
    [InlineData("select * from no_such_table_edge", SqlStates.UndefinedTable)]
    [InlineData("set no_such_setting = 1", "42704")]
    public async Task Server_errors_keep_their_sqlstate_and_the_session_goes_on(string sql, string sqlState)
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        var error = await Assert.ThrowsAsync<EngineException>(() => ReadAllAsync(session, sql));
        Assert.Equal(sqlState, error.SqlState);
        Assert.Equal(2L, await ScalarAsync<long>(session, "select 2::int8"));
        Assert.Equal(0, engine.Pool.Statistics.InUse);
    }

    [Fact]
    public async Task Error_after_the_first_batch_surfaces_from_the_read()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        await using IQueryResult result = await session.ExecuteAsync("select 1 / (i - 5000) from generate_series(1, 10000) as i", CancellationToken.None);
        Assert.NotNull(await result.ReadBatchAsync(CancellationToken.None));
        var error = await Assert.ThrowsAsync<EngineException>(async () =>
        {
            while (await result.ReadBatchAsync(CancellationToken.None) is not null)
            {
            }
        });
        Assert.Equal(SqlStates.DivisionByZero, error.SqlState);
        Assert.Equal(3L, await ScalarAsync<long>(session, "select 3::int8"));
    }

    [Fact]
    public async Task Rows_affected_come_from_the_command_tag()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        await DrainAsync(session, "drop table if exists edge_rows");
        await DrainAsync(session, "create table edge_rows(i int)");
        Assert.Equal(3, await DrainAsync(session, "insert into edge_rows select generate_series(1, 3)"));
        Assert.Equal(2, await DrainAsync(session, "update edge_rows set i = i + 10 where i > 1"));
        Assert.Equal(3, await DrainAsync(session, "delete from edge_rows"));
        await using IQueryResult returning = await session.ExecuteAsync("insert into edge_rows values (7), (8) returning i", CancellationToken.None);
        Assert.True(returning.ReturnsRows);
        List<IArrowArray[]> rows = await ReadAllAsync(returning);
        Assert.Equal([7, 8], ((Int32Array)rows[0][0]).Values.ToArray());
        Assert.Equal(2, returning.RowsAffected);
        await DrainAsync(session, "drop table edge_rows");
    }

    [Fact]
    public async Task Several_statements_run_in_order_and_the_last_result_returns()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        await DrainAsync(session, "drop table if exists edge_multi; create table edge_multi(i int); insert into edge_multi values (41)");
        Assert.Equal(42, await ScalarAsync<int>(session, "update edge_multi set i = i + 1; select i from edge_multi"));
        await using IQueryResult empty = await session.ExecuteAsync(" ; -- nothing", CancellationToken.None);
        Assert.False(empty.ReturnsRows);
        Assert.Null(await empty.ReadBatchAsync(CancellationToken.None));
        await DrainAsync(session, "drop table edge_multi");
    }

    [Theory]
    [InlineData("copy (select 1) to stdout", SqlStates.FeatureNotSupported)]
    [InlineData("copy edge_copy_in from stdin", SqlStates.QueryCanceled)]
    public async Task Copy_through_the_arrow_path_fails_cleanly(string sql, string sqlState)
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        await DrainAsync(session, "create table if not exists edge_copy_in(i int)");
        var error = await Assert.ThrowsAsync<EngineException>(() => ReadAllAsync(session, sql));
        Assert.Equal(sqlState, error.SqlState);
        Assert.Equal(0, engine.Pool.Statistics.Closed); // the connection survived
        Assert.Equal(1, await ScalarAsync<int>(session, "select 1"));
    }

    [Fact]
    public async Task Transaction_holds_one_connection_until_commit_and_releases_it_after()
    {
        var server = await PostgresTestServer.GetAsync();
        ClusterConfig cluster = Cluster(server, maxSize: 1) with
        {
            Pool = new PoolOptions { MaxSize = 1, ConnectTimeout = TimeSpan.FromMilliseconds(500) },
        };
        await using var engine = new PostgresEngine(cluster);
        await using var a = await OpenAsync(engine);
        await using var b = await OpenAsync(engine);

        await DrainAsync(a, "begin");
        int pid = await ScalarAsync<int>(a, "select pg_backend_pid()");
        await DrainAsync(a, "set local work_mem = '3MB'");
        await DrainAsync(a, "create temp table edge_tx(i int) on commit drop");
        await DrainAsync(a, "insert into edge_tx values (5)");
        Assert.Equal(5, await ScalarAsync<int>(a, "select i from edge_tx"));
        Assert.Equal("3MB", await ScalarAsync<string>(a, "select current_setting('work_mem')"));
        Assert.Equal(pid, await ScalarAsync<int>(a, "select pg_backend_pid()"));

        // The only connection is A's until it commits: B cannot get one.
        var busy = await Assert.ThrowsAsync<EngineException>(() => ReadAllAsync(b, "select 1"));
        Assert.Contains("'pg'", busy.Message, StringComparison.Ordinal);

        await DrainAsync(a, "commit");
        Assert.Equal(pid, await ScalarAsync<int>(b, "select pg_backend_pid()"));
        Assert.NotEqual("3MB", await ScalarAsync<string>(b, "select current_setting('work_mem')"));
        Assert.Equal(0, engine.Pool.Statistics.InUse);
    }

    [Fact]
    public async Task Failed_transaction_stays_held_until_rollback()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        await DrainAsync(session, "begin");
        await Assert.ThrowsAsync<EngineException>(() => ReadAllAsync(session, "select 1/0"));
        var aborted = await Assert.ThrowsAsync<EngineException>(() => ReadAllAsync(session, "select 1"));
        Assert.Equal(SqlStates.InFailedSqlTransaction, aborted.SqlState);
        Assert.Equal(1, engine.Pool.Statistics.InUse);
        await DrainAsync(session, "rollback");
        Assert.Equal(0, engine.Pool.Statistics.InUse);
        Assert.Equal(1, await ScalarAsync<int>(session, "select 1"));
    }

    [Fact]
    public async Task Session_settings_follow_the_client_to_another_connection()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server, maxSize: 4));
        await using var a = await OpenAsync(engine);
        await using var b = await OpenAsync(engine);

        await DrainAsync(a, "set edge.flavour = 'alpha'");
        await DrainAsync(a, "set TimeZone = 'Asia/Tokyo'");
        int first = await ScalarAsync<int>(a, "select pg_backend_pid()");

        // B takes A's last connection for a transaction, so A's next statement runs elsewhere.
        await DrainAsync(b, "begin");
        Assert.Equal(first, await ScalarAsync<int>(b, "select pg_backend_pid()"));
        Assert.Equal("", await ScalarAsync<string>(b, "select coalesce(current_setting('edge.flavour', true), '')"));
        Assert.Equal("UTC", await ScalarAsync<string>(b, "show timezone"));

        Assert.NotEqual(first, await ScalarAsync<int>(a, "select pg_backend_pid()"));
        Assert.Equal("alpha", await ScalarAsync<string>(a, "select current_setting('edge.flavour')"));
        Assert.Equal("Asia/Tokyo", await ScalarAsync<string>(a, "show timezone"));
        await DrainAsync(b, "commit");

        // RESET forgets one setting, RESET ALL the rest; both travel too.
        await DrainAsync(a, "reset timezone");
        await DrainAsync(b, "begin");
        Assert.Equal("UTC", await ScalarAsync<string>(a, "show timezone"));
        Assert.Equal("alpha", await ScalarAsync<string>(a, "select current_setting('edge.flavour')"));
        await DrainAsync(b, "commit");
    }

    [Fact]
    public async Task Sets_inside_a_transaction_count_only_when_it_commits()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server, maxSize: 4));
        await using var a = await OpenAsync(engine);
        await using var b = await OpenAsync(engine);

        await DrainAsync(a, "begin");
        await DrainAsync(a, "set edge.kept = 'no'");
        await DrainAsync(a, "rollback");
        await DrainAsync(a, "begin");
        await DrainAsync(a, "set edge.kept = 'yes'");
        await DrainAsync(a, "commit");

        // Move A to another connection and look.
        await DrainAsync(b, "begin");
        await DrainAsync(b, "select 1");
        Assert.Equal("yes", await ScalarAsync<string>(a, "select current_setting('edge.kept')"));
        await DrainAsync(b, "commit");
    }

    [Fact]
    public async Task Prepared_statement_binds_every_kind_of_parameter()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        using IPreparedStatement statement = await session.PrepareAsync(
            "select $1::int2, $2::int4, $3::int8, $4::float4, $5::float8, $6::numeric(12,3), $7::text, $8::bool, $9::bytea, " +
            "$10::date, $11::time, $12::timestamp, $13::timestamptz, $14::interval, $15::uuid, $16::jsonb, $17::int4[], $18::text[]",
            CancellationToken.None);
        Assert.Equal(18, statement.ParameterTypes.Count);
        Assert.Equal(Apache.Arrow.Types.ArrowTypeId.Int16, statement.ParameterTypes[0]!.TypeId);
        Assert.Equal(Apache.Arrow.Types.ArrowTypeId.Timestamp, statement.ParameterTypes[12]!.TypeId);
        Assert.Equal(18, statement.ResultSchema.FieldsList.Count);
        Assert.True(statement.ReturnsRows);

        var id = Guid.Parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        ParameterValue[] parameters =
        [
            ParameterValue.FromInt16(-7),
            ParameterValue.FromInt64(123456), // widened kinds bind to narrower parameters
            ParameterValue.FromInt64(long.MinValue),
            ParameterValue.FromFloat32(1.25f),
            ParameterValue.FromFloat64(Math.PI),
            ParameterValue.FromDecimalText("-98765.432"),
            ParameterValue.FromText("it's \"quoted\" \\ ü"),
            ParameterValue.FromBoolean(true),
            ParameterValue.FromBytes([0, 1, 255]),
            ParameterValue.FromDate(19_782), // 2024-02-29
            ParameterValue.FromTime(((13 * 3600) + 5) * 1_000_000L + 42),
            ParameterValue.FromTimestamp(1_709_212_345_678_901),
            ParameterValue.FromTimestampTz(-1_000_000),
            ParameterValue.FromInterval(14, -3, 5_000_001),
            ParameterValue.FromUuid(id),
            ParameterValue.FromJson("{\"k\": [1, 2]}"),
            ParameterValue.FromArray([ParameterValue.FromInt32(1), ParameterValue.Null, ParameterValue.FromInt32(3)]),
            ParameterValue.FromArray([ParameterValue.FromText("a,b"), ParameterValue.FromText("{x}"), ParameterValue.FromText("NULL")]),
        ];
        await using IQueryResult result = await statement.ExecuteAsync(parameters, CancellationToken.None);
        List<IArrowArray[]> batches = await ReadAllAsync(result);
        IArrowArray[] row = batches[0];
        Assert.Equal((short)-7, ((Int16Array)row[0]).GetValue(0));
        Assert.Equal(123456, ((Int32Array)row[1]).GetValue(0));
        Assert.Equal(long.MinValue, ((Int64Array)row[2]).GetValue(0));
        Assert.Equal(1.25f, ((FloatArray)row[3]).GetValue(0));
        Assert.Equal(Math.PI, ((DoubleArray)row[4]).GetValue(0));
        Assert.Equal("-98765.432", ((Decimal128Array)row[5]).GetString(0));
        Assert.Equal("it's \"quoted\" \\ ü", ((StringArray)row[6]).GetString(0));
        Assert.True(((BooleanArray)row[7]).GetValue(0));
        Assert.Equal(new byte[] { 0, 1, 255 }, ((BinaryArray)row[8]).GetBytes(0).ToArray());
        Assert.Equal(19_782, ((Date32Array)row[9]).GetValue(0));
        Assert.Equal(((13 * 3600) + 5) * 1_000_000L + 42, ((Time64Array)row[10]).GetValue(0));
        Assert.Equal(1_709_212_345_678_901, ((TimestampArray)row[11]).GetValue(0));
        Assert.Equal(-1_000_000, ((TimestampArray)row[12]).GetValue(0));
        Assert.Equal(new Apache.Arrow.Scalars.MonthDayNanosecondInterval(14, -3, 5_000_001_000), ((MonthDayNanosecondIntervalArray)row[13]).GetValue(0));
        Assert.Equal(id.ToString(), ((StringArray)row[14]).GetString(0));
        Assert.Equal("{\"k\": [1, 2]}", ((StringArray)row[15]).GetString(0));
        Assert.Equal("{1|NULL|3}", PgArrowText.Format(row[16], 0));
        Assert.Equal("{a,b|{x}|NULL}", PgArrowText.Format(row[17], 0));
        Assert.False(row[17].IsNull(0));

        // Every parameter NULL.
        await using IQueryResult nulls = await statement.ExecuteAsync(Enumerable.Repeat(ParameterValue.Null, 18).ToArray(), CancellationToken.None);
        IArrowArray[] nullRow = (await ReadAllAsync(nulls))[0];
        Assert.All(nullRow, column => Assert.True(column.IsNull(0)));
    }

    [Fact]
    public async Task Prepared_statement_is_prepared_again_on_another_connection()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server, maxSize: 4));
        await using var a = await OpenAsync(engine);
        await using var b = await OpenAsync(engine);
        using IPreparedStatement statement = await a.PrepareAsync("select pg_backend_pid(), $1::int4 + 1", CancellationToken.None);
        List<IArrowArray[]> first = await ReadAllAsync(await statement.ExecuteAsync(new[] { ParameterValue.FromInt32(1) }, CancellationToken.None));
        int firstPid = ((Int32Array)first[0][0]).GetValue(0)!.Value;

        await DrainAsync(b, "begin");
        Assert.Equal(firstPid, await ScalarAsync<int>(b, "select pg_backend_pid()"));
        List<IArrowArray[]> second = await ReadAllAsync(await statement.ExecuteAsync(new[] { ParameterValue.FromInt32(41) }, CancellationToken.None));
        Assert.NotEqual(firstPid, ((Int32Array)second[0][0]).GetValue(0));
        Assert.Equal(42, ((Int32Array)second[0][1]).GetValue(0));

        // Statement names do not clash with B's view of the connection it holds.
        Assert.Equal(1L, await ScalarAsync<long>(b, "select count(*) from pg_prepared_statements"));
        await DrainAsync(b, "commit");
    }

    [Fact]
    public async Task Prepare_errors_carry_the_sqlstate()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        var error = await Assert.ThrowsAsync<EngineException>(async () => await session.PrepareAsync("select * from no_table_edge where a = $1", CancellationToken.None));
        Assert.Equal(SqlStates.UndefinedTable, error.SqlState);
        using IPreparedStatement command = await session.PrepareAsync("set edge.prepared = 'x'", CancellationToken.None);
        Assert.False(command.ReturnsRows);
        Assert.Empty(command.ResultSchema.FieldsList);
        await using (IQueryResult done = await command.ExecuteAsync(ReadOnlyMemory<ParameterValue>.Empty, CancellationToken.None))
        {
            Assert.Null(await done.ReadBatchAsync(CancellationToken.None));
        }

        Assert.Equal("x", await ScalarAsync<string>(session, "select current_setting('edge.prepared')"));
        await Assert.ThrowsAsync<EngineException>(async () => await command.ExecuteAsync(new[] { ParameterValue.FromInt32(1) }, CancellationToken.None));
    }

    [Fact]
    public async Task Cancel_interrupts_the_running_statement()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        Task<List<IArrowArray[]>> sleeping = ReadAllAsync(session, "select pg_sleep(10), 'edge-cancel-marker'");
        await WaitUntilAsync(async () => await server.PsqlAsync(
            "select count(*) from pg_stat_activity where state = 'active' and query like '%edge-cancel-marker%' and pid <> pg_backend_pid()") == "1");
        session.Cancel();
        var error = await Assert.ThrowsAsync<EngineException>(() => sleeping);
        Assert.Equal(SqlStates.QueryCanceled, error.SqlState);
        Assert.Equal(1, await ScalarAsync<int>(session, "select 1"));
    }

    [Fact]
    public async Task Server_killed_mid_query_fails_with_08006_then_the_next_statement_works()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        Task<List<IArrowArray[]>> sleeping = ReadAllAsync(session, "select pg_sleep(10), 'edge-kill-marker'");
        await WaitUntilAsync(async () => await server.PsqlAsync(
            "select count(*) from pg_stat_activity where state = 'active' and query like '%edge-kill-marker%' and pid <> pg_backend_pid()") == "1");
        await server.PsqlAsync("select pg_terminate_backend(pid) from pg_stat_activity where query like '%edge-kill-marker%' and pid <> pg_backend_pid()");

        var error = await Assert.ThrowsAsync<EngineException>(() => sleeping);
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
        Assert.StartsWith("cluster 'pg': ", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, engine.Pool.Statistics.Closed); // the broken connection was dropped, not pooled
        Assert.Equal(1, await ScalarAsync<int>(session, "select 1"));
        Assert.Equal(0, engine.Pool.Statistics.InUse);
    }

    [Fact]
    public async Task Server_killed_inside_a_transaction_reports_the_lost_transaction()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        await DrainAsync(session, "begin");
        int pid = await ScalarAsync<int>(session, "select pg_backend_pid()");
        await server.PsqlAsync($"select pg_terminate_backend({pid})");
        var error = await Assert.ThrowsAsync<EngineException>(() => ReadAllAsync(session, "select 1"));
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
        Assert.Contains("transaction", error.Message, StringComparison.Ordinal);
        Assert.NotEqual(pid, await ScalarAsync<int>(session, "select pg_backend_pid()"));
    }

    [Fact]
    public async Task Abandoned_result_leaves_the_session_usable()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        IQueryResult big = await session.ExecuteAsync("select i from generate_series(1, 50000) as i", CancellationToken.None);
        Assert.NotNull(await big.ReadBatchAsync(CancellationToken.None));

        // Starting the next statement closes the open result first.
        Assert.Equal(5, await ScalarAsync<int>(session, "select 5"));
        await big.DisposeAsync();
        Assert.Equal(0, engine.Pool.Statistics.InUse);
    }

    [Fact]
    public async Task Engine_down_fails_at_session_open_with_08006_naming_the_cluster()
    {
        var cluster = new ClusterConfig
        {
            Name = "gone",
            Engine = EngineKind.Postgres,
            Remote = new RemoteEngineOptions { Host = "127.0.0.1", Port = 1, User = "x" },
            Pool = new PoolOptions { ConnectTimeout = TimeSpan.FromSeconds(2) },
        };
        await using var engine = new PostgresEngine(cluster);
        var error = await Assert.ThrowsAsync<EngineException>(async () => await OpenAsync(engine));
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
        Assert.Contains("cluster 'gone'", error.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disposing_a_session_inside_a_transaction_rolls_it_back()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server, maxSize: 1));
        var session = await OpenAsync(engine);
        await DrainAsync(session, "drop table if exists edge_rollback; create table edge_rollback(i int)");
        await DrainAsync(session, "begin");
        await DrainAsync(session, "insert into edge_rollback values (1)");
        await session.DisposeAsync();
        Assert.Equal(0, engine.Pool.Statistics.InUse);

        await using var next = await OpenAsync(engine);
        Assert.Equal(0L, await ScalarAsync<long>(next, "select count(*) from edge_rollback"));
        await DrainAsync(next, "drop table edge_rollback");
    }
}

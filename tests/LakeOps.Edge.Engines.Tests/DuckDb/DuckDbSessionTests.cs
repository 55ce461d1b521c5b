using Apache.Arrow;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.DuckDb;
using static LakeOps.Edge.Engines.Tests.DuckDb.DuckDbFixture;

namespace LakeOps.Edge.Engines.Tests.DuckDb;

public class DuckDbSessionTests
{
    [Fact]
    public async Task Engine_speaks_the_duckdb_dialect()
    {
        await using var engine = Engine();
        Assert.Equal("duck", engine.ClusterName);
        Assert.Equal(SqlDialect.DuckDb, engine.Dialect);
    }

    [Fact]
    public async Task Sessions_share_one_in_memory_database()
    {
        await using var engine = Engine();
        await using var a = await Session(engine);
        await using var b = await Session(engine);
        await Run(a, "create table shared(i int)");
        await Run(a, "insert into shared values (7)");
        Assert.Equal(7, await Scalar(b, "select i from shared"));
    }

    [Fact]
    public async Task Two_engines_have_separate_in_memory_databases()
    {
        await using var one = Engine();
        await using var two = Engine();
        await using var a = await Session(one);
        await using var b = await Session(two);
        await Run(a, "create table only_here(i int)");
        var error = await Assert.ThrowsAsync<EngineException>(() => Run(b, "select * from only_here"));
        Assert.Equal(SqlStates.UndefinedTable, error.SqlState);
    }

    [Fact]
    public async Task Temp_tables_and_settings_belong_to_their_session()
    {
        await using var engine = Engine();
        await using var a = await Session(engine);
        await using var b = await Session(engine);
        await Run(a, "create temp table mine(i int)");
        await Run(a, "insert into mine values (1)");
        Assert.Equal(1L, await Scalar(a, "select count(*) from mine"));
        var error = await Assert.ThrowsAsync<EngineException>(() => Run(b, "select * from mine"));
        Assert.Equal(SqlStates.UndefinedTable, error.SqlState);

        await Run(a, "set TimeZone = 'Asia/Tokyo'");
        await Run(b, "set TimeZone = 'UTC'");
        Assert.Equal("Asia/Tokyo", await Scalar(a, "select current_setting('TimeZone')"));
        Assert.Equal("UTC", await Scalar(b, "select current_setting('TimeZone')"));

        await Run(a, "set variable v = 5");
        Assert.Equal(5, await Scalar(a, "select getvariable('v')"));
        Assert.Null(await Scalar(b, "select getvariable('v')"));
    }

    [Fact]
    public async Task Rollback_discards_and_commit_publishes()
    {
        await using var engine = Engine();
        await using var a = await Session(engine);
        await using var b = await Session(engine);
        await Run(a, "create table t(i int)");

        await Run(a, "BEGIN");
        await Run(a, "insert into t values (1)");
        Assert.Equal(1L, await Scalar(a, "select count(*) from t"));
        Assert.Equal(0L, await Scalar(b, "select count(*) from t"));
        await Run(a, "ROLLBACK");
        Assert.Equal(0L, await Scalar(a, "select count(*) from t"));

        await Run(a, "begin transaction");
        await Run(a, "insert into t values (2)");
        await Run(a, "commit");
        Assert.Equal(2, await Scalar(b, "select i from t"));
    }

    [Fact]
    public async Task An_error_aborts_the_transaction_until_rollback()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        await Run(session, "create table t(i int primary key)");
        await Run(session, "insert into t values (1)");

        await Run(session, "begin");
        var failed = await Assert.ThrowsAsync<EngineException>(() => Run(session, "insert into t values (1)"));
        Assert.Equal(SqlStates.UniqueViolation, failed.SqlState);
        var aborted = await Assert.ThrowsAsync<EngineException>(() => Run(session, "select 1"));
        Assert.Equal(SqlStates.InFailedSqlTransaction, aborted.SqlState);
        Assert.Contains("transaction", aborted.Message, StringComparison.OrdinalIgnoreCase);
        await Run(session, "rollback");
        Assert.Equal(1, await Scalar(session, "select 1"));
    }

    [Fact]
    public async Task Transaction_control_errors_map_to_transaction_states()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        var noTransaction = await Assert.ThrowsAsync<EngineException>(() => Run(session, "commit"));
        Assert.Equal(SqlStates.NoActiveSqlTransaction, noTransaction.SqlState);
        await Run(session, "begin");
        var nested = await Assert.ThrowsAsync<EngineException>(() => Run(session, "begin"));
        Assert.Equal(SqlStates.ActiveSqlTransaction, nested.SqlState);
        await Run(session, "rollback");
    }

    [Fact]
    public async Task Changed_rows_are_reported_as_rows_affected()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        Assert.Equal(-1, await Run(session, "create table t(i int)"));
        Assert.Equal(3, await Run(session, "insert into t select * from range(3)"));
        Assert.Equal(2, await Run(session, "update t set i = i + 10 where i > 0"));
        Assert.Equal(1, await Run(session, "delete from t where i = 11"));
        Assert.Equal(0, await Run(session, "delete from t where i = 999"));
        Assert.Equal(-1, await Run(session, "select * from t"));

        await using IQueryResult returning = await session.ExecuteAsync("insert into t values (5), (6) returning i", default);
        Assert.True(returning.ReturnsRows);
        Assert.Equal([5, 6], (await Rows(returning)).Select(r => r[0]));
        Assert.Equal(2, returning.RowsAffected);

        await using IQueryResult insert = await session.ExecuteAsync("insert into t values (1)", default);
        Assert.False(insert.ReturnsRows);
        Assert.Empty(insert.Schema.FieldsList);
        Assert.Null(await insert.ReadBatchAsync(default));
        Assert.Equal(1, insert.RowsAffected);
    }

    public static TheoryData<string, string> Errors => new()
    {
        { "selec 1", SqlStates.SyntaxError },
        { "select * from no_such_table", SqlStates.UndefinedTable },
        { "select no_such_function(1)", SqlStates.UndefinedFunction },
        { "select no_such_column from (select 1 as a)", SqlStates.UndefinedColumn },
        { "insert into t values (1, 'a')", SqlStates.UniqueViolation },
        { "insert into t values (2, null)", SqlStates.NotNullViolation },
        { "select 'abc'::int", SqlStates.InvalidTextRepresentation },
        { "select 100::tinyint * 100::tinyint", SqlStates.NumericValueOutOfRange },
        { "create table t(i int)", SqlStates.DuplicateTable },
        { "select error('custom failure')", SqlStates.InvalidParameterValue },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public async Task Errors_map_to_sqlstates_and_the_session_continues(string sql, string sqlState)
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        await Run(session, "create table t(i int primary key, s varchar not null)");
        await Run(session, "insert into t values (1, 'a')");

        var error = await Assert.ThrowsAsync<EngineException>(() => Run(session, sql));
        Assert.Equal(sqlState, error.SqlState);
        Assert.Contains("Error", error.Message, StringComparison.Ordinal);
        Assert.Equal(42, await Scalar(session, "select 42"));
    }

    [Fact]
    public async Task Permission_errors_map_to_insufficient_privilege()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        await Run(session, "set enable_external_access = false");
        var error = await Assert.ThrowsAsync<EngineException>(() => Run(session, "select * from read_csv('/etc/hostname')"));
        Assert.Equal("42501", error.SqlState);
        Assert.StartsWith("Permission Error", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runtime_errors_while_streaming_surface_from_read_batch()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        // One thread and a late failing row: DuckDB only buffers a little ahead of the reader.
        await Run(session, "set threads = 1");
        await using IQueryResult result = await session.ExecuteAsync(
            "select case when i < 5000000 then i::varchar else 'x' end::int from range(6000000) t(i)", default);
        int batches = 0;
        var error = await Assert.ThrowsAsync<EngineException>(async () =>
        {
            while (await result.ReadBatchAsync(default) is not null)
            {
                batches++;
            }
        });
        Assert.Equal(SqlStates.InvalidTextRepresentation, error.SqlState);
        Assert.True(batches > 0);
        Assert.Equal(1, await Scalar(session, "select 1"));
    }

    [Fact]
    public async Task Cancel_interrupts_a_running_query_and_the_session_continues()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        var duck = (DuckDbSession)session;

        Task<long> running = Task.Run(() => Run(session, "select count(*) from range(10000000000) t(i) where i % 7 = 3"));
        // Real synchronisation: the session is active from just before DuckDB starts executing.
        SpinWait.SpinUntil(() => duck.IsActive || running.IsCompleted);
        session.Cancel();

        var error = await Assert.ThrowsAsync<EngineException>(() => running);
        Assert.Equal(SqlStates.QueryCanceled, error.SqlState);
        Assert.Equal("canceling statement due to user request", error.Message);
        Assert.False(duck.IsActive);
        Assert.Equal(1, await Scalar(session, "select 1"));
    }

    [Fact]
    public async Task Cancel_between_batches_fails_the_next_read()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        await using IQueryResult result = await session.ExecuteAsync("select * from range(100000000)", default);
        Assert.NotNull(await result.ReadBatchAsync(default));
        session.Cancel();
        var error = await Assert.ThrowsAsync<EngineException>(async () =>
        {
            while (await result.ReadBatchAsync(default) is not null)
            {
            }
        });
        Assert.Equal(SqlStates.QueryCanceled, error.SqlState);
        Assert.Equal(1, await Scalar(session, "select 1"));
    }

    [Fact]
    public async Task Cancel_when_idle_does_nothing()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        session.Cancel();
        Assert.Equal(1, await Scalar(session, "select 1"));
        session.Cancel();
        Assert.Equal(2, await Scalar(session, "select 2"));
    }

    [Fact]
    public async Task A_new_statement_closes_the_open_result()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        IQueryResult first = await session.ExecuteAsync("select * from range(1000000)", default);
        Assert.NotNull(await first.ReadBatchAsync(default));
        Assert.Equal(5, await Scalar(session, "select 5"));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await first.ReadBatchAsync(default));
        await first.DisposeAsync();
        await first.DisposeAsync();
    }

    [Fact]
    public async Task Disposal_with_open_results_and_statements_is_safe_and_idempotent()
    {
        var engine = Engine();
        var session = await Session(engine);
        var other = await Session(engine);
        IPreparedStatement statement = await session.PrepareAsync("select * from range(1000000)", default);
        IQueryResult result = await statement.ExecuteAsync(ReadOnlyMemory<ParameterValue>.Empty, default);
        Assert.NotNull(await result.ReadBatchAsync(default));
        Assert.Equal(2, engine.SessionCount);

        await session.DisposeAsync();
        await session.DisposeAsync();
        Assert.Equal(1, engine.SessionCount);
        session.Cancel();
        await result.DisposeAsync();
        statement.Dispose();
        statement.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await session.ExecuteAsync("select 1", default));

        // The engine closes the sessions still open, then the database.
        IQueryResult open = await other.ExecuteAsync("select * from range(1000000)", default);
        Assert.NotNull(await open.ReadBatchAsync(default));
        await engine.DisposeAsync();
        await engine.DisposeAsync();
        Assert.Equal(0, engine.SessionCount);
        await open.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await engine.OpenSessionAsync(SessionOptions, default));
    }

    [Fact]
    public async Task An_idle_session_opens_its_duckdb_connection_only_with_its_first_statement()
    {
        await using var engine = Engine();
        var idle = (DuckDbSession)await Session(engine);
        var busy = (DuckDbSession)await Session(engine);
        Assert.False(idle.IsConnected);
        idle.Cancel();

        Assert.Equal(5, await Scalar(busy, "select 5"));
        Assert.True(busy.IsConnected);
        Assert.False(idle.IsConnected);

        // Closing a session that never connected uncounts it like any other.
        await idle.DisposeAsync();
        Assert.Equal(1, engine.SessionCount);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await idle.ExecuteAsync("select 1", default));
        Assert.False(idle.IsConnected);
        await busy.DisposeAsync();
    }

    [Fact]
    public async Task Max_sessions_is_enforced()
    {
        await using var engine = Engine(limits: new ClusterLimits { MaxSessions = 1 });
        await using var first = await Session(engine);
        var error = await Assert.ThrowsAsync<EngineException>(() => Session(engine));
        Assert.Equal(SqlStates.TooManyConnections, error.SqlState);
        await first.DisposeAsync();
        await using var again = await Session(engine);
    }

    [Fact]
    public async Task Results_are_batches_of_duckdb_chunks()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        await using IQueryResult result = await session.ExecuteAsync("select i from range(5000) t(i) order by i", default);
        long total = 0;
        long expected = 0;
        while (await result.ReadBatchAsync(default) is RecordBatch batch)
        {
            Assert.InRange(batch.Length, 1, 2048);
            var column = (Int64Array)batch.Column(0);
            for (int i = 0; i < batch.Length; i++)
            {
                Assert.Equal(expected++, column.GetValue(i));
            }

            total += batch.Length;
        }

        Assert.Equal(5000, total);
        Assert.Null(await result.ReadBatchAsync(default));
    }
}

using LakeOps.Edge.IntegrationTests.Support;
using Npgsql;
using NpgsqlTypes;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>Npgsql (extended protocol, binary and text formats) against the AOT binary over embedded DuckDB.</summary>
[Collection(EdgeCollection.Name)]
public sealed class NpgsqlTests(EdgeFixture fixture)
{
    private const string AllTypesQuery = """
        select true as b, 12::smallint as i2, 123456::integer as i4, 9007199254740993::bigint as i8,
               1.5::real as f4, 2.25::double as f8, 12345.67::decimal(10,2) as num, -0.001::decimal(18,3) as small_num,
               'héllo, "world"'::varchar as txt, '\xDE\xAD\xBE\xEF'::blob as bin,
               date '2024-02-29' as d, time '12:34:56.789' as t,
               timestamp '2024-01-02 03:04:05.123456' as ts, timestamptz '2024-01-02 03:04:05.5+00' as tstz,
               interval '1 year 2 months 3 days 04:05:06' as iv,
               'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid as u, '{"k": [1, 2]}'::json as j,
               [1, 2, null]::integer[] as ints, ['x', 'y z', null]::varchar[] as texts, [1.5, 2.5]::double[] as doubles
        """;

    private readonly EdgeProcess _edge = fixture.Edge;

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(_edge.ConnectionString());
        await connection.OpenAsync();
        return connection;
    }

    [Fact]
    public async Task Opens_and_reports_server_parameters()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        Assert.Equal("UTF8", connection.PostgresParameters["server_encoding"]);
        Assert.Equal("ISO, MDY", connection.PostgresParameters["DateStyle"]);
        Assert.True(connection.ProcessID > 0);
    }

    [Fact]
    public async Task Every_type_reads_in_binary()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using var command = new NpgsqlCommand(AllTypesQuery, connection);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.True(reader.GetBoolean(0));
        Assert.Equal((short)12, reader.GetInt16(1));
        Assert.Equal(123456, reader.GetInt32(2));
        Assert.Equal(9007199254740993L, reader.GetInt64(3));
        Assert.Equal(1.5f, reader.GetFloat(4));
        Assert.Equal(2.25, reader.GetDouble(5));
        Assert.Equal(12345.67m, reader.GetDecimal(6));
        Assert.Equal(-0.001m, reader.GetDecimal(7));
        Assert.Equal("héllo, \"world\"", reader.GetString(8));
        Assert.Equal(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF }, reader.GetFieldValue<byte[]>(9));
        Assert.Equal(new DateOnly(2024, 2, 29), reader.GetFieldValue<DateOnly>(10));
        Assert.Equal(new TimeOnly(12, 34, 56, 789), reader.GetFieldValue<TimeOnly>(11));
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Unspecified).AddTicks(1234560), reader.GetDateTime(12));
        DateTime tstz = reader.GetFieldValue<DateTime>(13);
        Assert.Equal(DateTimeKind.Utc, tstz.Kind);
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5, 500, DateTimeKind.Utc), tstz);
        NpgsqlInterval interval = reader.GetFieldValue<NpgsqlInterval>(14);
        Assert.Equal(14, interval.Months);
        Assert.Equal(3, interval.Days);
        Assert.Equal(new TimeSpan(4, 5, 6).Ticks / 10, interval.Time);
        Assert.Equal(Guid.Parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), reader.GetGuid(15));
        Assert.Equal("{\"k\": [1, 2]}", reader.GetString(16));
        Assert.Equal(new int?[] { 1, 2, null }, reader.GetFieldValue<int?[]>(17));
        Assert.Equal(new[] { "x", "y z", null }, reader.GetFieldValue<string?[]>(18));
        Assert.Equal(new[] { 1.5, 2.5 }, reader.GetFieldValue<double[]>(19));
        Assert.Equal("numeric(10,2)", reader.GetDataTypeName(6).Replace(" ", "", StringComparison.Ordinal));
        Assert.Equal("timestamp with time zone", reader.GetDataTypeName(13));
        Assert.Equal("uuid", reader.GetDataTypeName(15));
        Assert.Equal("json", reader.GetDataTypeName(16));
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task Every_type_reads_in_text()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using var command = new NpgsqlCommand(AllTypesQuery, connection) { AllResultTypesAreUnknown = true };
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        string[] expected =
        [
            "t", "12", "123456", "9007199254740993", "1.5", "2.25", "12345.67", "-0.001",
            "héllo, \"world\"", "\\xdeadbeef", "2024-02-29", "12:34:56.789", "2024-01-02 03:04:05.123456",
            "2024-01-02 03:04:05.5+00", "1 year 2 mons 3 days 04:05:06", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "{\"k\": [1, 2]}", "{1,2,NULL}", "{x,\"y z\",NULL}", "{1.5,2.5}",
        ];
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], reader.GetString(i));
        }
    }

    [Fact]
    public async Task Parameters_of_every_type_bind_in_binary()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using var command = new NpgsqlCommand(
            "select $1 + 1, $2 + 1, $3 || '!', $4 * 2, $5, $6, $7, $8, $9, $10, $11 + 1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = 41 });
        command.Parameters.Add(new NpgsqlParameter { Value = 9_000_000_000L });
        command.Parameters.Add(new NpgsqlParameter { Value = "hey" });
        command.Parameters.Add(new NpgsqlParameter { Value = 1.25 });
        command.Parameters.Add(new NpgsqlParameter { Value = true });
        command.Parameters.Add(new NpgsqlParameter { Value = new DateOnly(2020, 5, 17) });
        command.Parameters.Add(new NpgsqlParameter { Value = new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc) });
        command.Parameters.Add(new NpgsqlParameter { Value = Guid.Parse("11111111-2222-3333-4444-555555555555") });
        command.Parameters.Add(new NpgsqlParameter { Value = new byte[] { 1, 2, 3 } });
        command.Parameters.Add(new NpgsqlParameter { Value = 3.75m });
        command.Parameters.Add(new NpgsqlParameter { Value = (short)7 });
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(42, reader.GetInt32(0));
        Assert.Equal(9_000_000_001L, reader.GetInt64(1));
        Assert.Equal("hey!", reader.GetString(2));
        Assert.Equal(2.5, reader.GetDouble(3));
        Assert.True(reader.GetBoolean(4));
        Assert.Equal(new DateOnly(2020, 5, 17), reader.GetFieldValue<DateOnly>(5));
        Assert.Equal(new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc), reader.GetFieldValue<DateTime>(6));
        Assert.Equal(Guid.Parse("11111111-2222-3333-4444-555555555555"), reader.GetGuid(7));
        Assert.Equal(new byte[] { 1, 2, 3 }, reader.GetFieldValue<byte[]>(8));
        Assert.Equal(3.75m, reader.GetDecimal(9));
        Assert.Equal(8, reader.GetInt32(10));
    }

    [Fact]
    public async Task Null_parameters_and_null_results()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using var command = new NpgsqlCommand("select $1::integer is null, null::varchar", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.True(reader.GetBoolean(0));
        Assert.True(reader.IsDBNull(1));
    }

    [Fact]
    public async Task Prepared_statements_run_many_times()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using var command = new NpgsqlCommand("select $1 * 10", connection);
        NpgsqlParameter parameter = command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = 0 });
        await command.PrepareAsync();
        Assert.True(command.IsPrepared);
        for (int i = 1; i <= 20; i++)
        {
            parameter.Value = i;
            Assert.Equal(i * 10, Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task Transactions_commit_and_roll_back()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using (var create = new NpgsqlCommand("create temp table npg_tx(x integer)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using (NpgsqlTransaction rollback = await connection.BeginTransactionAsync())
        {
            await using var insert = new NpgsqlCommand("insert into npg_tx values (1), (2)", connection, rollback);
            Assert.Equal(2, await insert.ExecuteNonQueryAsync());
            await rollback.RollbackAsync();
        }

        await using (NpgsqlTransaction commit = await connection.BeginTransactionAsync())
        {
            await using var insert = new NpgsqlCommand("insert into npg_tx values (3)", connection, commit);
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
            await commit.CommitAsync();
        }

        await using var count = new NpgsqlCommand("select sum(x) from npg_tx", connection);
        Assert.Equal(3L, Convert.ToInt64(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Failed_transaction_rejects_statements_until_rollback()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await using (var bad = new NpgsqlCommand("select * from missing_table_xyz", connection, transaction))
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => bad.ExecuteNonQueryAsync());
            Assert.Equal("42P01", error.SqlState);
        }

        await using (var next = new NpgsqlCommand("select 1", connection, transaction))
        {
            var aborted = await Assert.ThrowsAsync<PostgresException>(() => next.ExecuteScalarAsync());
            Assert.Equal("25P02", aborted.SqlState);
        }

        await transaction.RollbackAsync();
        await using var after = new NpgsqlCommand("select 5", connection);
        Assert.Equal(5, Convert.ToInt32(await after.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Cancel_stops_a_long_query_and_the_session_continues()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from range(1000000) a(i), range(1000000) b(j) where a.i + b.j = -1", connection);
        Task<object?> running = command.ExecuteScalarAsync();

        // The query may not have reached the engine when the first CancelRequest arrives; retry until it ends.
        for (int attempt = 0; attempt < 300 && !running.IsCompleted; attempt++)
        {
            command.Cancel();
            await Task.WhenAny(running, Task.Delay(100));
        }

        // Npgsql reports a server-side cancellation it asked for as OperationCanceledException wrapping the 57014 error.
        var canceled = await Assert.ThrowsAsync<OperationCanceledException>(() => running);
        var error = Assert.IsType<PostgresException>(canceled.InnerException);
        Assert.Equal("57014", error.SqlState);

        await using var after = new NpgsqlCommand("select 'still here'", connection);
        Assert.Equal("still here", await after.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Ten_thousand_rows_arrive_complete_and_in_order()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using var command = new NpgsqlCommand("select i from range(10000) t(i) order by i", connection);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        long expected = 0;
        while (await reader.ReadAsync())
        {
            Assert.Equal(expected++, reader.GetInt64(0));
        }

        Assert.Equal(10000, expected);

    }

    [Fact]
    public async Task Batches_of_statements_run_in_one_round_trip()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands = { new NpgsqlBatchCommand("select 1"), new NpgsqlBatchCommand("select 'two'"), new NpgsqlBatchCommand("select 3.0::double") },
        };
        await using NpgsqlDataReader reader = await batch.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(1, reader.GetInt32(0));
        Assert.True(await reader.NextResultAsync());
        Assert.True(await reader.ReadAsync());
        Assert.Equal("two", reader.GetString(0));
        Assert.True(await reader.NextResultAsync());
        Assert.True(await reader.ReadAsync());
        Assert.Equal(3.0, reader.GetDouble(0));
    }

    [Fact]
    public async Task Sessions_share_the_in_memory_database_but_not_temp_tables()
    {
        await using NpgsqlConnection first = await OpenAsync();
        await using NpgsqlConnection second = await OpenAsync();
        await using (var create = new NpgsqlCommand("create or replace table shared_t as select 7 as v; create temp table private_t(x int)", first))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using var read = new NpgsqlCommand("select v from shared_t", second);
        Assert.Equal(7, Convert.ToInt32(await read.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
        await using var hidden = new NpgsqlCommand("select * from private_t", second);
        var error = await Assert.ThrowsAsync<PostgresException>(() => hidden.ExecuteScalarAsync());
        Assert.Equal("42P01", error.SqlState);
    }

    [Fact]
    public async Task The_group_statement_timeout_bounds_the_session_setting()
    {
        // Group 'slow' allows 400ms; a session asking for more still gets the group's limit.
        await using var connection = new NpgsqlConnection(_edge.ConnectionString(database: "slow"));
        await connection.OpenAsync();
        await using (var set = new NpgsqlCommand("set statement_timeout = '60s'", connection))
        {
            await set.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand("select count(*) from range(1000000) a(i), range(1000000) b(j) where a.i + b.j = -1", connection);
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
        Assert.Equal("57014", error.SqlState);

        await using var after = new NpgsqlCommand("select 1", connection);
        Assert.Equal(1, Convert.ToInt32(await after.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Statement_timeout_cancels_a_long_query_with_57014()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using (var set = new NpgsqlCommand("set statement_timeout = '300ms'", connection))
        {
            await set.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand("select count(*) from range(1000000) a(i), range(1000000) b(j) where a.i + b.j = -1", connection);
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
        Assert.Equal("57014", error.SqlState);
        Assert.Contains("statement timeout", error.MessageText, StringComparison.Ordinal);

        await using var after = new NpgsqlCommand("select 1", connection);
        Assert.Equal(1, Convert.ToInt32(await after.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task TimeZone_changes_timestamptz_text_but_not_the_instant()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using (var set = new NpgsqlCommand("set timezone = 'Asia/Kolkata'", connection))
        {
            await set.ExecuteNonQueryAsync();
        }

        Assert.Equal("Asia/Kolkata", connection.PostgresParameters["TimeZone"]);
        const string Query = "select timestamptz '2024-07-01 12:00:00+00' as t, (timestamptz '2024-07-01 12:00:00+00')::varchar as engine_text";
        await using (var text = new NpgsqlCommand(Query, connection) { AllResultTypesAreUnknown = true })
        await using (NpgsqlDataReader reader = await text.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal("2024-07-01 17:30:00+05:30", reader.GetString(0));
            Assert.StartsWith("2024-07-01 17:30:00", reader.GetString(1), StringComparison.Ordinal); // the engine uses the same zone
        }

        await using var binary = new NpgsqlCommand(Query, connection);
        Assert.Equal(new DateTime(2024, 7, 1, 12, 0, 0, DateTimeKind.Utc), (DateTime)(await binary.ExecuteScalarAsync())!);

        await using var unknown = new NpgsqlCommand("set timezone = 'Mars/Olympus_Mons'", connection);
        var error = await Assert.ThrowsAsync<PostgresException>(() => unknown.ExecuteNonQueryAsync());
        Assert.Contains("TimeZone", error.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commit_of_a_failed_transaction_rolls_back()
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using (var setup = new NpgsqlCommand("create temp table failed_commit(x int)", connection))
        {
            await setup.ExecuteNonQueryAsync();
        }

        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand("insert into failed_commit values (1)", connection, transaction))
        {
            await insert.ExecuteNonQueryAsync();
        }

        await using (var bad = new NpgsqlCommand("select * from missing_table_for_commit", connection, transaction))
        {
            await Assert.ThrowsAsync<PostgresException>(() => bad.ExecuteNonQueryAsync());
        }

        // Extended protocol COMMIT (prepared by the driver) in state E: PostgreSQL answers ROLLBACK.
        await using (var commit = new NpgsqlCommand("commit", connection))
        {
            await commit.ExecuteNonQueryAsync();
        }

        await using var count = new NpgsqlCommand("select count(*) from failed_commit", connection);
        Assert.Equal(0L, Convert.ToInt64(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }
}

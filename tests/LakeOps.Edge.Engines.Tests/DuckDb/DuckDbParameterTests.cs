using Apache.Arrow;
using Apache.Arrow.Scalars;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using static LakeOps.Edge.Engines.Tests.DuckDb.DuckDbFixture;

namespace LakeOps.Edge.Engines.Tests.DuckDb;

public class DuckDbParameterTests
{
    [Fact]
    public async Task Parameter_types_and_result_schema_are_known_before_execution()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        await Run(session, "create table items(id int, name varchar, price decimal(10,2))");
        await Run(session, "insert into items values (1, 'a', 1.50), (2, 'b', 2.25), (3, 'c', 3.00)");

        using IPreparedStatement statement = await session.PrepareAsync(
            "select id, name, price * 2 as doubled from items where id > $1 and name <> $2 order by id", default);
        Assert.True(statement.ReturnsRows);
        Assert.Equal([ArrowTypeId.Int32, ArrowTypeId.String], statement.ParameterTypes.Select(t => t!.TypeId));
        Assert.Equal(["id", "name", "doubled"], statement.ResultSchema.FieldsList.Select(f => f.Name));
        Assert.Equal(
            [ArrowTypeId.Int32, ArrowTypeId.String, ArrowTypeId.Decimal128],
            statement.ResultSchema.FieldsList.Select(f => f.DataType.TypeId));

        await using IQueryResult result = await statement.ExecuteAsync(new[] { ParameterValue.FromInt32(1), ParameterValue.FromText("c") }, default);
        List<object?[]> rows = await Rows(result);
        Assert.Equal([2], rows.Select(r => r[0]));
        Assert.Equal(4.50m, rows[0][2]);
    }

    [Fact]
    public async Task Parameters_of_unknown_type_are_reported_as_null()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        using IPreparedStatement statement = await session.PrepareAsync("select $1::bigint, $2", default);
        Assert.Equal(ArrowTypeId.Int64, statement.ParameterTypes[0]!.TypeId);
        Assert.Null(statement.ParameterTypes[1]);
    }

    [Fact]
    public async Task Columns_of_unresolved_type_are_described_as_unknown_text_until_execution()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        using IPreparedStatement statement = await session.PrepareAsync("select $1 as a", default);
        Assert.True(statement.ReturnsRows);
        Field described = Assert.Single(statement.ResultSchema.FieldsList);
        Assert.Equal(ArrowTypeId.String, described.DataType.TypeId);
        Assert.Equal("UNKNOWN", described.Metadata[ArrowConventions.EngineTypeKey]);

        // The result carries the real type: the bound value's.
        await using IQueryResult result = await statement.ExecuteAsync(new[] { ParameterValue.FromInt32(7) }, default);
        Field actual = Assert.Single(result.Schema.FieldsList);
        Assert.Equal(ArrowTypeId.Int32, actual.DataType.TypeId);
        Assert.Equal("INTEGER", actual.Metadata[ArrowConventions.EngineTypeKey]);
        Assert.Equal(7, Assert.Single(await Rows(result))[0]);
    }

    [Fact]
    public async Task Statements_without_rows_have_an_empty_schema()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        await Run(session, "create table t(i int)");
        foreach (string sql in new[] { "insert into t values ($1)", "update t set i = 2", "delete from t", "create table u(i int)", "set threads = 2", "begin", "pragma enable_profiling" })
        {
            using IPreparedStatement statement = await session.PrepareAsync(sql, default);
            Assert.False(statement.ReturnsRows, sql);
            Assert.Empty(statement.ResultSchema.FieldsList);
        }

        using IPreparedStatement returning = await session.PrepareAsync("insert into t values (1) returning i * 10 as x", default);
        Assert.True(returning.ReturnsRows);
        Assert.Equal("x", Assert.Single(returning.ResultSchema.FieldsList).Name);
    }

    public static TheoryData<string, ParameterValue, object?> Values => new()
    {
        { "select $1 is null", ParameterValue.Null, true },
        { "select $1", ParameterValue.FromBoolean(true), true },
        { "select $1", ParameterValue.FromInt16(-7), (short)-7 },
        { "select $1 + 1", ParameterValue.FromInt32(41), 42 },
        { "select $1", ParameterValue.FromInt64(long.MinValue), long.MinValue },
        { "select $1", ParameterValue.FromFloat32(1.5f), 1.5f },
        { "select $1 * 2", ParameterValue.FromFloat64(0.25), 0.5 },
        { "select $1", ParameterValue.FromDecimalText("-12.340"), -12.340m },
        { "select $1 + 1", ParameterValue.FromDecimalText("0.05"), 1.05m },
        { "select $1::decimal(38,10)", ParameterValue.FromDecimalText("123456789012345678.0123456789"), 123456789012345678.0123456789m },
        { "select $1", ParameterValue.FromText("héllo"), "héllo" },
        { "select $1::int + 1", ParameterValue.FromText("41"), 42 },
        { "select $1::date", ParameterValue.FromText("2024-02-29"), new DateOnly(2024, 2, 29) },
        { "select $1", ParameterValue.FromDate(19782), new DateOnly(2024, 2, 29) },
        { "select $1", ParameterValue.FromTime(3_723_000_001), 3_723_000_001L },
        { "select $1", ParameterValue.FromTimestamp(1_704_164_645_000_000), new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero) },
        { "select $1", ParameterValue.FromTimestampTz(1_704_164_645_000_000), new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero) },
        { "select $1::uuid::varchar", ParameterValue.FromUuid(Guid.Parse("5b1e0a44-6d0e-4d4e-9f2e-1234567890ab")), "5b1e0a44-6d0e-4d4e-9f2e-1234567890ab" },
        { "select json_extract($1::json, '$.a')::int", ParameterValue.FromJson("""{"a": 5}"""), 5 },
        { "select $1", ParameterValue.FromArray([ParameterValue.FromInt32(1), ParameterValue.Null, ParameterValue.FromInt32(3)]), new object?[] { 1, null, 3 } },
        { "select $1", ParameterValue.FromArray([ParameterValue.FromText("a"), ParameterValue.FromText("b")]), new object?[] { "a", "b" } },
        { "select $1::bigint[]", ParameterValue.FromArray([ParameterValue.FromText("1"), ParameterValue.FromText("2")]), new object?[] { 1L, 2L } },
        { "select list_contains($1::int[], 2)", ParameterValue.FromArray([ParameterValue.FromInt64(1), ParameterValue.FromInt64(2)]), true },
        { "select $1", ParameterValue.FromArray([]), System.Array.Empty<object?>() },
        { "select $1", ParameterValue.FromArray([ParameterValue.FromInt32(1), ParameterValue.FromText("x")]), new object?[] { "1", "x" } },
        { "select len($1[1]) + len($1[2])", ParameterValue.FromArray([ParameterValue.FromArray([ParameterValue.FromInt32(1), ParameterValue.FromInt32(2)]), ParameterValue.FromArray([ParameterValue.FromInt32(3)])]), 3L },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public async Task Every_parameter_kind_binds(string sql, ParameterValue parameter, object? expected)
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        using IPreparedStatement statement = await session.PrepareAsync(sql, default);
        Assert.Equal(expected, await Scalar(statement, parameter));
    }

    [Fact]
    public async Task Bytes_and_intervals_bind_natively()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        using IPreparedStatement statement = await session.PrepareAsync("select $1, octet_length($1), $2, $2 + interval 1 day", default);
        await using IQueryResult result = await statement.ExecuteAsync(
            new[] { ParameterValue.FromBytes([0, 1, 255]), ParameterValue.FromInterval(1, 2, 3_000_000) }, default);
        Assert.Equal(ArrowTypeId.Binary, result.Schema.FieldsList[0].DataType.TypeId);
        object?[] row = Assert.Single(await Rows(result));
        Assert.Equal(new byte[] { 0, 1, 255 }, row[0]);
        Assert.Equal(3L, row[1]);
        Assert.Equal(new MonthDayNanosecondInterval(1, 2, 3_000_000_000), row[2]);
        Assert.Equal(new MonthDayNanosecondInterval(1, 3, 3_000_000_000), row[3]);
    }

    [Fact]
    public async Task Text_converts_to_the_inferred_parameter_type()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        await Run(session, "create table t(i int, d date)");
        await Run(session, "insert into t values (1, date '2024-01-01'), (2, date '2024-01-02')");
        using IPreparedStatement statement = await session.PrepareAsync("select i from t where i = $1 or d = $2", default);
        Assert.Equal(ArrowTypeId.Date32, statement.ParameterTypes[1]!.TypeId);
        await using IQueryResult result = await statement.ExecuteAsync(new[] { ParameterValue.FromText("1"), ParameterValue.FromText("2024-01-02") }, default);
        Assert.Equal([1, 2], (await Rows(result)).Select(r => r[0]).Order());
    }

    [Fact]
    public async Task A_prepared_statement_runs_many_times_with_new_values()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        using IPreparedStatement statement = await session.PrepareAsync("select $1 * 2", default);
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(i * 2L, await Scalar(statement, ParameterValue.FromInt64(i)));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Parameter_count_mismatch_is_a_protocol_violation(int supplied)
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        using IPreparedStatement statement = await session.PrepareAsync("select $1::int + $2::int", default);
        ParameterValue[] values = Enumerable.Repeat(ParameterValue.FromInt32(1), supplied).ToArray();
        var error = await Assert.ThrowsAsync<EngineException>(async () => await statement.ExecuteAsync(values, default));
        Assert.Equal(SqlStates.ProtocolViolation, error.SqlState);
        Assert.Equal($"bind message supplies {supplied} parameters, but prepared statement requires 2", error.Message);
        Assert.Equal(2, await Scalar(statement, ParameterValue.FromInt32(1), ParameterValue.FromInt32(1)));
    }

    [Fact]
    public async Task Text_that_does_not_convert_is_invalid_text_representation()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        using IPreparedStatement statement = await session.PrepareAsync("select $1::int", default);
        var error = await Assert.ThrowsAsync<EngineException>(async () => await statement.ExecuteAsync(new[] { ParameterValue.FromText("abc") }, default));
        Assert.Equal(SqlStates.InvalidTextRepresentation, error.SqlState);
        Assert.Contains("abc", error.Message, StringComparison.Ordinal);
        Assert.Equal(5, await Scalar(statement, ParameterValue.FromText("5")));
    }

    [Theory]
    [InlineData("0", 1, 0, "0")]
    [InlineData("-12.340", 5, 3, "-12340")]
    [InlineData("0.05", 2, 2, "5")]
    [InlineData("+100", 3, 0, "100")]
    [InlineData("99999999999999999999999999999999999999", 38, 0, "99999999999999999999999999999999999999")]
    public void Decimal_text_parses_to_width_scale_and_unscaled_value(string text, int width, int scale, string unscaled)
    {
        Assert.True(LakeOps.Edge.Engines.DuckDb.DuckDbParameters.TryParseDecimal(text, out var value));
        Assert.Equal((width, scale), (value.Width, value.Scale));
        Assert.Equal(unscaled, ((Int128)value.Upper << 64 | value.Lower).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("")]
    [InlineData("1e5")]
    [InlineData("NaN")]
    [InlineData("1.2.3")]
    [InlineData("999999999999999999999999999999999999999")]
    public void Decimal_text_that_is_not_a_plain_decimal_is_rejected(string text) =>
        Assert.False(LakeOps.Edge.Engines.DuckDb.DuckDbParameters.TryParseDecimal(text, out _));

    [Fact]
    public async Task Decimal_special_values_bind_as_double()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        using IPreparedStatement statement = await session.PrepareAsync("select $1", default);
        Assert.Equal(double.PositiveInfinity, await Scalar(statement, ParameterValue.FromDecimalText("Infinity")));
        Assert.True(double.IsNaN((double)(await Scalar(statement, ParameterValue.FromDecimalText("NaN")))!));
    }
}

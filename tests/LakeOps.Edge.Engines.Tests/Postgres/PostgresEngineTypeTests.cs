using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Tests.Shared;
using static LakeOps.Edge.Engines.Tests.Postgres.PgTestSupport;

namespace LakeOps.Edge.Engines.Tests.Postgres;

/// <summary>Every common type through the Arrow path, checked against the server's own text rendering of the same value.</summary>
public class PostgresEngineTypeTests
{
    private const string IntervalText =
        "(extract(year from v) * 12 + extract(month from v))::int || '|' || extract(day from v)::int || '|' || "
        + "((extract(hour from v) * 3600 + extract(minute from v) * 60) * 1000000 + extract(microseconds from v))::bigint";

    // Through text[] so elements print as the scalar casts do (bool 'true', not 't').
    private const string ArrayText = "'{' || array_to_string(v::text[], '|', 'NULL') || '}'";

    [Theory]
    [InlineData("true", ArrowTypeId.Boolean, null)]
    [InlineData("(-12345)::int2", ArrowTypeId.Int16, null)]
    [InlineData("(-123456789)::int4", ArrowTypeId.Int32, null)]
    [InlineData("9007199254740993::int8", ArrowTypeId.Int64, null)]
    [InlineData("3000000000::oid", ArrowTypeId.UInt32, null)]
    [InlineData("1.5::float4", ArrowTypeId.Float, null)]
    [InlineData("0.1::float8", ArrowTypeId.Double, null)]
    [InlineData("'-Infinity'::float8", ArrowTypeId.Double, null)]
    [InlineData("12345.678::numeric(10,3)", ArrowTypeId.Decimal128, null)]
    [InlineData("(-0.001)::numeric(38,10)", ArrowTypeId.Decimal128, null)]
    [InlineData("12345678901234567890123456789012345678::numeric(38,0)", ArrowTypeId.Decimal128, null)]
    [InlineData("1.50::numeric", ArrowTypeId.String, null)]
    [InlineData("'NaN'::numeric", ArrowTypeId.String, null)]
    [InlineData("(-123456789012345678901234567890123456789012.5)::numeric(50,1)", ArrowTypeId.String, null)]
    [InlineData("0.0000012::numeric", ArrowTypeId.String, null)]
    [InlineData("'hello wörld'::text", ArrowTypeId.String, null)]
    [InlineData("'abc'::varchar(10)", ArrowTypeId.String, null)]
    [InlineData("'ab'::char(5)", ArrowTypeId.String, "rpad(v::text, 5)")]
    [InlineData("'relname'::name", ArrowTypeId.String, null)]
    [InlineData("'x'::\"char\"", ArrowTypeId.String, null)]
    [InlineData("'\\x00ff10'::bytea", ArrowTypeId.Binary, null)]
    [InlineData("'2024-02-29'::date", ArrowTypeId.Date32, null)]
    [InlineData("'1900-01-01'::date", ArrowTypeId.Date32, null)]
    [InlineData("'13:45:59.123456'::time", ArrowTypeId.Time64, null)]
    [InlineData("'2024-02-29 13:45:59.5'::timestamp", ArrowTypeId.Timestamp, null)]
    [InlineData("'1969-07-20 20:17:40'::timestamp", ArrowTypeId.Timestamp, null)]
    [InlineData("'2024-02-29 13:45:59.000001+02'::timestamptz", ArrowTypeId.Timestamp, null)]
    [InlineData("'1 year 2 mons 3 days 04:05:06.789'::interval", ArrowTypeId.Interval, IntervalText)]
    [InlineData("'-1 days -00:00:01'::interval", ArrowTypeId.Interval, IntervalText)]
    [InlineData("'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", ArrowTypeId.String, null)]
    [InlineData("'{\"a\": [1, 2]}'::json", ArrowTypeId.String, null)]
    [InlineData("'{\"b\": 1, \"a\": 2}'::jsonb", ArrowTypeId.String, null)]
    [InlineData("array[1, null, 3]::int4[]", ArrowTypeId.List, ArrayText)]
    [InlineData("array['a b', 'c,d', null]::text[]", ArrowTypeId.List, ArrayText)]
    [InlineData("array[1.5, null]::numeric(4,1)[]", ArrowTypeId.List, ArrayText)]
    [InlineData("array['2024-01-01'::date, '1999-12-31']", ArrowTypeId.List, ArrayText)]
    [InlineData("array[true, false]", ArrowTypeId.List, ArrayText)]
    [InlineData("array['\\x01'::bytea]", ArrowTypeId.List, ArrayText)]
    [InlineData("array['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid]", ArrowTypeId.List, ArrayText)]
    [InlineData("array['2024-02-29 13:45:59.25'::timestamptz]", ArrowTypeId.List, ArrayText)]
    [InlineData("'{}'::int8[]", ArrowTypeId.List, ArrayText)]
    [InlineData("'10.0.0.1/8'::inet", ArrowTypeId.String, null)]
    [InlineData("int4range(1, 5)", ArrowTypeId.String, null)]
    [InlineData("point(1, 2)", ArrowTypeId.String, null)]
    [InlineData("'12:00+05'::timetz", ArrowTypeId.String, null)]
    public async Task Value_and_null_match_the_server_text(string literal, ArrowTypeId expectedType, string? textExpression)
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        string text = textExpression ?? "v::text";

        // One row with the value and the server's text of it...
        List<IArrowArray[]> batches = await ReadAllAsync(session, $"select v, {text} as t from (select {literal} as v) as x");
        Assert.Single(batches);
        IArrowArray values = batches[0][0];
        Assert.Equal(1, values.Length);
        Assert.Equal(expectedType, values.Data.DataType.TypeId);
        string? serverText = ((StringArray)batches[0][1]).GetString(0);
        string? decoded = PgArrowText.Format(values, 0);
        if (values is FloatArray or DoubleArray)
        {
            Assert.Equal(double.Parse(serverText!, CultureInfo.InvariantCulture), double.Parse(decoded!, CultureInfo.InvariantCulture));
        }
        else
        {
            Assert.Equal(serverText, decoded);
        }

        // ...and a NULL of exactly the same type (an outer join keeps the type modifier, unlike VALUES or UNION).
        List<IArrowArray[]> nulls = await ReadAllAsync(session, $"select x.v from (select 1) as d left join (select {literal} as v) as x on false");
        IArrowArray nullValue = nulls[0][0];
        Assert.Equal(values.Data.DataType.TypeId, nullValue.Data.DataType.TypeId);
        Assert.True(nullValue.IsNull(0));
        Assert.Equal(1, nullValue.NullCount);
    }

    [Fact]
    public async Task Json_and_uuid_columns_carry_the_arrow_extension_name()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        await using IQueryResult result = await session.ExecuteAsync(
            "select '{}'::json as j, '[]'::jsonb as jb, gen_random_uuid() as u, 1::int4 as i, 2.5::numeric(5,2) as d", CancellationToken.None);
        Schema schema = result.Schema;
        Assert.Equal(ArrowConventions.JsonExtension, schema.GetFieldByName("j").Metadata[ArrowConventions.ExtensionNameKey]);
        Assert.Equal(ArrowConventions.JsonExtension, schema.GetFieldByName("jb").Metadata[ArrowConventions.ExtensionNameKey]);
        Assert.Equal(ArrowConventions.UuidExtension, schema.GetFieldByName("u").Metadata[ArrowConventions.ExtensionNameKey]);
        Assert.Equal("int4", schema.GetFieldByName("i").Metadata[ArrowConventions.EngineTypeKey]);
        Assert.Equal("numeric(5,2)", schema.GetFieldByName("d").Metadata[ArrowConventions.EngineTypeKey]);
        var decimalType = (Decimal128Type)schema.GetFieldByName("d").DataType;
        Assert.Equal((5, 2), (decimalType.Precision, decimalType.Scale));
    }

    [Fact]
    public async Task Enum_columns_come_back_as_their_labels()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        await DrainAsync(session, "drop type if exists edge_mood cascade");
        await DrainAsync(session, "create type edge_mood as enum ('sad', 'happy')");
        var batches = await ReadAllAsync(session, "select 'happy'::edge_mood, 'happy'::edge_mood::text");
        Assert.Equal(((StringArray)batches[0][1]).GetString(0), ((StringArray)batches[0][0]).GetString(0));
    }

    [Fact]
    public async Task Multi_dimensional_arrays_fail_clearly_and_the_session_goes_on()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        var error = await Assert.ThrowsAsync<EngineException>(() => ReadAllAsync(session, "select array[[1, 2], [3, 4]]"));
        Assert.Equal(SqlStates.FeatureNotSupported, error.SqlState);
        Assert.Contains("2-dimensional", error.Message, StringComparison.Ordinal);
        Assert.Equal(1L, await ScalarAsync<long>(session, "select 1::int8"));
    }

    [Fact]
    public async Task Decimal_column_holding_nan_fails_with_22003()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(Cluster(server));
        await using var session = await OpenAsync(engine);
        var error = await Assert.ThrowsAsync<EngineException>(() => ReadAllAsync(session, "select 'NaN'::numeric(10,2)"));
        Assert.Equal(SqlStates.NumericValueOutOfRange, error.SqlState);
        Assert.Equal(1L, await ScalarAsync<long>(session, "select 1::int8"));
    }
}

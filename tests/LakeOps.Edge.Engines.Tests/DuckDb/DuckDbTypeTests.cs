using Apache.Arrow;
using Apache.Arrow.Scalars;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using static LakeOps.Edge.Engines.Tests.DuckDb.DuckDbFixture;

namespace LakeOps.Edge.Engines.Tests.DuckDb;

public class DuckDbTypeTests
{
    private const string AllTypes = """
        select 1::int as i, 2::bigint as b, 12345678901234567890123456789012345678::hugeint as h, 1.5::double as d,
               12345678.91::decimal(10,2) as d10, 1234567890.0123456789::decimal(38,10) as d38,
               'héllo' as v, '\x01\xFF'::blob as bl, date '2024-02-29' as dt, time '13:14:15.123456' as t,
               timestamp '2024-01-02 03:04:05.678901' as ts, timestamptz '2024-01-02 03:04:05+00' as tz,
               interval '1 month 2 days 3.5 seconds' as iv, uuid '5b1e0a44-6d0e-4d4e-9f2e-1234567890ab' as u,
               '{"a":[1,2]}'::json as j, [1, null, 3]::int[] as il, ['a', 'b']::varchar[] as vl,
               {'x': 1, 'y': 'z'} as st, map {'k': 1} as m, null::int as n
        """;

    [Fact]
    public async Task Every_type_maps_to_its_arrow_type_with_metadata()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        using IPreparedStatement statement = await session.PrepareAsync(AllTypes, default);

        // Known before execution, and identical on the result.
        AssertSchema(statement.ResultSchema);
        await using IQueryResult result = await statement.ExecuteAsync(ReadOnlyMemory<ParameterValue>.Empty, default);
        AssertSchema(result.Schema);
        Assert.True(result.ReturnsRows);
        Assert.Equal(-1, result.RowsAffected);
    }

    private static void AssertSchema(Schema schema)
    {
        Assert.Equal(20, schema.FieldsList.Count);
        AssertField(schema, "i", ArrowTypeId.Int32, "INTEGER");
        AssertField(schema, "b", ArrowTypeId.Int64, "BIGINT");
        var hugeint = Assert.IsType<Decimal128Type>(AssertField(schema, "h", ArrowTypeId.Decimal128, "HUGEINT").DataType);
        Assert.Equal((38, 0), (hugeint.Precision, hugeint.Scale));
        AssertField(schema, "d", ArrowTypeId.Double, "DOUBLE");
        var d10 = Assert.IsType<Decimal128Type>(AssertField(schema, "d10", ArrowTypeId.Decimal128, "DECIMAL(10,2)").DataType);
        Assert.Equal((10, 2), (d10.Precision, d10.Scale));
        var d38 = Assert.IsType<Decimal128Type>(AssertField(schema, "d38", ArrowTypeId.Decimal128, "DECIMAL(38,10)").DataType);
        Assert.Equal((38, 10), (d38.Precision, d38.Scale));
        AssertField(schema, "v", ArrowTypeId.String, "VARCHAR");
        AssertField(schema, "bl", ArrowTypeId.Binary, "BLOB");
        AssertField(schema, "dt", ArrowTypeId.Date32, "DATE");
        Assert.Equal(TimeUnit.Microsecond, Assert.IsType<Time64Type>(AssertField(schema, "t", ArrowTypeId.Time64, "TIME").DataType).Unit);
        var ts = Assert.IsType<TimestampType>(AssertField(schema, "ts", ArrowTypeId.Timestamp, "TIMESTAMP").DataType);
        Assert.Null(ts.Timezone);
        var tz = Assert.IsType<TimestampType>(AssertField(schema, "tz", ArrowTypeId.Timestamp, "TIMESTAMP WITH TIME ZONE").DataType);
        Assert.False(string.IsNullOrEmpty(tz.Timezone));
        Assert.Equal(IntervalUnit.MonthDayNanosecond, Assert.IsType<IntervalType>(AssertField(schema, "iv", ArrowTypeId.Interval, "INTERVAL").DataType).Unit);
        Field uuid = AssertField(schema, "u", ArrowTypeId.String, "UUID");
        Assert.Equal(ArrowConventions.UuidExtension, uuid.Metadata[ArrowConventions.ExtensionNameKey]);
        Field json = AssertField(schema, "j", ArrowTypeId.String, "JSON");
        Assert.Equal(ArrowConventions.JsonExtension, json.Metadata[ArrowConventions.ExtensionNameKey]);
        Assert.Equal(ArrowTypeId.Int32, Assert.IsType<ListType>(AssertField(schema, "il", ArrowTypeId.List, "INTEGER[]").DataType).ValueDataType.TypeId);
        Assert.Equal(ArrowTypeId.String, Assert.IsType<ListType>(AssertField(schema, "vl", ArrowTypeId.List, "VARCHAR[]").DataType).ValueDataType.TypeId);
        var st = Assert.IsType<StructType>(AssertField(schema, "st", ArrowTypeId.Struct, "STRUCT(\"x\" INTEGER, \"y\" VARCHAR)").DataType);
        Assert.Equal(["x", "y"], st.Fields.Select(f => f.Name));
        var map = Assert.IsType<MapType>(AssertField(schema, "m", ArrowTypeId.Map, "MAP(VARCHAR, INTEGER)").DataType);
        Assert.Equal(ArrowTypeId.String, map.KeyField.DataType.TypeId);
        AssertField(schema, "n", ArrowTypeId.Int32, "INTEGER");
        Assert.False(schema.GetFieldByName("i").Metadata.ContainsKey(ArrowConventions.ExtensionNameKey));
    }

    private static Field AssertField(Schema schema, string name, ArrowTypeId type, string engineType)
    {
        Field field = schema.GetFieldByName(name);
        Assert.NotNull(field);
        Assert.Equal(type, field.DataType.TypeId);
        Assert.Equal(engineType, field.Metadata[ArrowConventions.EngineTypeKey]);
        return field;
    }

    [Fact]
    public async Task Every_type_round_trips_its_values()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        await using IQueryResult result = await session.ExecuteAsync(AllTypes, default);
        RecordBatch batch = Assert.IsType<RecordBatch>(await result.ReadBatchAsync(default));
        Assert.Equal(1, batch.Length);
        object? Cell(string name) => Value(batch.Column(name), 0);

        Assert.Equal(1, Cell("i"));
        Assert.Equal(2L, Cell("b"));
        Assert.Equal("12345678901234567890123456789012345678", ((Decimal128Array)batch.Column("h")).GetSqlDecimal(0)!.Value.ToString());
        Assert.Equal(1.5, Cell("d"));
        Assert.Equal(12345678.91m, Cell("d10"));
        Assert.Equal(1234567890.0123456789m, Cell("d38"));
        Assert.Equal("héllo", Cell("v"));
        Assert.Equal(new byte[] { 0x01, 0xFF }, Cell("bl"));
        Assert.Equal(new DateOnly(2024, 2, 29), Cell("dt"));
        Assert.Equal(((13 * 3600L) + (14 * 60) + 15) * 1_000_000 + 123456, Cell("t"));
        Assert.Equal(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(6789010), Cell("ts"));
        Assert.Equal(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero), Cell("tz"));
        var interval = (MonthDayNanosecondInterval)Cell("iv")!;
        Assert.Equal((1, 2, 3_500_000_000L), (interval.Months, interval.Days, interval.Nanoseconds));
        Assert.Equal("5b1e0a44-6d0e-4d4e-9f2e-1234567890ab", Cell("u"));
        Assert.Equal("""{"a":[1,2]}""", Cell("j"));
        Assert.Equal(new object?[] { 1, null, 3 }, Cell("il"));
        Assert.Equal(new object?[] { "a", "b" }, Cell("vl"));
        var st = (StructArray)batch.Column("st");
        Assert.Equal(1, Value(st.Fields[0], 0));
        Assert.Equal("z", Value(st.Fields[1], 0));
        var map = (MapArray)batch.Column("m");
        Assert.Equal("k", Value(map.Keys, 0));
        Assert.Equal(1, Value(map.Values, 0));
        Assert.Null(Cell("n"));
        Assert.Null(await result.ReadBatchAsync(default));
    }

    [Fact]
    public async Task Nulls_of_every_type_are_null_in_arrow()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        List<object?[]> rows = await Rows(session, """
            select null::varchar, null::blob, null::decimal(10,2), null::date, null::timestamptz, null::interval,
                   null::uuid, null::json, null::int[], [null]::int[]
            """);
        object?[] row = Assert.Single(rows);
        Assert.All(row[..9], Assert.Null);
        Assert.Equal(new object?[] { null }, row[9]);
    }

    [Fact]
    public async Task Enum_is_a_dictionary_of_strings()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        await using IQueryResult result = await session.ExecuteAsync("select 'b'::enum('a', 'b') as e", default);
        Assert.Equal("ENUM", result.Schema.GetFieldByName("e").Metadata[ArrowConventions.EngineTypeKey]);
        RecordBatch batch = Assert.IsType<RecordBatch>(await result.ReadBatchAsync(default));
        var dictionary = Assert.IsType<DictionaryArray>(batch.Column(0));
        Assert.Equal("b", ((StringArray)dictionary.Dictionary).GetString(((UInt8Array)dictionary.Indices).GetValue(0)!.Value));
    }
}

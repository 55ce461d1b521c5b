using System.Buffers;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using Apache.Arrow.Scalars;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Trino;

namespace LakeOps.Edge.Protocols.Tests.Trino;

public class TrinoResultsWriterTests
{
    private static string Encode(Field field, IArrowArray array, int index = 0)
    {
        TrinoType type = TrinoTypeMapper.FromField(field);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, TrinoQueryResultsWriter.Options))
        {
            TrinoValueWriter.Write(writer, type, array, index);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string Signature(TrinoType type)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            type.WriteSignature(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static Field F(string name, IArrowType type, string? extension = null) =>
        new(name, type, true, extension is null ? null : new Dictionary<string, string> { [ArrowConventions.ExtensionNameKey] = extension });

    [Fact]
    public void Integers_booleans_and_floats_are_json_numbers()
    {
        Assert.Equal("true", Encode(F("b", BooleanType.Default), new BooleanArray.Builder().Append(true).Build()));
        Assert.Equal("-7", Encode(F("t", Int8Type.Default), new Int8Array.Builder().Append(-7).Build()));
        Assert.Equal("300", Encode(F("s", Int16Type.Default), new Int16Array.Builder().Append(300).Build()));
        Assert.Equal("-2147483648", Encode(F("i", Int32Type.Default), new Int32Array.Builder().Append(int.MinValue).Build()));
        Assert.Equal("9223372036854775807", Encode(F("l", Int64Type.Default), new Int64Array.Builder().Append(long.MaxValue).Build()));
        Assert.Equal("1.5", Encode(F("d", DoubleType.Default), new DoubleArray.Builder().Append(1.5).Build()));
        Assert.Equal("0.25", Encode(F("r", FloatType.Default), new FloatArray.Builder().Append(0.25f).Build()));
        Assert.Equal("\"18446744073709551615\"", Encode(F("u", UInt64Type.Default), new UInt64Array.Builder().Append(ulong.MaxValue).Build()));
    }

    [Theory]
    [InlineData(double.NaN, "\"NaN\"")]
    [InlineData(double.PositiveInfinity, "\"Infinity\"")]
    [InlineData(double.NegativeInfinity, "\"-Infinity\"")]
    public void Non_finite_doubles_are_strings(double value, string expected) =>
        Assert.Equal(expected, Encode(F("d", DoubleType.Default), new DoubleArray.Builder().Append(value).Build()));

    [Fact]
    public void Nulls_are_json_null()
    {
        Assert.Equal("null", Encode(F("i", Int32Type.Default), new Int32Array.Builder().AppendNull().Build()));
        Assert.Equal("null", Encode(F("s", StringType.Default), new StringArray.Builder().AppendNull().Build()));
    }

    [Fact]
    public void Decimal_is_exact_text()
    {
        var type = new Decimal128Type(10, 2);
        Decimal128Array array = new Decimal128Array.Builder(type).Append(-12345.67m).Append(0.05m).Build();
        Assert.Equal("\"-12345.67\"", Encode(F("d", type), array, 0));
        Assert.Equal("\"0.05\"", Encode(F("d", type), array, 1));
        Assert.Equal("decimal(10,2)", TrinoTypeMapper.FromArrow(type).Name);
    }

    [Fact]
    public void Strings_json_uuid_and_binary()
    {
        Assert.Equal("\"héllo \\\"x\\\"\"", Encode(F("v", StringType.Default), new StringArray.Builder().Append("héllo \"x\"").Build()));
        Assert.Equal("\"{\\\"a\\\":1}\"", Encode(F("j", StringType.Default, ArrowConventions.JsonExtension), new StringArray.Builder().Append("{\"a\":1}").Build()));
        Assert.Equal("json", TrinoTypeMapper.FromField(F("j", StringType.Default, ArrowConventions.JsonExtension)).Name);
        Assert.Equal("\"AQID\"", Encode(F("b", BinaryType.Default), new BinaryArray.Builder().Append([1, 2, 3]).Build()));

        byte[] uuid = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff").ToByteArray(bigEndian: true);
        var uuidType = new FixedSizeBinaryType(16);
        var data = new ArrayData(uuidType, 1, 0, 0, [ArrowBuffer.Empty, new ArrowBuffer(uuid)]);
        var uuidArray = new FixedSizeBinaryArray(data);
        Assert.Equal("\"00112233-4455-6677-8899-aabbccddeeff\"", Encode(F("u", uuidType, ArrowConventions.UuidExtension), uuidArray));
        Assert.Equal("uuid", TrinoTypeMapper.FromField(F("u", uuidType, ArrowConventions.UuidExtension)).Name);
    }

    [Fact]
    public void Dates_times_and_timestamps()
    {
        Assert.Equal("\"2024-02-29\"", Encode(F("d", Date32Type.Default), new Date32Array.Builder().Append(new DateTime(2024, 2, 29)).Build()));
        Assert.Equal("\"1969-12-31\"", Encode(F("d", Date32Type.Default), new Date32Array.Builder().Append(new DateTime(1969, 12, 31)).Build()));

        var time = new Time64Type(TimeUnit.Microsecond);
        Assert.Equal("\"13:45:06.000250\"", Encode(F("t", time), new Time64Array.Builder(time).Append((((13 * 3600) + (45 * 60) + 6) * 1_000_000L) + 250).Build()));
        Assert.Equal("time(6)", TrinoTypeMapper.FromArrow(time).Name);

        var timestamp = new TimestampType(TimeUnit.Millisecond, (string?)null);
        long millis = new DateTimeOffset(2001, 2, 3, 4, 5, 6, 789, TimeSpan.Zero).ToUnixTimeMilliseconds();
        Assert.Equal("\"2001-02-03 04:05:06.789\"", Encode(F("ts", timestamp), new TimestampArray.Builder(timestamp).Append(DateTimeOffset.FromUnixTimeMilliseconds(millis)).Build()));
        Assert.Equal("timestamp(3)", TrinoTypeMapper.FromArrow(timestamp).Name);

        var zoned = new TimestampType(TimeUnit.Microsecond, "UTC");
        Assert.Equal("\"1969-12-31 23:59:59.999999 UTC\"", Encode(F("tz", zoned), new TimestampArray.Builder(zoned).Append(DateTimeOffset.FromUnixTimeMilliseconds(0).AddTicks(-10)).Build()));
        Assert.Equal("timestamp(6) with time zone", TrinoTypeMapper.FromArrow(zoned).Name);
    }

    [Fact]
    public void Intervals()
    {
        var dayTime = new IntervalType(IntervalUnit.MonthDayNanosecond);
        var array = new MonthDayNanosecondIntervalArray.Builder()
            .Append(new MonthDayNanosecondInterval(0, 1, ((2 * 3600) + (3 * 60) + 4) * 1_000_000_000L + 500_000_000))
            .Append(new MonthDayNanosecondInterval(0, 0, -1_500_000_000))
            .Build();
        Assert.Equal("\"1 02:03:04.500\"", Encode(F("i", dayTime), array, 0));
        Assert.Equal("\"-0 00:00:01.500\"", Encode(F("i", dayTime), array, 1));
        Assert.Equal("interval day to second", TrinoTypeMapper.FromArrow(dayTime).Name);

        var yearMonth = new IntervalType(IntervalUnit.YearMonth);
        var months = new YearMonthIntervalArray.Builder().Append(new YearMonthInterval(14)).Append(new YearMonthInterval(-3)).Build();
        Assert.Equal("\"1-2\"", Encode(F("y", yearMonth), months, 0));
        Assert.Equal("\"-0-3\"", Encode(F("y", yearMonth), months, 1));
    }

    [Fact]
    public void Arrays_maps_and_rows()
    {
        var listType = new ListType(new Field("item", Int64Type.Default, true));
        var builder = new ListArray.Builder(Int64Type.Default);
        var values = (Int64Array.Builder)builder.ValueBuilder;
        builder.Append();
        values.Append(1).AppendNull().Append(3);
        builder.Append();
        ListArray list = builder.Build();
        Assert.Equal("[1,null,3]", Encode(F("a", listType), list, 0));
        Assert.Equal("[]", Encode(F("a", listType), list, 1));
        Assert.Equal("array(bigint)", TrinoTypeMapper.FromArrow(listType).Name);

        var structType = new StructType([new Field("x", Int32Type.Default, true), new Field("name", StringType.Default, true)]);
        var structArray = new StructArray(structType, 1,
            [new Int32Array.Builder().Append(5).Build(), new StringArray.Builder().Append("e").Build()], ArrowBuffer.Empty, 0);
        Assert.Equal("[5,\"e\"]", Encode(F("r", structType), structArray));
        Assert.Equal("row(x integer, name varchar)", TrinoTypeMapper.FromArrow(structType).Name);

        var mapType = new MapType(StringType.Default, Int32Type.Default);
        var keys = new StringArray.Builder().Append("a").Append("b").Build();
        var items = new Int32Array.Builder().Append(1).Append(2).Build();
        var entries = new StructArray(new StructType([mapType.KeyField, mapType.ValueField]), 2, [keys, items], ArrowBuffer.Empty, 0);
        var offsets = new ArrowBuffer.Builder<int>().Append(0).Append(2).Build();
        var map = new MapArray(mapType, 1, offsets, entries, ArrowBuffer.Empty, 0);
        Assert.Equal("{\"a\":1,\"b\":2}", Encode(F("m", mapType), map));
        Assert.Equal("map(varchar, integer)", TrinoTypeMapper.FromArrow(mapType).Name);
    }

    [Fact]
    public void Type_signatures()
    {
        Assert.Equal("""{"rawType":"bigint","arguments":[]}""", Signature(TrinoType.BigInt));
        Assert.Equal("""{"rawType":"varchar","arguments":[{"kind":"LONG","value":2147483647}]}""", Signature(TrinoType.Varchar));
        Assert.Equal("""{"rawType":"decimal","arguments":[{"kind":"LONG","value":10},{"kind":"LONG","value":2}]}""", Signature(TrinoType.Decimal(10, 2)));
        Assert.Equal("""{"rawType":"timestamp with time zone","arguments":[{"kind":"LONG","value":3}]}""", Signature(TrinoType.TimestampWithTimeZone(3)));
        Assert.Equal("""{"rawType":"array","arguments":[{"kind":"TYPE","value":{"rawType":"integer","arguments":[]}}]}""", Signature(TrinoType.Array(TrinoType.Integer)));
        Assert.Equal("""{"rawType":"map","arguments":[{"kind":"TYPE","value":{"rawType":"varchar","arguments":[{"kind":"LONG","value":2147483647}]}},{"kind":"TYPE","value":{"rawType":"double","arguments":[]}}]}""",
            Signature(TrinoType.Map(TrinoType.Varchar, TrinoType.Double)));
        Assert.Equal("""{"rawType":"row","arguments":[{"kind":"NAMED_TYPE","value":{"fieldName":{"name":"a"},"typeSignature":{"rawType":"boolean","arguments":[]}}}]}""",
            Signature(TrinoType.Row(["a"], [TrinoType.Boolean])));
    }

    [Fact]
    public void Whole_page_is_valid_json_with_columns_data_stats_error_and_update()
    {
        var schema = new Schema([new Field("n", Int32Type.Default, true), new Field("s", StringType.Default, true)], null);
        var batch = new RecordBatch(schema, [new Int32Array.Builder().Append(1).Append(2).Build(), new StringArray.Builder().Append("a").AppendNull().Build()], 2);
        TrinoColumn[] columns = [new("n", TrinoType.Integer), new("s", TrinoType.Varchar)];
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, TrinoQueryResultsWriter.Options))
        {
            TrinoQueryResultsWriter.Start(writer, "q", "http://e/i", "http://e/n");
            TrinoQueryResultsWriter.WriteColumns(writer, columns);
            TrinoQueryResultsWriter.StartData(writer);
            TrinoQueryResultsWriter.WriteRows(writer, columns, batch, 0, 2);
            TrinoQueryResultsWriter.EndData(writer);
            TrinoQueryResultsWriter.WriteStats(writer, new TrinoQueryStats(TrinoQueryStates.Running, 5, 1, 2, 20));
            TrinoQueryResultsWriter.WriteError(writer, TrinoError.FromSqlState("bad", "42601"));
            TrinoQueryResultsWriter.WriteUpdate(writer, "INSERT", 3);
            TrinoQueryResultsWriter.End(writer);
        }

        using JsonDocument document = JsonDocument.Parse(buffer.WrittenMemory);
        JsonElement root = document.RootElement;
        Assert.Equal("http://e/n", root.GetProperty("nextUri").GetString());
        Assert.Equal("integer", root.GetProperty("columns")[0].GetProperty("type").GetString());
        Assert.Equal("[[1,\"a\"],[2,null]]", root.GetProperty("data").GetRawText());
        Assert.Equal("RUNNING", root.GetProperty("stats").GetProperty("state").GetString());
        Assert.Equal(2, root.GetProperty("stats").GetProperty("processedRows").GetInt64());
        Assert.Equal("SYNTAX_ERROR", root.GetProperty("error").GetProperty("errorName").GetString());
        Assert.Equal("USER_ERROR", root.GetProperty("error").GetProperty("errorType").GetString());
        Assert.Equal(1, root.GetProperty("error").GetProperty("errorCode").GetInt32());
        Assert.Equal(3, root.GetProperty("updateCount").GetInt64());
    }

    [Fact]
    public void Row_runs_use_the_same_encoding_as_single_values()
    {
        var decimalType = new Decimal128Type(12, 3);
        var schema = new Schema([new Field("d", decimalType, true), new Field("w", new Decimal128Type(30, 2), true), new Field("x", DoubleType.Default, true)], null);
        var batch = new RecordBatch(schema,
        [
            new Decimal128Array.Builder(decimalType).Append(-0.005m).Append(123456789.123m).AppendNull().Append(0m).Build(),
            new Decimal128Array.Builder(new Decimal128Type(30, 2)).Append(-1234567890123456789012.5m).Append(0.01m).Append(1m).AppendNull().Build(),
            new DoubleArray.Builder().Append(double.NaN).Append(-2.5).Append(1e300).AppendNull().Build(),
        ], 4);
        TrinoColumn[] columns = [new("d", TrinoTypeMapper.FromArrow(decimalType)), new("w", TrinoType.Decimal(30, 2)), new("x", TrinoType.Double)];
        var runs = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(runs, TrinoQueryResultsWriter.Options))
        {
            writer.WriteStartArray();
            TrinoQueryResultsWriter.WriteRows(writer, columns, batch, 0, 4);
            writer.WriteEndArray();
        }

        Assert.Equal("""[["-0.005","-1234567890123456789012.50","NaN"],["123456789.123","0.01",-2.5],[null,"1.00",1E+300],["0.000",null,null]]""", Encoding.UTF8.GetString(runs.WrittenSpan));
    }

    [Theory]
    [InlineData("42601", "SYNTAX_ERROR", "USER_ERROR")]
    [InlineData("42P01", "GENERIC_USER_ERROR", "USER_ERROR")]
    [InlineData("22012", "DIVISION_BY_ZERO", "USER_ERROR")]
    [InlineData("57014", "USER_CANCELED", "USER_ERROR")]
    [InlineData("53300", "GENERIC_INSUFFICIENT_RESOURCES", "INSUFFICIENT_RESOURCES")]
    [InlineData("08006", "GENERIC_EXTERNAL", "EXTERNAL")]
    [InlineData("XX000", "GENERIC_INTERNAL_ERROR", "INTERNAL_ERROR")]
    public void Sql_states_map_to_trino_errors(string sqlState, string name, string type)
    {
        TrinoError error = TrinoError.FromSqlState("m", sqlState);
        Assert.Equal(name, error.ErrorName);
        Assert.Equal(type, error.ErrorType);
    }
}

using System.Buffers;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Scalars;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres.Types;
using static LakeOps.Edge.Protocols.Tests.Types.EncoderTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.Types;

public class PgParameterDecoderTests
{
    private static ParameterValue FromText(int oid, string text) => PgParameterDecoder.Decode(oid, 0, Encoding.UTF8.GetBytes(text));

    private static ParameterValue FromBinary(int oid, string hex) => PgParameterDecoder.Decode(oid, 1, Hex(hex));

    private static PgParameterException TextFails(int oid, string text) =>
        Assert.Throws<PgParameterException>(() => FromText(oid, text));

    private static PgParameterException BinaryFails(int oid, string hex) =>
        Assert.Throws<PgParameterException>(() => FromBinary(oid, hex));

    [Theory]
    [InlineData(0)]
    [InlineData(PgTypes.Unknown)]
    [InlineData(PgTypes.Text)]
    [InlineData(PgTypes.Varchar)]
    [InlineData(1042)]
    [InlineData(999_999)]
    public void Untyped_and_text_parameters_stay_text(int oid)
    {
        ParameterValue value = FromText(oid, " 42 é");
        Assert.Equal(ParameterKind.Text, value.Kind);
        Assert.Equal(" 42 é", value.AsString);
    }

    [Theory]
    [InlineData("t", true)]
    [InlineData("TRUE", true)]
    [InlineData(" yes ", true)]
    [InlineData("on", true)]
    [InlineData("1", true)]
    [InlineData("y", true)]
    [InlineData("f", false)]
    [InlineData("fal", false)]
    [InlineData("no", false)]
    [InlineData("off", false)]
    [InlineData("of", false)]
    [InlineData("0", false)]
    public void Bool_text(string text, bool expected)
    {
        ParameterValue value = FromText(PgTypes.Bool, text);
        Assert.Equal(ParameterKind.Boolean, value.Kind);
        Assert.Equal(expected, value.AsBoolean);
    }

    [Theory]
    [InlineData("o")]
    [InlineData("maybe")]
    [InlineData("")]
    [InlineData("truee")]
    public void Bad_bool_text_is_22P02(string text)
    {
        var error = TextFails(PgTypes.Bool, text);
        Assert.Equal(SqlStates.InvalidTextRepresentation, error.SqlState);
        Assert.Contains("boolean", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Integer_text_with_range_checks()
    {
        Assert.Equal((ParameterKind.Int16, -32768L), Kind(FromText(PgTypes.Int2, "-32768")));
        Assert.Equal((ParameterKind.Int32, 42L), Kind(FromText(PgTypes.Int4, "  +42 ")));
        Assert.Equal((ParameterKind.Int64, long.MinValue), Kind(FromText(PgTypes.Int8, "-9223372036854775808")));

        Assert.Equal(SqlStates.NumericValueOutOfRange, TextFails(PgTypes.Int2, "32768").SqlState);
        Assert.Equal(SqlStates.NumericValueOutOfRange, TextFails(PgTypes.Int8, "9223372036854775808").SqlState);
        var bad = TextFails(PgTypes.Int4, "12abc");
        Assert.Equal(SqlStates.InvalidTextRepresentation, bad.SqlState);
        Assert.Equal("invalid input syntax for type integer: \"12abc\"", bad.Message);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Int4, "1.5").SqlState);
    }

    private static (ParameterKind, long) Kind(ParameterValue value) => (value.Kind, value.AsInt64);

    [Fact]
    public void Float_text_including_special_values()
    {
        Assert.Equal(0.1, FromText(PgTypes.Float8, "0.1").AsFloat64);
        Assert.Equal(-1.5e-7, FromText(PgTypes.Float8, " -1.5e-7 ").AsFloat64);
        Assert.True(double.IsNaN(FromText(PgTypes.Float8, "nan").AsFloat64));
        Assert.Equal(double.PositiveInfinity, FromText(PgTypes.Float8, "Infinity").AsFloat64);
        Assert.Equal(double.NegativeInfinity, FromText(PgTypes.Float8, "-inf").AsFloat64);
        ParameterValue single = FromText(PgTypes.Float4, "1.5");
        Assert.Equal(ParameterKind.Float32, single.Kind);
        Assert.Equal(1.5f, single.AsFloat32);

        Assert.Equal(SqlStates.NumericValueOutOfRange, TextFails(PgTypes.Float8, "1e999").SqlState);
        Assert.Equal(SqlStates.NumericValueOutOfRange, TextFails(PgTypes.Float4, "1e39").SqlState);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Float8, "∞").SqlState);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Float8, "1,5").SqlState);
    }

    [Theory]
    [InlineData("012.50", "12.50")]
    [InlineData("1.5e3", "1500")]
    [InlineData("-0", "0")]
    [InlineData(".5", "0.5")]
    [InlineData("1.50e1", "15.0")]
    [InlineData("-1.5E-3", "-0.0015")]
    [InlineData(" 3.50 ", "3.50")]
    [InlineData("NaN", "NaN")]
    [InlineData("-Infinity", "-Infinity")]
    [InlineData("99999999999999999999999999999999999999.99", "99999999999999999999999999999999999999.99")]
    public void Numeric_text_becomes_canonical_decimal_text(string text, string expected)
    {
        ParameterValue value = FromText(PgTypes.Numeric, text);
        Assert.Equal(ParameterKind.Decimal, value.Kind);
        Assert.Equal(expected, value.AsString);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1.2.3")]
    [InlineData("1e")]
    [InlineData("abc")]
    [InlineData("--1")]
    public void Bad_numeric_text_is_22P02(string text)
    {
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Numeric, text).SqlState);
    }

    [Fact]
    public void Date_time_and_timestamp_text()
    {
        Assert.Equal(18321, FromText(PgTypes.Date, "2020-02-29").AsInt64);
        Assert.Equal(-735160, FromText(PgTypes.Date, "0044-03-15 BC").AsInt64);
        Assert.Equal(int.MaxValue, FromText(PgTypes.Date, "infinity").AsInt64);
        Assert.Equal(ParameterKind.Date, FromText(PgTypes.Date, "1970-01-01").Kind);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Date, "2021-02-29").SqlState);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Date, "Jan 1 2020").SqlState);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Date, "0000-01-01").SqlState);

        Assert.Equal(45_296_500_000, FromText(PgTypes.Time, "12:34:56.5").AsInt64);
        Assert.Equal(86_400_000_000, FromText(PgTypes.Time, "24:00:00").AsInt64);
        Assert.Equal(60_000_000, FromText(PgTypes.Time, "00:01").AsInt64);
        Assert.Equal(1, FromText(PgTypes.Time, "00:00:00.0000005").AsInt64);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Time, "24:00:01").SqlState);

        ParameterValue timestamp = FromText(PgTypes.Timestamp, "2020-01-01 12:34:56.123456");
        Assert.Equal(ParameterKind.Timestamp, timestamp.Kind);
        Assert.Equal(1_577_882_096_123_456, timestamp.AsInt64);
        Assert.Equal(1_577_836_800_000_000 + (12 * 3_600_000_000L), FromText(PgTypes.Timestamp, "2020-01-01T12:00:00+05:30").AsInt64);
        Assert.Equal(-62_135_683_200_000_000, FromText(PgTypes.Timestamp, "0001-12-31 00:00:00 BC").AsInt64);
        Assert.Equal(long.MinValue, FromText(PgTypes.Timestamp, "-infinity").AsInt64);
        Assert.Equal(1_577_836_800_000_000, FromText(PgTypes.Timestamp, "2020-01-01").AsInt64);

        ParameterValue zoned = FromText(PgTypes.TimestampTz, "2020-01-01 12:00:00+05:30");
        Assert.Equal(ParameterKind.TimestampTz, zoned.Kind);
        Assert.Equal(1_577_836_800_000_000 + (6 * 3_600_000_000L) + (30 * 60_000_000L), zoned.AsInt64);
        Assert.Equal(1_577_836_800_000_000, FromText(PgTypes.TimestampTz, "2020-01-01 00:00:00Z").AsInt64);
        Assert.Equal(1_577_836_800_000_000 + (8 * 3_600_000_000L), FromText(PgTypes.TimestampTz, "2020-01-01 00:00:00-0800").AsInt64);
        Assert.Equal(1_577_836_800_000_000, FromText(PgTypes.TimestampTz, "2020-01-01 00:00:00 UTC").AsInt64);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.TimestampTz, "2020-01-01 25:00:00").SqlState);
    }

    [Theory]
    [InlineData("1 year 2 mons 3 days 04:05:06.5", 14, 3, 14_706_500_000)]
    [InlineData("@ 1 hour ago", 0, 0, -3_600_000_000)]
    [InlineData("P1Y2M3DT4H5M6.5S", 14, 3, 14_706_500_000)]
    [InlineData("1.5 days", 0, 1, 43_200_000_000)]
    [InlineData("1-2", 14, 0, 0)]
    [InlineData("3 04:05:06", 0, 3, 14_706_000_000)]
    [InlineData("1.5 years", 18, 0, 0)]
    [InlineData("1.5 mons", 1, 15, 0)]
    [InlineData("2 weeks", 0, 14, 0)]
    [InlineData("10 ms", 0, 0, 10_000)]
    [InlineData("-1 days +00:00:01", 0, -1, 1_000_000)]
    [InlineData("1 day -00:00:01", 0, 1, -1_000_000)]
    [InlineData("5", 0, 0, 5_000_000)]
    [InlineData("1 day 2 hours ago", 0, -1, -7_200_000_000)]
    [InlineData("00:00:00", 0, 0, 0)]
    [InlineData("-10 mons", -10, 0, 0)]
    [InlineData("1 day 2", 0, 1, 2_000_000)]
    public void Interval_text(string text, int months, int days, long micros)
    {
        ParameterValue value = FromText(PgTypes.Interval, text);
        Assert.Equal(ParameterKind.Interval, value.Kind);
        Assert.Equal(new IntervalValue(months, days, micros), value.AsInterval);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1 fortnight")]
    [InlineData("ago")]
    [InlineData("P1X")]
    [InlineData("2 1 day")]
    [InlineData("1 2")]
    public void Bad_interval_text_is_22P02(string text)
    {
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Interval, text).SqlState);
    }

    [Fact]
    public void Uuid_json_and_bytea_text()
    {
        ParameterValue uuid = FromText(PgTypes.Uuid, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
        Assert.Equal(ParameterKind.Uuid, uuid.Kind);
        Assert.Equal("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", uuid.AsString);
        Assert.Equal("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", FromText(PgTypes.Uuid, "{a0eebc999c0b4ef8bb6d6bb9bd380a11}").AsString);
        Assert.Equal("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", FromText(PgTypes.Uuid, "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11").AsString);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Uuid, "a0eebc99").SqlState);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1").SqlState);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Uuid, "-a0eebc999c0b4ef8bb6d6bb9bd380a11").SqlState);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Uuid, "a0eebc999c0b4ef8bb6d6bb9bd380a11a").SqlState);

        Assert.Equal((ParameterKind.Json, "{\"a\": 1}"), (FromText(PgTypes.Jsonb, "{\"a\": 1}").Kind, FromText(PgTypes.Jsonb, "{\"a\": 1}").AsString));

        Assert.Equal(Hex("0a0bff"), FromText(PgTypes.Bytea, "\\x0a0BfF").AsBytes);
        Assert.Equal(Hex("0a0b"), FromText(PgTypes.Bytea, "\\x0a 0b").AsBytes);
        Assert.Equal("a\\b\n"u8.ToArray(), FromText(PgTypes.Bytea, "a\\\\b\\012").AsBytes);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Bytea, "\\x0").SqlState);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Bytea, "\\q").SqlState);
    }

    [Fact]
    public void Array_text_literals()
    {
        ParameterValue ints = FromText(PgTypes.Int4Array, "{1, NULL ,3}");
        Assert.Equal(ParameterKind.Array, ints.Kind);
        Assert.Equal([ParameterKind.Int32, ParameterKind.Null, ParameterKind.Int32], ints.AsArray.Select(v => v.Kind));
        Assert.Equal(3, ints.AsArray[2].AsInt64);

        ParameterValue texts = FromText(PgTypes.TextArray, "{\"a b\",\"\",\"NULL\",\"x\\\"y\",plain,null}");
        Assert.Equal(["a b", string.Empty, "NULL", "x\"y", "plain"], texts.AsArray.Take(5).Select(v => v.AsString));
        Assert.True(texts.AsArray[5].IsNull);

        ParameterValue nested = FromText(PgTypes.Int2Array, "{{1,2},{3,4}}");
        Assert.Equal(4, nested.AsArray[1].AsArray[1].AsInt64);
        Assert.Empty(FromText(PgTypes.Int8Array, "{}").AsArray);
        Assert.Equal(2, FromText(PgTypes.Int8Array, "[1:2]={7,8}").AsArray.Length);

        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Int4Array, "{1,2").SqlState);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Int4Array, "{1,x}").SqlState);
        Assert.Equal(SqlStates.InvalidTextRepresentation, TextFails(PgTypes.Int4Array, "1,2").SqlState);
    }

    [Fact]
    public void Binary_scalars()
    {
        Assert.True(FromBinary(PgTypes.Bool, "01").AsBoolean);
        Assert.Equal(-2, FromBinary(PgTypes.Int2, "fffe").AsInt64);
        Assert.Equal(-2, FromBinary(PgTypes.Int4, "fffffffe").AsInt64);
        Assert.Equal(1, FromBinary(PgTypes.Int8, "0000000000000001").AsInt64);
        Assert.Equal(4_294_967_295, FromBinary(PgTypes.Oid, "ffffffff").AsInt64);
        Assert.Equal(1.5f, FromBinary(PgTypes.Float4, "3fc00000").AsFloat32);
        Assert.Equal(-0.0, FromBinary(PgTypes.Float8, "8000000000000000").AsFloat64);
        Assert.Equal("é", FromBinary(PgTypes.Varchar, "c3a9").AsString);
        Assert.Equal(ParameterKind.Text, FromBinary(PgTypes.Unknown, "61").Kind);
        Assert.Equal("{}", FromBinary(PgTypes.Json, "7b7d").AsString);
        Assert.Equal("{}", FromBinary(PgTypes.Jsonb, "017b7d").AsString);
        Assert.Equal(Hex("00ff"), FromBinary(PgTypes.Bytea, "00ff").AsBytes);
        Assert.Equal(10956, FromBinary(PgTypes.Date, "ffffffff").AsInt64);
        Assert.Equal(10957, FromBinary(PgTypes.Date, "00000000").AsInt64);
        Assert.Equal(int.MaxValue, FromBinary(PgTypes.Date, "7fffffff").AsInt64);
        Assert.Equal(45_296_500_000, FromBinary(PgTypes.Time, "0000000a8be1bd20").AsInt64);
        Assert.Equal(946_684_801_000_000, FromBinary(PgTypes.Timestamp, "00000000000f4240").AsInt64);
        Assert.Equal(-1, FromBinary(PgTypes.TimestampTz, "fffca2fec4c81fff").AsInt64);
        Assert.Equal(long.MaxValue, FromBinary(PgTypes.TimestampTz, "7fffffffffffffff").AsInt64);
        Assert.Equal(new IntervalValue(14, 3, 14_706_500_000), FromBinary(PgTypes.Interval, "000000036c9361a0000000030000000e").AsInterval);
        Assert.Equal("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", FromBinary(PgTypes.Uuid, "a0eebc999c0b4ef8bb6d6bb9bd380a11").AsString);
    }

    [Theory]
    [InlineData("000200000000000200031388", "3.50")]
    [InlineData("0000000000000002", "0.00")]
    [InlineData("0001ffff400000020064", "-0.01")]
    [InlineData("0003000100000003000109291a7c", "12345.678")]
    [InlineData("00010005000000000001", "100000000000000000000")]
    [InlineData("0001fff6000000260064", "0.00000000000000000000000000000000000001")]
    [InlineData("0002000100000000000107d0", "12000")]
    [InlineData("00000000c0000000", "NaN")]
    [InlineData("00000000d0000000", "Infinity")]
    [InlineData("00000000f0000000", "-Infinity")]
    public void Binary_numeric_becomes_canonical_text(string hex, string expected)
    {
        ParameterValue value = FromBinary(PgTypes.Numeric, hex);
        Assert.Equal(ParameterKind.Decimal, value.Kind);
        Assert.Equal(expected, value.AsString);
    }

    [Fact]
    public void Binary_arrays()
    {
        ParameterValue texts = FromBinary(PgTypes.TextArray, "0000000100000000000000190000000200000001000000016100000003622063");
        Assert.Equal(["a", "b c"], texts.AsArray.Select(v => v.AsString));

        ParameterValue bools = FromBinary(PgTypes.BoolArray, "00000001000000010000001000000002000000010000000101ffffffff");
        Assert.True(bools.AsArray[0].AsBoolean);
        Assert.True(bools.AsArray[1].IsNull);

        ParameterValue nested = FromBinary(PgTypes.Int2Array, "00000002000000000000001500000002000000010000000200000001000000020001000000020002000000020003000000020004");
        Assert.Equal([[1L, 2L], [3L, 4L]], nested.AsArray.Select(row => row.AsArray.Select(v => v.AsInt64).ToArray()).ToArray());

        Assert.Empty(FromBinary(PgTypes.Int4Array, "000000000000000000000017").AsArray);
    }

    [Theory]
    [InlineData(PgTypes.Int4, "0001")]
    [InlineData(PgTypes.Int8, "00000001")]
    [InlineData(PgTypes.Bool, "")]
    [InlineData(PgTypes.Uuid, "a0ee")]
    [InlineData(PgTypes.Interval, "00")]
    [InlineData(PgTypes.Numeric, "0002000000000002000313")]
    [InlineData(PgTypes.Numeric, "0001000000000000ffff")]
    [InlineData(PgTypes.Numeric, "0001000012340000000a")]
    [InlineData(PgTypes.Jsonb, "027b7d")]
    [InlineData(PgTypes.Text, "ff")]
    [InlineData(PgTypes.Int4Array, "00000001000000000000001700000002")]
    [InlineData(PgTypes.Int4Array, "00000001000000000000001400000001000000010000000400000001")]
    [InlineData(PgTypes.Int4Array, "000000010000000000000017000000010000000100000008")]
    [InlineData(PgTypes.Int4Array, "000000010000000000000017ffffffff00000001")]
    [InlineData(PgTypes.Int4Array, "00000007000000000000001700000001")]
    [InlineData(PgTypes.Int4Array, "000000017fffffff0000001700000001000000010000000400000001")]
    [InlineData(PgTypes.Time, "ffffffffffffffff")]
    public void Bad_binary_is_22P03_or_out_of_range(int oid, string hex)
    {
        var error = BinaryFails(oid, hex);
        Assert.True(error.SqlState is "22P03" or "22008", error.SqlState + ": " + error.Message);
    }

    [Fact]
    public void Binary_for_an_unsupported_type_is_rejected_with_its_name()
    {
        var error = BinaryFails(PgTypes.Record, "00");
        Assert.Equal(SqlStates.InvalidBinaryRepresentation, error.SqlState);
        Assert.Contains("record", error.Message, StringComparison.Ordinal);
        Assert.Equal(SqlStates.InvalidBinaryRepresentation, BinaryFails(0, "00").SqlState);
    }

    [Fact]
    public void Invalid_utf8_text_is_rejected()
    {
        var error = Assert.Throws<PgParameterException>(() => PgParameterDecoder.Decode(PgTypes.Text, 0, [0xff, 0xfe]));
        Assert.Equal(SqlStates.InvalidTextRepresentation, error.SqlState);
    }

    [Fact]
    public void Unknown_format_code_is_rejected()
    {
        Assert.Throws<PgParameterException>(() => PgParameterDecoder.Decode(PgTypes.Int4, 2, [0, 0, 0, 1]));
    }

    /// <summary>Encode Arrow values in binary with the row encoder, decode them as parameters, compare.</summary>
    [Fact]
    public void Binary_round_trip_through_the_encoder()
    {
        AssertRoundTrip(new Int16Array.Builder().Append(short.MinValue).Build(), PgTypes.Int2, v => Assert.Equal(short.MinValue, v.AsInt64));
        AssertRoundTrip(new Int32Array.Builder().Append(int.MaxValue).Build(), PgTypes.Int4, v => Assert.Equal(int.MaxValue, v.AsInt64));
        AssertRoundTrip(new Int64Array.Builder().Append(long.MinValue).Build(), PgTypes.Int8, v => Assert.Equal(long.MinValue, v.AsInt64));
        AssertRoundTrip(new BooleanArray.Builder().Append(true).Build(), PgTypes.Bool, v => Assert.True(v.AsBoolean));
        AssertRoundTrip(new FloatArray.Builder().Append(-1.25f).Build(), PgTypes.Float4, v => Assert.Equal(-1.25f, v.AsFloat32));
        AssertRoundTrip(new DoubleArray.Builder().Append(Math.PI).Build(), PgTypes.Float8, v => Assert.Equal(Math.PI, v.AsFloat64));
        AssertRoundTrip(new StringArray.Builder().Append("ünï \"x\"").Build(), PgTypes.Text, v => Assert.Equal("ünï \"x\"", v.AsString));
        AssertRoundTrip(new BinaryArray.Builder().Append([1, 2, 3]).Build(), PgTypes.Bytea, v => Assert.Equal([1, 2, 3], v.AsBytes));
        AssertRoundTrip(new Date32Array(Raw<int>(Date32Type.Default, -735160)), PgTypes.Date, v => Assert.Equal(-735160, v.AsInt64));
        AssertRoundTrip(new Time64Array(Raw<long>(new Time64Type(TimeUnit.Microsecond), 86_399_999_999)), PgTypes.Time, v => Assert.Equal(86_399_999_999, v.AsInt64));
        AssertRoundTrip(new TimestampArray(Raw<long>(new TimestampType(TimeUnit.Microsecond, (string?)null), -62_135_683_200_000_001)), PgTypes.Timestamp, v => Assert.Equal(-62_135_683_200_000_001, v.AsInt64));
        AssertRoundTrip(new TimestampArray(Raw<long>(new TimestampType(TimeUnit.Microsecond, "UTC"), 1_577_882_096_123_456)), PgTypes.TimestampTz, v => Assert.Equal(1_577_882_096_123_456, v.AsInt64));
        AssertRoundTrip(
            new MonthDayNanosecondIntervalArray(Raw<MonthDayNanosecondInterval>(IntervalType.MonthDayNanosecond, new MonthDayNanosecondInterval(-14, 3, -1_500_000))),
            PgTypes.Interval,
            v => Assert.Equal(new IntervalValue(-14, 3, -1_500), v.AsInterval));
        AssertRoundTrip(FixedBinary(16, Hex("a0eebc999c0b4ef8bb6d6bb9bd380a11")), PgTypes.Uuid, v => Assert.Equal("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", v.AsString), ArrowConventions.UuidExtension);

        foreach (string unscaled in new[] { "350", "-1", "0", "99999999999999999999999999999999999999", "-170141183460469231731687303715884105728", "100000000" })
        {
            foreach (int scale in new[] { 0, 2, 8, 38 })
            {
                string expected = DecimalText(unscaled, scale);
                AssertRoundTrip(Decimals128(38, scale, unscaled), PgTypes.Numeric, v => Assert.Equal(expected, v.AsString));
            }
        }

        string digits76 = "-1234567890123456789012345678901234567890123456789012345678901234567890123456";
        AssertRoundTrip(Decimals256(76, 20, digits76), PgTypes.Numeric, v => Assert.Equal(DecimalText(digits76, 20), v.AsString));

        var list = new ListArray.Builder(Int32Type.Default);
        list.Append();
        ((Int32Array.Builder)list.ValueBuilder).Append(1).AppendNull().Append(-3);
        AssertRoundTrip(list.Build(), PgTypes.Int4Array, v =>
        {
            Assert.Equal(1, v.AsArray[0].AsInt64);
            Assert.True(v.AsArray[1].IsNull);
            Assert.Equal(-3, v.AsArray[2].AsInt64);
        });
    }

    /// <summary>The expected decimal text, computed independently with BigInteger.</summary>
    private static string DecimalText(string unscaled, int scale)
    {
        var value = System.Numerics.BigInteger.Parse(unscaled, System.Globalization.CultureInfo.InvariantCulture);
        string digits = System.Numerics.BigInteger.Abs(value).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(scale + 1, '0');
        string text = scale == 0 ? digits : digits[..^scale] + "." + digits[^scale..];
        return value.Sign < 0 ? "-" + text : text;
    }

    private static void AssertRoundTrip(IArrowArray array, int expectedOid, Action<ParameterValue> check, string? extension = null)
    {
        Field field = Field(array.Data.DataType, extension);
        RecordBatch batch = Batch(field, array);
        PgRowEncoder encoder = PgRowEncoder.Create(batch.Schema, [1]);
        Assert.Equal(expectedOid, encoder.Columns[0].TypeOid);
        encoder.Bind(batch);
        var output = new ArrayBufferWriter<byte>();
        encoder.WriteDataRow(0, output);
        byte[] value = ParseDataRow(output.WrittenSpan)[0]!;
        check(PgParameterDecoder.Decode(encoder.Columns[0].TypeOid, 1, value));
    }
}

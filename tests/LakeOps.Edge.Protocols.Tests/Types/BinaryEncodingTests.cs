using Apache.Arrow;
using Apache.Arrow.Scalars;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using static LakeOps.Edge.Protocols.Tests.Types.EncoderTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.Types;

/// <summary>
/// Binary format output compared with PostgreSQL 15's send functions (int4send, numeric_send,
/// timestamp_send, array_send, ...); expected bytes were taken from psql.
/// </summary>
public class BinaryEncodingTests
{
    private static void AssertHex(IEnumerable<string> expected, byte[]?[] actual) =>
        Assert.Equal(expected, actual.Select(ToHex));

    [Fact]
    public void Bool_is_one_byte()
    {
        AssertHex(["01", "00", "NULL"], Binary(new BooleanArray.Builder().Append(true).Append(false).AppendNull().Build()));
    }

    [Fact]
    public void Integers_are_big_endian_at_the_postgres_width()
    {
        AssertHex(["fffe", "007f"], Binary(new Int8Array.Builder().Append(-2).Append(127).Build()));
        AssertHex(["00ff"], Binary(new UInt8Array.Builder().Append(255).Build()));
        AssertHex(["fffe"], Binary(new Int16Array.Builder().Append(-2).Build()));
        AssertHex(["0000ffff"], Binary(new UInt16Array.Builder().Append(ushort.MaxValue).Build()));
        AssertHex(["fffffffe", "7fffffff"], Binary(new Int32Array.Builder().Append(-2).Append(int.MaxValue).Build()));
        AssertHex(["00000000ffffffff"], Binary(new UInt32Array.Builder().Append(uint.MaxValue).Build()));
        AssertHex(["0000000000000001", "8000000000000000"], Binary(new Int64Array.Builder().Append(1).Append(long.MinValue).Build()));
    }

    [Fact]
    public void Uint64_is_numeric()
    {
        // numeric_send(18446744073709551615)
        AssertHex(["000500040000000007341a5802e103bb064f"], Binary(new UInt64Array.Builder().Append(ulong.MaxValue).Build()));
    }

    [Fact]
    public void Floats_are_ieee_big_endian_with_postgres_nan()
    {
        AssertHex(["3fc00000", "7fc00000"], Binary(new FloatArray.Builder().Append(1.5f).Append(float.NaN).Build()));
        AssertHex(["8000000000000000", "7ff8000000000000", "7ff0000000000000"], Binary(new DoubleArray.Builder().Append(-0.0).Append(double.NaN).Append(double.PositiveInfinity).Build()));
        AssertHex(["3fc00000"], Binary(new HalfFloatArray.Builder().Append((Half)1.5).Build()));
    }

    [Fact]
    public void Numeric_is_base_10000_digits_with_weight_sign_and_dscale()
    {
        // 3.50: ndigits 2, weight 0, sign +, dscale 2, digits [3, 5000].
        AssertHex(["000200000000000200031388"], Binary(Decimals128(10, 2, "350")));

        // 0.00: no digits, weight 0, dscale 2. -0.01: digit 100 at weight -1, sign 0x4000.
        AssertHex(["0000000000000002", "0001ffff400000020064"], Binary(Decimals128(10, 2, "0", "-1")));

        // 12345.678 and 1e20.
        AssertHex(["0003000100000003000109291a7c"], Binary(Decimals128(10, 3, "12345678")));
        AssertHex(["00010005000000000001"], Binary(Decimals128(38, 0, "100000000000000000000")));

        // 38 nines, negative; 1e-38.
        AssertHex(["000a0009400000000063270f270f270f270f270f270f270f270f270f"], Binary(Decimals128(38, 0, "-" + new string('9', 38))));
        AssertHex(["0001fff6000000260064"], Binary(Decimals128(38, 38, "1")));

        // Negative scale: 12 × 10^3 = 12000.
        AssertHex(["0002000100000000000107d0"], Binary(Decimals128(5, -3, "12")));
    }

    [Fact]
    public void Decimal256_numeric_matches_the_decimal128_encoding()
    {
        Assert.Equal(Binary(Decimals128(38, 3, "-12345678")).Select(ToHex), Binary(Decimals256(76, 3, "-12345678")).Select(ToHex));
    }

    [Fact]
    public void Text_json_and_bytea_are_raw_bytes()
    {
        AssertHex(["c3a9", ""], Binary(new StringArray.Builder().Append("é").Append(string.Empty).Build()));
        AssertHex(["7b7d"], Binary(new StringArray.Builder().Append("{}").Build(), ArrowConventions.JsonExtension));
        AssertHex(["0a0b"], Binary(new BinaryArray.Builder().Append([0x0a, 0x0b]).Build()));
    }

    [Fact]
    public void Uuid_is_the_16_rfc_bytes()
    {
        AssertHex(["a0eebc999c0b4ef8bb6d6bb9bd380a11"], Binary(FixedBinary(16, Hex("a0eebc999c0b4ef8bb6d6bb9bd380a11")), ArrowConventions.UuidExtension));
        AssertHex(["a0eebc999c0b4ef8bb6d6bb9bd380a11"], Binary(new StringArray.Builder().Append("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11").Build(), ArrowConventions.UuidExtension));
    }

    [Fact]
    public void Uuid_text_that_is_not_a_uuid_fails_in_binary()
    {
        var array = new StringArray.Builder().Append("not-a-uuid").Build();
        var error = Assert.Throws<Postgres.Types.PgEncodingException>(() => Binary(array, ArrowConventions.UuidExtension));
        Assert.Equal(SqlStates.InvalidTextRepresentation, error.SqlState);
    }

    [Fact]
    public void Date_is_days_since_2000_with_infinity_kept()
    {
        AssertHex(["00000000", "ffffffff", "7fffffff", "80000000"], Binary(new Date32Array(Raw<int>(Date32Type.Default, 10957, 10956, int.MaxValue, int.MinValue))));
    }

    [Fact]
    public void Time_is_microseconds_since_midnight()
    {
        // time_send('12:34:56.5')
        AssertHex(["0000000a8be1bd20"], Binary(new Time64Array(Raw<long>(new Time64Type(TimeUnit.Microsecond), 45_296_500_000))));
        AssertHex(["0000000a8be1bd20"], Binary(new Time32Array(Raw<int>(new Time32Type(TimeUnit.Millisecond), 45_296_500))));
    }

    [Fact]
    public void Timestamp_is_microseconds_since_2000()
    {
        // timestamp_send('2000-01-01 00:00:01'), timestamptz_send('1969-12-31 23:59:59.999999+00'), infinity.
        AssertHex(["00000000000f4240"], Binary(new TimestampArray(Raw<long>(new TimestampType(TimeUnit.Second, (string?)null), 946_684_801))));
        AssertHex(["fffca2fec4c81fff", "7fffffffffffffff"], Binary(new TimestampArray(Raw<long>(new TimestampType(TimeUnit.Nanosecond, "UTC"), -1, long.MaxValue))));
    }

    [Fact]
    public void Timestamp_seconds_beyond_the_microsecond_range_fail_clearly()
    {
        var array = new TimestampArray(Raw<long>(new TimestampType(TimeUnit.Second, (string?)null), long.MaxValue / 10));
        var error = Assert.Throws<Postgres.Types.PgEncodingException>(() => Binary(array));
        Assert.Equal("22008", error.SqlState);
    }

    [Fact]
    public void Interval_is_micros_days_months()
    {
        // interval_send('1 year 2 mons 3 days 04:05:06.5'), interval_send('-1 days +00:00:01')
        var array = new MonthDayNanosecondIntervalArray(Raw<MonthDayNanosecondInterval>(
            IntervalType.MonthDayNanosecond,
            new MonthDayNanosecondInterval(14, 3, 14_706_500_000_000),
            new MonthDayNanosecondInterval(0, -1, 1_000_000_000)));
        AssertHex(["000000036c9361a0000000030000000e", "00000000000f4240ffffffff00000000"], Binary(array));
        AssertHex(["00000000000f42400000000000000000"], Binary(new DurationArray(Raw<long>(DurationType.Millisecond, 1000))));
    }

    [Fact]
    public void Arrays_follow_array_send()
    {
        var texts = new ListArray.Builder(StringType.Default);
        var textValues = (StringArray.Builder)texts.ValueBuilder;
        texts.Append();
        textValues.Append("a").Append("b c");
        texts.Append();
        AssertHex(
            ["0000000100000000000000190000000200000001000000016100000003622063", "000000000000000000000019"],
            Binary(texts.Build()));

        var bools = new ListArray.Builder(BooleanType.Default);
        var boolValues = (BooleanArray.Builder)bools.ValueBuilder;
        bools.Append();
        boolValues.Append(true).AppendNull();
        AssertHex(["00000001000000010000001000000002000000010000000101ffffffff"], Binary(bools.Build()));

        var decimals = new ListArray.Builder(new Decimal128Type(10, 1));
        var decimalValues = (Decimal128Array.Builder)decimals.ValueBuilder;
        decimals.Append();
        decimalValues.Append(1.5m);
        AssertHex(["0000000100000000000006a400000001000000010000000c000200000000000100011388"], Binary(decimals.Build()));
    }

    [Fact]
    public void Nested_lists_are_multidimensional_arrays()
    {
        // array_send('{{1,2},{3,4}}'::int2[])
        ListArray outer = NestedList<Int16Array.Builder>(Int16Type.Default, v => v.Append(1).Append(2), v => v.Append(3).Append(4));
        AssertHex(["00000002000000000000001500000002000000010000000200000001000000020001000000020002000000020003000000020004"], Binary(outer));
    }

    [Fact]
    public void Ragged_nested_lists_cannot_be_binary_arrays()
    {
        ListArray outer = NestedList<Int32Array.Builder>(Int32Type.Default, v => v.Append(1).Append(2), v => v.Append(3));
        var error = Assert.Throws<Postgres.Types.PgEncodingException>(() => Binary(outer));
        Assert.Equal("2202E", error.SqlState);
    }

    [Fact]
    public void Struct_binary_is_its_json_text()
    {
        var structType = new StructType([new Field("a", Int32Type.Default, true)]);
        var array = new StructArray(structType, 1, [new Int32Array.Builder().Append(7).Build()], ArrowBuffer.Empty);
        Assert.Equal("{\"a\": 7}", System.Text.Encoding.UTF8.GetString(Binary(array)[0]!));
    }
}

using System.Text;
using Apache.Arrow;
using Apache.Arrow.Scalars;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using static LakeOps.Edge.Protocols.Tests.Types.EncoderTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.Types;

/// <summary>
/// Text format output compared with what PostgreSQL 15 prints for the same values (DateStyle ISO, MDY;
/// IntervalStyle postgres; TimeZone UTC; extra_float_digits 1). Expected strings were taken from psql.
/// </summary>
public class TextEncodingTests
{
    [Fact]
    public void Booleans_are_t_and_f()
    {
        var array = new BooleanArray.Builder().Append(true).Append(false).AppendNull().Build();
        AssertRows(["t", "f", null], Text(array));
    }

    [Fact]
    public void Integers_print_every_width_including_extremes()
    {
        AssertRows(["-128", "127", null], Text(new Int8Array.Builder().Append(sbyte.MinValue).Append(sbyte.MaxValue).AppendNull().Build()));
        AssertRows(["0", "255"], Text(new UInt8Array.Builder().Append(0).Append(255).Build()));
        AssertRows(["-32768", "32767"], Text(new Int16Array.Builder().Append(short.MinValue).Append(short.MaxValue).Build()));
        AssertRows(["65535"], Text(new UInt16Array.Builder().Append(ushort.MaxValue).Build()));
        AssertRows(["-2147483648", "2147483647", "0"], Text(new Int32Array.Builder().Append(int.MinValue).Append(int.MaxValue).Append(0).Build()));
        AssertRows(["4294967295"], Text(new UInt32Array.Builder().Append(uint.MaxValue).Build()));
        AssertRows(["-9223372036854775808", "9223372036854775807"], Text(new Int64Array.Builder().Append(long.MinValue).Append(long.MaxValue).Build()));
        AssertRows(["18446744073709551615", "0"], Text(new UInt64Array.Builder().Append(ulong.MaxValue).Append(0).Build()));
    }

    [Fact]
    public void Float8_is_shortest_round_trip_in_postgres_layout()
    {
        double[] values =
        [
            0.1, Math.PI, 1.0 / 3, 1e15, 1e14, 1e-5, 0.0001, 1.5e300, 123456789012345678, -0.0, 0, 5e-324,
            1e301, -1e-300, 2.5e-7, 100, 123456789012345.6, double.NaN, double.PositiveInfinity, double.NegativeInfinity,

            // Halfway cases: .NET's shortest "5.265406475060342e+16" is exactly between two doubles,
            // PostgreSQL's Ryu excludes that and prints one digit more.
            52654064750603424, -4.8684750520011763e+17,
        ];
        var builder = new DoubleArray.Builder();
        foreach (double value in values)
        {
            builder.Append(value);
        }

        AssertRows(
            [
                "0.1", "3.141592653589793", "0.3333333333333333", "1e+15", "100000000000000", "1e-05", "0.0001", "1.5e+300",
                "1.2345678901234568e+17", "-0", "0", "5e-324", "1e+301", "-1e-300", "2.5e-07", "100", "123456789012345.6",
                "NaN", "Infinity", "-Infinity", "5.2654064750603424e+16", "-4.8684750520011763e+17",
            ],
            Text(builder.Build()));
    }

    [Fact]
    public void Float4_uses_float_digits_and_switches_to_exponent_at_1e6()
    {
        float[] values = [0.1f, 1e6f, 1e5f, 1234567f, 123456f, 1e-5f, 3.4028235e38f, 1e-45f, 16777216f, float.NaN, -75699936f, -105984304f];
        var builder = new FloatArray.Builder();
        foreach (float value in values)
        {
            builder.Append(value);
        }

        AssertRows(
            ["0.1", "1e+06", "100000", "1.234567e+06", "123456", "1e-05", "3.4028235e+38", "1e-45", "1.6777216e+07", "NaN", "-7.5699936e+07", "-1.05984304e+08"],
            Text(builder.Build()));
    }

    [Fact]
    public void Half_floats_print_as_float4()
    {
        var array = new HalfFloatArray.Builder().Append((Half)0.1).Append((Half)65504).Append((Half)(-1.5)).Build();
        AssertRows(["0.099975586", "65504", "-1.5"], Text(array));
    }

    [Fact]
    public void Decimals_print_exactly_with_their_scale()
    {
        AssertRows(["3.50", "-0.01", "0.00", "12345.67", null], Text(Decimals128(10, 2, "350", "-1", "0", "1234567", null)));
        AssertRows(["0", "-5", "12345678901234567890"], Text(Decimals128(38, 0, "0", "-5", "12345678901234567890")));
        AssertRows(
            ["99999999999999999999999999999999999999", "-99999999999999999999999999999999999999"],
            Text(Decimals128(38, 0, new string('9', 38), "-" + new string('9', 38))));
        AssertRows(
            ["0.00000000000000000000000000000000000001", "-0.99999999999999999999999999999999999999"],
            Text(Decimals128(38, 38, "1", "-" + new string('9', 38))));
        AssertRows(["-170141183460469231731687303715884105728"], Text(Decimals128(38, 0, "-170141183460469231731687303715884105728")));
    }

    [Fact]
    public void Decimal256_handles_76_digits()
    {
        string digits = "1234567890123456789012345678901234567890123456789012345678901234567890123456";
        AssertRows(
            ["123456789012345678901234567890123456789012345678901234567890123456.7890123456", "-0.0000000001"],
            Text(Decimals256(76, 10, digits, "-1")));
    }

    [Fact]
    public void Negative_decimal_scale_multiplies_by_powers_of_ten()
    {
        AssertRows(["12000", "0", "-5000"], Text(Decimals128(5, -3, "12", "0", "-5")));
    }

    [Fact]
    public void Text_is_copied_as_is()
    {
        var array = new StringArray.Builder().Append("hello").Append("a \"quoted\", comma").Append("ünïcødé 🚀").Append(string.Empty).AppendNull().Build();
        AssertRows(["hello", "a \"quoted\", comma", "ünïcødé 🚀", string.Empty, null], Text(array));
    }

    [Fact]
    public void Large_and_view_strings_are_text_too()
    {
        AssertRows(["big", null], Text(new LargeStringArray.Builder().Append("big").AppendNull().Build()));
        AssertRows(["short", "a string longer than twelve bytes"], Text(new StringViewArray.Builder().Append("short").Append("a string longer than twelve bytes").Build()));
    }

    [Fact]
    public void Json_text_is_passed_through()
    {
        var array = new StringArray.Builder().Append("{\"a\": [1, 2]}").Build();
        AssertRows(["{\"a\": [1, 2]}"], Text(array, ArrowConventions.JsonExtension));
    }

    [Fact]
    public void Bytea_is_hex_with_backslash_x()
    {
        var array = new BinaryArray.Builder().Append([0xde, 0xad, 0xbe, 0xef]).Append(ReadOnlySpan<byte>.Empty).AppendNull().Build();
        AssertRows(["\\xdeadbeef", "\\x", null], Text(array));
    }

    [Fact]
    public void Fixed_size_binary_without_uuid_metadata_is_bytea()
    {
        AssertRows(["\\x0a0b"], Text(FixedBinary(2, [0x0a, 0x0b])));
    }

    [Fact]
    public void Uuid_from_fixed_size_binary_is_lower_case_8_4_4_4_12()
    {
        byte[] bytes = Hex("a0eebc999c0b4ef8bb6d6bb9bd380a11");
        AssertRows(["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", null], Text(FixedBinary(16, bytes, null), ArrowConventions.UuidExtension));
    }

    [Fact]
    public void Uuid_from_text_is_normalised_to_lower_case()
    {
        var array = new StringArray.Builder().Append("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11").Append("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}").Build();
        AssertRows(["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"], Text(array, ArrowConventions.UuidExtension));
    }

    [Fact]
    public void Registered_guid_extension_type_is_uuid()
    {
        var array = new GuidArray.Builder().Append(Guid.Parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")).AppendNull().Build();
        var field = new Field("c", GuidType.Default, nullable: true);
        AssertRows(["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", null], Text(field, array));
    }

    [Fact]
    public void Dates_including_leap_days_bc_and_infinity()
    {
        var array = new Date32Array(Raw<int>(Date32Type.Default, 18321, -1, 0, 10957, -719162, -719163, -735160, 2145042905, int.MaxValue, int.MinValue, null));
        AssertRows(
            ["2020-02-29", "1969-12-31", "1970-01-01", "2000-01-01", "0001-01-01", "0001-12-31 BC", "0044-03-15 BC", "5874897-12-31", "infinity", "-infinity", null],
            Text(array));
    }

    [Fact]
    public void Date64_is_milliseconds_rounded_down_to_the_day()
    {
        var array = new Date64Array(Raw<long>(Date64Type.Default, 1_582_938_000_000L, -1));
        AssertRows(["2020-02-29", "1969-12-31"], Text(array));
    }

    [Fact]
    public void Times_in_every_unit_trim_trailing_zeros()
    {
        AssertRows(
            ["12:34:56", "12:00:00.5", "23:59:59.999999", "00:00:00", "24:00:00"],
            Text(new Time64Array(Raw<long>(new Time64Type(TimeUnit.Microsecond), 45_296_000_000, 43_200_500_000, 86_399_999_999, 0, 86_400_000_000))));
        AssertRows(["00:00:01.000001"], Text(new Time64Array(Raw<long>(new Time64Type(TimeUnit.Nanosecond), 1_000_001_999))));
        AssertRows(["01:00:00", null], Text(new Time32Array(Raw<int>(new Time32Type(TimeUnit.Second), 3600, null))));
        AssertRows(["00:00:01.25"], Text(new Time32Array(Raw<int>(new Time32Type(TimeUnit.Millisecond), 1250))));
    }

    [Fact]
    public void Timestamps_in_every_unit()
    {
        var micros = new TimestampType(TimeUnit.Microsecond, (string?)null);
        AssertRows(
            ["2020-01-01 12:34:56.123456", "1969-12-31 23:59:59.999999", "1999-12-31 23:59:59", "1900-02-28 01:02:03.1", "0001-12-31 00:00:00 BC", "12345-01-01 00:00:00.5", "infinity", "-infinity", null],
            Text(new TimestampArray(Raw<long>(
                micros,
                1_577_882_096_123_456,
                -1,
                946_684_799_000_000,
                -2_203_973_876_900_000,
                -62_135_683_200_000_000,
                327_403_382_400_500_000,
                long.MaxValue,
                long.MinValue,
                null))));
        AssertRows(["2020-01-01 00:00:01"], Text(new TimestampArray(Raw<long>(new TimestampType(TimeUnit.Second, (string?)null), 1_577_836_801))));
        AssertRows(["2020-01-01 00:00:00.25"], Text(new TimestampArray(Raw<long>(new TimestampType(TimeUnit.Millisecond, (string?)null), 1_577_836_800_250))));

        // Nanoseconds are truncated to microseconds, rounding down (so pre-1970 instants stay earlier).
        AssertRows(
            ["2020-01-01 00:00:00.000001", "1969-12-31 23:59:59.999999"],
            Text(new TimestampArray(Raw<long>(new TimestampType(TimeUnit.Nanosecond, (string?)null), 1_577_836_800_000_001_999, -1))));
    }

    [Fact]
    public void Timestamptz_prints_utc_with_plus_00()
    {
        var type = new TimestampType(TimeUnit.Microsecond, "UTC");
        AssertRows(
            ["2020-01-01 12:34:56.123456+00", "1900-02-28 01:02:03.1+00", "0001-12-31 00:00:00+00 BC"],
            Text(new TimestampArray(Raw<long>(type, 1_577_882_096_123_456, -2_203_973_876_900_000, -62_135_683_200_000_000))));

        // Any zone name means "UTC instants", printed with TimeZone=UTC.
        AssertRows(["2020-01-01 00:00:00+00"], Text(new TimestampArray(Raw<long>(new TimestampType(TimeUnit.Second, "Europe/Paris"), 1_577_836_800))));
    }

    [Fact]
    public void Intervals_use_postgres_interval_style()
    {
        MonthDayNanosecondInterval I(int months, int days, long micros) => new(months, days, micros * 1000);
        var array = new MonthDayNanosecondIntervalArray(Raw<MonthDayNanosecondInterval>(
            IntervalType.MonthDayNanosecond,
            I(14, 3, 14_706_500_000),
            I(0, -1, 0),
            I(0, 0, 0),
            I(0, 1, 3_600_000_000),
            I(-14, 0, 0),
            I(1, -3, -3_600_000_000),
            I(0, 0, -1_500_000),
            I(0, 0, 360_000_000_000),
            I(0, 0, 1),
            I(-10, 0, 0),
            I(12, 0, 0),
            I(13, 0, 0),
            I(-13, 0, 0),
            I(23, 0, 0),
            I(0, 1, -1_000_000),
            I(0, -1, 1_000_000),
            I(0, int.MaxValue, 0),
            null));
        AssertRows(
            [
                "1 year 2 mons 3 days 04:05:06.5", "-1 days", "00:00:00", "1 day 01:00:00", "-1 years -2 mons", "1 mon -3 days -01:00:00",
                "-00:00:01.5", "100:00:00", "00:00:00.000001", "-10 mons", "1 year", "1 year 1 mon", "-1 years -1 mons", "1 year 11 mons",
                "1 day -00:00:01", "-1 days +00:00:01", "2147483647 days", null,
            ],
            Text(array));
    }

    [Fact]
    public void Year_month_and_day_time_intervals()
    {
        AssertRows(["1 year 2 mons"], Text(new YearMonthIntervalArray(Raw<YearMonthInterval>(IntervalType.YearMonth, new YearMonthInterval(14)))));
        AssertRows(["3 days 00:00:05"], Text(new DayTimeIntervalArray(Raw<DayTimeInterval>(IntervalType.DayTime, new DayTimeInterval(3, 5000)))));
    }

    [Fact]
    public void Durations_are_time_only_intervals()
    {
        AssertRows(["100:00:00", "-00:00:00.5"], Text(new DurationArray(Raw<long>(DurationType.Millisecond, 360_000_000, -500))));
        AssertRows(["00:00:01.000001"], Text(new DurationArray(Raw<long>(DurationType.Nanosecond, 1_000_001_999))));
        AssertRows(["01:00:00"], Text(new DurationArray(Raw<long>(DurationType.Second, 3600))));
    }

    [Fact]
    public void Null_type_is_always_null()
    {
        AssertRows([null, null], Text(new NullArray(2)));
    }

    [Fact]
    public void Dictionary_encoded_strings_print_their_values()
    {
        var dictionary = new StringArray.Builder().Append("red").Append("green").Build();
        var indices = new Int8Array.Builder().Append(1).Append(0).AppendNull().Append(1).Build();
        var array = new DictionaryArray(new DictionaryType(Int8Type.Default, StringType.Default, false), indices, dictionary);
        AssertRows(["green", "red", null, "green"], Text(array));
    }

    [Fact]
    public void Run_end_encoded_values_print_per_logical_row()
    {
        var runEnds = new Int32Array.Builder().Append(2).Append(3).Build();
        var values = new Int64Array.Builder().Append(7).AppendNull().Build();
        var array = new RunEndEncodedArray(runEnds, values);
        AssertRows(["7", "7", null], Text(array));
    }

    [Fact]
    public void Text_output_is_valid_utf8_for_every_type_sample()
    {
        // Guards against a formatter writing past its value (the framing check in ParseDataRow
        // catches length errors; this catches garbage bytes).
        var array = new Decimal128Array.Builder(new Decimal128Type(38, 4)).Append(12.5m).Build();
        string? text = Text(array)[0];
        Assert.Equal("12.5000", text);
        Assert.True(Encoding.UTF8.GetByteCount(text!) == text!.Length);
    }
}

using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Postgres.Client;
using LakeOps.Edge.Protocols.Postgres.Types;

namespace LakeOps.Edge.Protocols.Tests.Client;

public class BinaryValueTests
{
    /// <summary>numeric_send bytes for digits × 10^-scale, from the gateway's own (server-side) encoder.</summary>
    private static byte[] NumericBinary(BigInteger unscaled, int scale)
    {
        byte[] digits = Encoding.ASCII.GetBytes(BigInteger.Abs(unscaled).ToString(CultureInfo.InvariantCulture));
        byte[] buffer = new byte[8 + (2 * ((digits.Length / 4) + Math.Abs(scale) + 4))];
        int length = PgNumericFormat.WriteBinary(digits, unscaled.Sign < 0, scale, buffer);
        return buffer[..length];
    }

    private static string NumericText(BigInteger unscaled, int scale)
    {
        byte[] digits = Encoding.ASCII.GetBytes(BigInteger.Abs(unscaled).ToString(CultureInfo.InvariantCulture));
        byte[] buffer = new byte[digits.Length + Math.Abs(scale) + 4];
        return Encoding.ASCII.GetString(buffer, 0, PgNumericFormat.WriteText(digits, unscaled.Sign < 0, scale, buffer));
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("0", 3)]
    [InlineData("1", 0)]
    [InlineData("-1", 4)]
    [InlineData("12345678", 3)]
    [InlineData("10000", 0)]
    [InlineData("100000000", 8)]
    [InlineData("-5", 5)]
    [InlineData("99999999999999999999999999999999999999", 0)]
    [InlineData("-99999999999999999999999999999999999999", 38)]
    [InlineData("12", 1)]
    public void Numeric_decodes_to_text_and_decimal(string unscaledText, int scale)
    {
        AssertNumeric(BigInteger.Parse(unscaledText, CultureInfo.InvariantCulture), scale);
    }

    [Fact]
    public void Random_numerics_round_trip()
    {
        var random = new Random(20240229);
        for (int i = 0; i < 2000; i++)
        {
            int digits = random.Next(1, 39);
            var text = new StringBuilder();
            for (int d = 0; d < digits; d++)
            {
                text.Append((char)('0' + random.Next(10)));
            }

            BigInteger unscaled = BigInteger.Parse(text.ToString(), CultureInfo.InvariantCulture) * (random.Next(2) == 0 ? 1 : -1);
            AssertNumeric(unscaled, random.Next(0, 39));
        }
    }

    private static void AssertNumeric(BigInteger unscaled, int scale)
    {
        byte[] binary = NumericBinary(unscaled, scale);
        string expectedText = NumericText(unscaled, scale);
        byte[] text = new byte[PgBinaryValues.NumericTextMaxLength(binary)];
        Assert.Equal(expectedText, Encoding.ASCII.GetString(text, 0, PgBinaryValues.WriteNumericText(binary, text)));

        Assert.True(PgBinaryValues.TryReadDecimal(binary, scale, out Int128 decoded));
        Assert.Equal(unscaled, (BigInteger)decoded);

        // A wider scale multiplies; a narrower one works only without losing digits.
        if (scale < 38 && BigInteger.Abs(unscaled * 10) <= BigInteger.Pow(10, 38) - 1)
        {
            Assert.True(PgBinaryValues.TryReadDecimal(binary, scale + 1, out Int128 wider));
            Assert.Equal(unscaled * 10, (BigInteger)wider);
        }

        if (scale > 0 && !(unscaled % 10).IsZero)
        {
            Assert.False(PgBinaryValues.TryReadDecimal(binary, scale - 1, out _));
        }
    }

    [Fact]
    public void Numeric_special_values_print_and_do_not_fit_decimals()
    {
        AssertSpecial(unchecked((short)0xC000), "NaN");
        AssertSpecial(unchecked((short)0xD000), "Infinity");
        AssertSpecial(unchecked((short)0xF000), "-Infinity");

        static void AssertSpecial(short sign, string expected)
        {
            byte[] value = new byte[8];
            BinaryPrimitives.WriteInt16BigEndian(value.AsSpan(4), sign);
            byte[] text = new byte[PgBinaryValues.NumericTextMaxLength(value)];
            Assert.Equal(expected, Encoding.ASCII.GetString(text, 0, PgBinaryValues.WriteNumericText(value, text)));
            Assert.False(PgBinaryValues.TryReadDecimal(value, 2, out _));
        }
    }

    [Fact]
    public void Numeric_with_39_digits_does_not_fit_decimal128()
    {
        byte[] binary = NumericBinary(BigInteger.Pow(10, 38), 0);
        Assert.False(PgBinaryValues.TryReadDecimal(binary, 0, out _));
        byte[] text = new byte[PgBinaryValues.NumericTextMaxLength(binary)];
        Assert.Equal("1" + new string('0', 38), Encoding.ASCII.GetString(text, 0, PgBinaryValues.WriteNumericText(binary, text)));
    }

    [Theory]
    [InlineData(new byte[] { 0, 1, 0, 0 })] // truncated header
    [InlineData(new byte[] { 0, 2, 0, 0, 0, 0, 0, 0, 0, 1 })] // fewer digits than announced
    [InlineData(new byte[] { 0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10 })] // digit 10000
    [InlineData(new byte[] { 0, 0, 0, 0, 0x12, 0x34, 0, 0 })] // bad sign
    public void Malformed_numerics_throw(byte[] value)
    {
        Assert.Throws<PgProtocolException>(() =>
        {
            byte[] text = new byte[PgBinaryValues.NumericTextMaxLength(value)];
            PgBinaryValues.WriteNumericText(value, text);
            PgBinaryValues.TryReadDecimal(value, 0, out _);
        });
    }

    [Fact]
    public void Temporal_values_shift_to_the_unix_epoch_and_saturate_infinity()
    {
        Assert.Equal(10_957, PgBinaryValues.ReadDate([0, 0, 0, 0]));
        Assert.Equal(10_956, PgBinaryValues.ReadDate([0xFF, 0xFF, 0xFF, 0xFF]));
        Assert.Equal(int.MaxValue, PgBinaryValues.ReadDate([0x7F, 0xFF, 0xFF, 0xFF]));
        Assert.Equal(int.MinValue, PgBinaryValues.ReadDate([0x80, 0, 0, 0]));
        Assert.Equal(946_684_800_000_000, PgBinaryValues.ReadTimestamp(new byte[8]));
        Assert.Equal(long.MaxValue, PgBinaryValues.ReadTimestamp([0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]));
        Assert.Equal(long.MinValue, PgBinaryValues.ReadTimestamp([0x80, 0, 0, 0, 0, 0, 0, 0]));
        Assert.Equal(long.MaxValue, PgBinaryValues.ReadTimestamp([0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0])); // would wrap
        Assert.Equal(3_600_000_001, PgBinaryValues.ReadTime([0, 0, 0, 0, 0xD6, 0x93, 0xA4, 0x01]));
        Assert.Throws<PgProtocolException>(() => PgBinaryValues.ReadDate([0, 0, 0]));
    }

    [Fact]
    public void Interval_splits_into_months_days_and_nanoseconds()
    {
        byte[] value = new byte[16];
        BinaryPrimitives.WriteInt64BigEndian(value, -1_500_000);
        BinaryPrimitives.WriteInt32BigEndian(value.AsSpan(8), 3);
        BinaryPrimitives.WriteInt32BigEndian(value.AsSpan(12), -14);
        Assert.True(PgBinaryValues.TryReadInterval(value, out int months, out int days, out long nanoseconds));
        Assert.Equal((-14, 3, -1_500_000_000L), (months, days, nanoseconds));

        BinaryPrimitives.WriteInt64BigEndian(value, long.MaxValue / 100);
        Assert.False(PgBinaryValues.TryReadInterval(value, out _, out _, out _));
    }

    [Fact]
    public void Scalars_read_big_endian_with_exact_lengths()
    {
        Assert.True(PgBinaryValues.ReadBool([1]));
        Assert.False(PgBinaryValues.ReadBool([0]));
        Assert.Equal((short)-2, PgBinaryValues.ReadInt16([0xFF, 0xFE]));
        Assert.Equal(0x01020304, PgBinaryValues.ReadInt32([1, 2, 3, 4]));
        Assert.Equal(-1L, PgBinaryValues.ReadInt64([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]));
        Assert.Equal(1.5f, PgBinaryValues.ReadFloat32([0x3F, 0xC0, 0, 0]));
        Assert.Equal(-2.0, PgBinaryValues.ReadFloat64([0xC0, 0, 0, 0, 0, 0, 0, 0]));
        Assert.Throws<PgProtocolException>(() => PgBinaryValues.ReadInt32([1, 2, 3, 4, 5]));
        Assert.Throws<PgProtocolException>(() => PgBinaryValues.ReadBool([]));
    }

    [Fact]
    public void Uuid_prints_canonically_and_jsonb_strips_its_version()
    {
        var id = Guid.Parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        byte[] text = new byte[36];
        PgBinaryValues.WriteUuidText(id.ToByteArray(bigEndian: true), text);
        Assert.Equal(id.ToString(), Encoding.ASCII.GetString(text));
        Assert.Equal("{}", Encoding.ASCII.GetString(PgBinaryValues.JsonbText([1, (byte)'{', (byte)'}'])));
        Assert.Throws<PgProtocolException>(() => PgBinaryValues.JsonbText([2, (byte)'{']));
    }

    [Fact]
    public void Binary_arrays_expose_dimensions_and_elements()
    {
        // int4[] {1,NULL,3}: ndim 1, has-null 1, element oid 23, length 3, lower bound 1.
        byte[] value = Array([1, 1, PgTypes.Int4, 3, 1], [[0, 0, 0, 1], null, [0, 0, 0, 3]]);
        var array = new PgBinaryArray(value);
        Assert.Equal((1, PgTypes.Int4, 3, 3), (array.Dimensions, array.ElementOid, array.Count, array.Length(0)));
        Assert.Equal(1, PgBinaryValues.ReadInt32(array.Next(out bool isNull)));
        Assert.False(isNull);
        array.Next(out isNull);
        Assert.True(isNull);
        Assert.Equal(3, PgBinaryValues.ReadInt32(array.Next(out _)));
        Assert.Throws<PgProtocolException>(() => new PgBinaryArray(value).ReadElements(4));

        var empty = new PgBinaryArray(Array([0, 0, PgTypes.Int4], []));
        Assert.Equal((0, 0), (empty.Dimensions, empty.Count));

        var matrix = new PgBinaryArray(Array([2, 0, PgTypes.Int4, 2, 1, 2, 1], [[0, 0, 0, 1], [0, 0, 0, 2], [0, 0, 0, 3], [0, 0, 0, 4]]));
        Assert.Equal((2, 4), (matrix.Dimensions, matrix.Count));
    }

    [Theory]
    [InlineData(new int[] { 1, 0 })] // header truncated
    [InlineData(new int[] { 7, 0, 23 })] // too many dimensions
    [InlineData(new int[] { 1, 0, 23 })] // dimension header missing
    [InlineData(new int[] { 1, 0, 23, -1, 1 })] // negative length
    [InlineData(new int[] { 1, 0, 23, 1000, 1 })] // more elements than bytes
    public void Malformed_arrays_throw(int[] header)
    {
        Assert.Throws<PgProtocolException>(() => new PgBinaryArray(Array(header, [])));
    }

    [Fact]
    public void Array_element_lengths_are_checked()
    {
        byte[] value = Array([1, 0, PgTypes.Int4, 1, 1], [[0, 0, 0, 1]]);
        BinaryPrimitives.WriteInt32BigEndian(value.AsSpan(20), 100); // element claims 100 bytes
        Assert.Throws<PgProtocolException>(() => new PgBinaryArray(value).Next(out _));
    }

    private static byte[] Array(int[] header, byte[]?[] elements)
    {
        var bytes = new List<byte>();
        foreach (int word in header)
        {
            bytes.AddRange(BigEndian(word));
        }

        foreach (byte[]? element in elements)
        {
            bytes.AddRange(BigEndian(element?.Length ?? -1));
            bytes.AddRange(element ?? []);
        }

        return bytes.ToArray();

        static byte[] BigEndian(int value)
        {
            byte[] word = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(word, value);
            return word;
        }
    }
}

internal static class PgBinaryArrayTestExtensions
{
    /// <summary>Reads <paramref name="count"/> elements (to provoke reading past the end).</summary>
    public static int ReadElements(this PgBinaryArray array, int count)
    {
        for (int i = 0; i < count; i++)
        {
            array.Next(out _);
        }

        return count;
    }
}

using System.Buffers.Binary;

namespace LakeOps.Edge.Protocols.Postgres.Client;

/// <summary>
/// Decoders for PostgreSQL's binary value formats (what <c>*_send</c> functions produce), into the
/// representations Arrow uses: Unix-epoch days and microseconds, unscaled decimals, month/day/nanosecond
/// intervals. Pure functions over spans; wrong lengths throw <see cref="PgProtocolException"/>.
/// </summary>
public static class PgBinaryValues
{
    /// <summary>Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.</summary>
    public const int EpochDaysOffset = 10_957;

    /// <summary>Microseconds from 1970-01-01 to 2000-01-01.</summary>
    public const long EpochMicrosecondsOffset = 946_684_800_000_000;

    private const short NumericPositive = 0x0000;
    private const short NumericNegative = 0x4000;
    private const short NumericNaN = unchecked((short)0xC000);
    private const short NumericPositiveInfinity = unchecked((short)0xD000);
    private const short NumericNegativeInfinity = unchecked((short)0xF000);

    private static readonly UInt128 MaxDecimal128 = UInt128.Parse("99999999999999999999999999999999999999", System.Globalization.CultureInfo.InvariantCulture);

    public static bool ReadBool(ReadOnlySpan<byte> value)
    {
        Expect(value, 1, "bool");
        return value[0] != 0;
    }

    public static short ReadInt16(ReadOnlySpan<byte> value)
    {
        Expect(value, 2, "int2");
        return BinaryPrimitives.ReadInt16BigEndian(value);
    }

    public static int ReadInt32(ReadOnlySpan<byte> value)
    {
        Expect(value, 4, "int4");
        return BinaryPrimitives.ReadInt32BigEndian(value);
    }

    public static long ReadInt64(ReadOnlySpan<byte> value)
    {
        Expect(value, 8, "int8");
        return BinaryPrimitives.ReadInt64BigEndian(value);
    }

    public static float ReadFloat32(ReadOnlySpan<byte> value)
    {
        Expect(value, 4, "float4");
        return BinaryPrimitives.ReadSingleBigEndian(value);
    }

    public static double ReadFloat64(ReadOnlySpan<byte> value)
    {
        Expect(value, 8, "float8");
        return BinaryPrimitives.ReadDoubleBigEndian(value);
    }

    /// <summary>date: days since 1970-01-01; PostgreSQL's ±infinity saturate to int.MinValue / int.MaxValue.</summary>
    public static int ReadDate(ReadOnlySpan<byte> value)
    {
        Expect(value, 4, "date");
        int days = BinaryPrimitives.ReadInt32BigEndian(value);
        return days is int.MaxValue or int.MinValue ? days : days + EpochDaysOffset;
    }

    /// <summary>time: microseconds since midnight.</summary>
    public static long ReadTime(ReadOnlySpan<byte> value)
    {
        Expect(value, 8, "time");
        return BinaryPrimitives.ReadInt64BigEndian(value);
    }

    /// <summary>timestamp / timestamptz: microseconds since 1970-01-01 (UTC for timestamptz); ±infinity saturate to long.MinValue / long.MaxValue.</summary>
    public static long ReadTimestamp(ReadOnlySpan<byte> value)
    {
        Expect(value, 8, "timestamp");
        long micros = BinaryPrimitives.ReadInt64BigEndian(value);
        if (micros is long.MaxValue or long.MinValue)
        {
            return micros;
        }

        long unix = micros + EpochMicrosecondsOffset;

        // PostgreSQL's range ends far below the overflow point, but a hostile value must not wrap around.
        return micros > 0 && unix < 0 ? long.MaxValue : unix;
    }

    /// <summary>interval: months, days and nanoseconds (Arrow MonthDayNano). False when the time part overflows nanoseconds.</summary>
    public static bool TryReadInterval(ReadOnlySpan<byte> value, out int months, out int days, out long nanoseconds)
    {
        Expect(value, 16, "interval");
        long micros = BinaryPrimitives.ReadInt64BigEndian(value);
        days = BinaryPrimitives.ReadInt32BigEndian(value[8..]);
        months = BinaryPrimitives.ReadInt32BigEndian(value[12..]);
        if (micros > long.MaxValue / 1000 || micros < long.MinValue / 1000)
        {
            nanoseconds = 0;
            return false;
        }

        nanoseconds = micros * 1000;
        return true;
    }

    /// <summary>uuid: writes the canonical 36-character lower-case text ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").</summary>
    public static void WriteUuidText(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        Expect(value, 16, "uuid");
        ReadOnlySpan<byte> hex = "0123456789abcdef"u8;
        int at = 0;
        for (int i = 0; i < 16; i++)
        {
            if (i is 4 or 6 or 8 or 10)
            {
                destination[at++] = (byte)'-';
            }

            destination[at++] = hex[value[i] >> 4];
            destination[at++] = hex[value[i] & 0xF];
        }
    }

    /// <summary>jsonb's binary form is a version byte (1) and the JSON text; returns the text.</summary>
    public static ReadOnlySpan<byte> JsonbText(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty || value[0] != 1)
        {
            throw new PgProtocolException("jsonb value has an unknown binary format version");
        }

        return value[1..];
    }

    /// <summary>
    /// numeric as an unscaled integer at <paramref name="scale"/> (value × 10^scale) for Arrow Decimal128.
    /// False for NaN, ±Infinity, more than 38 digits, or more fractional digits than the scale.
    /// </summary>
    public static bool TryReadDecimal(ReadOnlySpan<byte> value, int scale, out Int128 unscaled)
    {
        unscaled = 0;
        ReadNumericHeader(value, out int count, out int weight, out short sign, out _);
        if (sign is not (NumericPositive or NumericNegative))
        {
            return false;
        }

        // value = sum(d[i] * 10000^(weight - i)); digits are base 10000, most significant first. The
        // unscaled integer counts units of 10^-scale: group i's lowest digit sits at exponent e (in those units).
        UInt128 magnitude = 0;
        for (int i = 0; i < count; i++)
        {
            int digit = Digit(value, i);
            int e = (4 * (weight - i)) + scale;
            if (e >= 0)
            {
                if (!TryAppend(ref magnitude, 10000, digit))
                {
                    return false;
                }
            }
            else if (e > -4)
            {
                // The group straddles the scale: its low digits must be zeros.
                int drop = Pow10(-e);
                if (digit % drop != 0 || !TryAppend(ref magnitude, Pow10(4 + e), digit / drop))
                {
                    return false;
                }
            }
            else if (digit != 0)
            {
                return false; // wholly below the scale
            }
        }

        for (int tail = count == 0 ? 0 : (4 * (weight - count + 1)) + scale; tail > 0; tail--)
        {
            if (!TryAppend(ref magnitude, 10, 0))
            {
                return false;
            }
        }

        unscaled = sign == NumericNegative ? -(Int128)magnitude : (Int128)magnitude;
        return true;
    }

    /// <summary>magnitude = magnitude × factor + digit, false when that leaves 38 decimal digits.</summary>
    private static bool TryAppend(ref UInt128 magnitude, int factor, int digit)
    {
        if (magnitude > (MaxDecimal128 - (uint)digit) / (uint)factor)
        {
            return false;
        }

        magnitude = (magnitude * (uint)factor) + (uint)digit;
        return true;
    }

    private static int Pow10(int exponent) => exponent switch
    {
        0 => 1,
        1 => 10,
        2 => 100,
        _ => 1000,
    };

    /// <summary>Upper bound of <see cref="WriteNumericText"/>'s output for this value.</summary>
    public static int NumericTextMaxLength(ReadOnlySpan<byte> value)
    {
        ReadNumericHeader(value, out _, out int weight, out _, out int displayScale);
        int integerDigits = Math.Max(weight + 1, 1) * 4;
        return Math.Max(1 + integerDigits + 1 + displayScale, "-Infinity".Length);
    }

    /// <summary>numeric as numeric_out prints it ("-12.340", "NaN", "Infinity"); returns the bytes written.</summary>
    public static int WriteNumericText(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        ReadNumericHeader(value, out int count, out int weight, out short sign, out int displayScale);
        switch (sign)
        {
            case NumericNaN:
                return Copy("NaN"u8, destination);
            case NumericPositiveInfinity:
                return Copy("Infinity"u8, destination);
            case NumericNegativeInfinity:
                return Copy("-Infinity"u8, destination);
            case NumericPositive or NumericNegative:
                break;
            default:
                throw new PgProtocolException("numeric value has an invalid sign");
        }

        int at = 0;
        if (sign == NumericNegative)
        {
            destination[at++] = (byte)'-';
        }

        // Integer part: base-10000 digits at positions 0..weight; the first one without leading zeros.
        if (weight < 0)
        {
            destination[at++] = (byte)'0';
        }
        else
        {
            for (int i = 0; i <= weight; i++)
            {
                int digit = i < count ? Digit(value, i) : 0;
                at += i == 0 ? WriteUnpadded(digit, destination[at..]) : WritePadded(digit, destination[at..]);
            }
        }

        if (displayScale > 0)
        {
            destination[at++] = (byte)'.';
            int written = 0;
            Span<byte> four = stackalloc byte[4];
            for (int i = weight + 1; written < displayScale; i++)
            {
                int digit = i >= 0 && i < count ? Digit(value, i) : 0;
                WritePadded(digit, four);
                for (int k = 0; k < 4 && written < displayScale; k++, written++)
                {
                    destination[at++] = four[k];
                }
            }
        }

        return at;
    }

    private static void ReadNumericHeader(ReadOnlySpan<byte> value, out int count, out int weight, out short sign, out int displayScale)
    {
        if (value.Length < 8)
        {
            throw new PgProtocolException("numeric value is truncated");
        }

        count = BinaryPrimitives.ReadInt16BigEndian(value);
        weight = BinaryPrimitives.ReadInt16BigEndian(value[2..]);
        sign = BinaryPrimitives.ReadInt16BigEndian(value[4..]);
        displayScale = BinaryPrimitives.ReadInt16BigEndian(value[6..]);
        if (count < 0 || value.Length != 8 + (2 * count) || displayScale < 0)
        {
            throw new PgProtocolException("numeric value length does not match its digit count");
        }
    }

    private static int Digit(ReadOnlySpan<byte> value, int index)
    {
        int digit = BinaryPrimitives.ReadInt16BigEndian(value[(8 + (2 * index))..]);
        if (digit is < 0 or > 9999)
        {
            throw new PgProtocolException("numeric digit out of range");
        }

        return digit;
    }

    private static int WriteUnpadded(int digit, Span<byte> destination)
    {
        int length = digit >= 1000 ? 4 : digit >= 100 ? 3 : digit >= 10 ? 2 : 1;
        for (int i = length - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + (digit % 10));
            digit /= 10;
        }

        return length;
    }

    private static int WritePadded(int digit, Span<byte> destination)
    {
        for (int i = 3; i >= 0; i--)
        {
            destination[i] = (byte)('0' + (digit % 10));
            digit /= 10;
        }

        return 4;
    }

    private static int Copy(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        text.CopyTo(destination);
        return text.Length;
    }

    private static void Expect(ReadOnlySpan<byte> value, int length, string type)
    {
        if (value.Length != length)
        {
            throw new PgProtocolException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{type} value must be {length} bytes in binary format, got {value.Length}"));
        }
    }
}

using System.Globalization;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// float4/float8 text as PostgreSQL 12+ prints it with extra_float_digits &gt; 0 (its Ryu port): the
/// shortest digits that round-trip, in fixed notation when the decimal exponent is in -4..(6 for float4,
/// 15 for float8)-1, otherwise as d.ddde+XX (at least two exponent digits).
/// <para>
/// .NET's "R" gives the same shortest digits except in one case: PostgreSQL's Ryu treats the rounding
/// interval as open, so a decimal exactly halfway to a neighbouring float is not accepted, while .NET
/// accepts it. That can only happen for integral values whose halfway points are integers (binary
/// exponent ≥ 1); there the halfway decimal is detected exactly (its power of two) and the next longer
/// correctly rounded form is used instead, as PostgreSQL prints it.
/// </para>
/// </summary>
internal static class PgFloatFormat
{
    /// <summary>Longest output: sign, 17 digits, point, up to 4 leading zeros or an exponent.</summary>
    public const int MaxLength = 32;

    private const int MaxDigitsFloat8 = 17;
    private const int MaxDigitsFloat4 = 9;

    /// <summary>"E0".."E16": fixed significant digits, correctly rounded by .NET.</summary>
    private static readonly string[] ExponentFormats = CreateExponentFormats();

    public static int WriteFloat8(double value, Span<byte> destination)
    {
        if (!double.IsFinite(value))
        {
            return WriteSpecial(value, destination);
        }

        long bits = BitConverter.DoubleToInt64Bits(value);
        int biased = (int)((bits >> 52) & 0x7FF);
        int binaryExponent = biased == 0 ? int.MinValue : biased - 1075;
        Span<byte> raw = stackalloc byte[MaxLength];
        value.TryFormat(raw, out int length, "R", CultureInfo.InvariantCulture);
        Decimal parts = Decompose(raw[..length]);
        for (int digits = parts.Length + 1; digits <= MaxDigitsFloat8 && parts.IsHalfway(binaryExponent); digits++)
        {
            value.TryFormat(raw, out length, ExponentFormats[digits - 1], CultureInfo.InvariantCulture);
            parts = Decompose(raw[..length]);
        }

        return Layout(parts, 15, destination);
    }

    public static int WriteFloat4(float value, Span<byte> destination)
    {
        if (!float.IsFinite(value))
        {
            return WriteSpecial(value, destination);
        }

        int bits = BitConverter.SingleToInt32Bits(value);
        int biased = (bits >> 23) & 0xFF;
        int binaryExponent = biased == 0 ? int.MinValue : biased - 150;
        Span<byte> raw = stackalloc byte[MaxLength];
        value.TryFormat(raw, out int length, "R", CultureInfo.InvariantCulture);
        Decimal parts = Decompose(raw[..length]);
        for (int digits = parts.Length + 1; digits <= MaxDigitsFloat4 && parts.IsHalfway(binaryExponent); digits++)
        {
            value.TryFormat(raw, out length, ExponentFormats[digits - 1], CultureInfo.InvariantCulture);
            parts = Decompose(raw[..length]);
        }

        return Layout(parts, 6, destination);
    }

    private static int WriteSpecial(double value, Span<byte> destination)
    {
        ReadOnlySpan<byte> text = double.IsNaN(value) ? "NaN"u8 : value > 0 ? "Infinity"u8 : "-Infinity"u8;
        text.CopyTo(destination);
        return text.Length;
    }

    /// <summary>
    /// A decimal as sign, significant digits (no leading or trailing zeros; up to 17, so they fit a ulong)
    /// and the decimal exponent of the first digit.
    /// </summary>
    private readonly record struct Decimal(bool Negative, ulong Digits, int Length, int Exponent)
    {
        /// <summary>
        /// True when this decimal lies exactly halfway between the float (binary exponent e, integral
        /// when e ≥ 1) and a neighbour. It is then an integer with exactly e - 1 factors of two: the float
        /// is a multiple of 2^e, and a round-tripping decimal differs from it by at most 2^(e-1), so
        /// having exactly e - 1 factors of two forces the difference to be exactly 2^(e-1).
        /// </summary>
        public bool IsHalfway(int binaryExponent)
        {
            int lastDigitExponent = Exponent - (Length - 1);
            if (binaryExponent < 1 || lastDigitExponent < 0 || Digits == 0)
            {
                return false;
            }

            int twos = System.Numerics.BitOperations.TrailingZeroCount(Digits) + lastDigitExponent;
            return twos == binaryExponent - 1;
        }
    }

    /// <summary>Splits .NET output ("-1.25E-05", "123.5", "0.001", "1.2345E+017") into a <see cref="Decimal"/>.</summary>
    private static Decimal Decompose(ReadOnlySpan<byte> raw)
    {
        bool negative = false;
        int i = 0;
        if (raw[0] == (byte)'-')
        {
            negative = true;
            i = 1;
        }

        ulong digits = 0;
        int count = 0;
        int trailingZeros = 0;
        int pointPosition = -1;
        int seen = 0;
        int leadingZeros = 0;
        int exponent = 0;
        for (; i < raw.Length; i++)
        {
            byte c = raw[i];
            if (c == (byte)'.')
            {
                pointPosition = seen;
                continue;
            }

            if (c is (byte)'E' or (byte)'e')
            {
                exponent = ParseExponent(raw[(i + 1)..]);
                break;
            }

            seen++;
            int digit = c - '0';
            if (count == 0 && digit == 0)
            {
                leadingZeros++;
                continue;
            }

            if (digit == 0)
            {
                trailingZeros++;
                continue;
            }

            // Flush zeros that turned out to be inside the number.
            for (; trailingZeros > 0; trailingZeros--)
            {
                digits *= 10;
                count++;
            }

            digits = (digits * 10) + (ulong)digit;
            count++;
        }

        if (pointPosition < 0)
        {
            pointPosition = seen;
        }

        if (count == 0)
        {
            return new Decimal(negative, 0, 1, 0);
        }

        return new Decimal(negative, digits, count, pointPosition - 1 - leadingZeros + exponent);
    }

    private static int Layout(Decimal value, int fixedLimit, Span<byte> destination)
    {
        Span<byte> significant = stackalloc byte[20];
        ulong digits = value.Digits;
        for (int k = value.Length - 1; k >= 0; k--)
        {
            significant[k] = (byte)('0' + (int)(digits % 10));
            digits /= 10;
        }

        significant = significant[..value.Length];
        int pos = 0;
        if (value.Negative)
        {
            destination[pos++] = (byte)'-';
        }

        if (value.Digits == 0)
        {
            destination[pos++] = (byte)'0';
            return pos;
        }

        int exp = value.Exponent;
        if (exp < -4 || exp >= fixedLimit)
        {
            destination[pos++] = significant[0];
            if (significant.Length > 1)
            {
                destination[pos++] = (byte)'.';
                significant[1..].CopyTo(destination[pos..]);
                pos += significant.Length - 1;
            }

            destination[pos++] = (byte)'e';
            destination[pos++] = exp < 0 ? (byte)'-' : (byte)'+';
            int absExp = Math.Abs(exp);
            if (absExp >= 100)
            {
                destination[pos++] = (byte)('0' + (absExp / 100));
            }

            destination[pos++] = (byte)('0' + (absExp / 10 % 10));
            destination[pos++] = (byte)('0' + (absExp % 10));
            return pos;
        }

        if (exp >= 0)
        {
            int integerDigits = exp + 1;
            if (significant.Length <= integerDigits)
            {
                significant.CopyTo(destination[pos..]);
                pos += significant.Length;
                destination.Slice(pos, integerDigits - significant.Length).Fill((byte)'0');
                return pos + integerDigits - significant.Length;
            }

            significant[..integerDigits].CopyTo(destination[pos..]);
            pos += integerDigits;
            destination[pos++] = (byte)'.';
            significant[integerDigits..].CopyTo(destination[pos..]);
            return pos + significant.Length - integerDigits;
        }

        destination[pos++] = (byte)'0';
        destination[pos++] = (byte)'.';
        destination.Slice(pos, -exp - 1).Fill((byte)'0');
        pos += -exp - 1;
        significant.CopyTo(destination[pos..]);
        return pos + significant.Length;
    }

    private static int ParseExponent(ReadOnlySpan<byte> text)
    {
        int sign = 1;
        int i = 0;
        if (text[0] == (byte)'-')
        {
            sign = -1;
            i = 1;
        }
        else if (text[0] == (byte)'+')
        {
            i = 1;
        }

        int value = 0;
        for (; i < text.Length; i++)
        {
            value = (value * 10) + (text[i] - '0');
        }

        return sign * value;
    }

    private static string[] CreateExponentFormats()
    {
        var formats = new string[MaxDigitsFloat8];
        for (int i = 0; i < formats.Length; i++)
        {
            formats[i] = "E" + i.ToString(CultureInfo.InvariantCulture);
        }

        return formats;
    }
}

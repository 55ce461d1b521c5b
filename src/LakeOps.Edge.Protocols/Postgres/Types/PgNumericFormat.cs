using System.Buffers.Binary;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// PostgreSQL numeric output from an unscaled integer (up to 256 bits, as in Arrow Decimal32..256) and a
/// scale: text (<c>numeric_out</c>) and binary (<c>numeric_send</c>). Nothing is allocated: the magnitude
/// lives in a caller's stack buffer of little-endian 64-bit limbs.
/// </summary>
internal static class PgNumericFormat
{
    /// <summary>Most decimal digits of a 256-bit magnitude (2^256 has 78 digits).</summary>
    public const int MaxDigits = 78;

    /// <summary>Upper bound of <see cref="WriteBinary"/> output: header plus at most 21 base-10000 digits.</summary>
    public const int MaxBinaryLength = 8 + (2 * 24);

    private const ulong Pow19 = 10_000_000_000_000_000_000UL;

    private const short SignPositive = 0x0000;
    private const short SignNegative = 0x4000;

    /// <summary>PostgreSQL numeric scales lie in this range (NUMERIC_MIN_SCALE..NUMERIC_MAX_SCALE).</summary>
    public const int MinScale = -1000;

    public const int MaxScale = 1000;

    /// <summary>Upper bound of <see cref="WriteText"/> output for a scale in MinScale..MaxScale: sign, "0.", digits, zeros.</summary>
    public static int MaxTextLength(int scale) => 3 + MaxDigits + Math.Abs(scale);

    /// <summary>
    /// Reads a little-endian two's complement integer of 4, 8, 16 or 32 bytes into magnitude limbs.
    /// Returns true when the value is negative.
    /// </summary>
    public static bool ReadTwosComplement(ReadOnlySpan<byte> value, Span<ulong> limbs)
    {
        limbs.Clear();
        bool negative = (value[^1] & 0x80) != 0;
        switch (value.Length)
        {
            case 4:
                {
                    long v = BinaryPrimitives.ReadInt32LittleEndian(value);
                    limbs[0] = negative ? (ulong)-v : (ulong)v;
                    return negative;
                }

            case 8:
                {
                    long v = BinaryPrimitives.ReadInt64LittleEndian(value);
                    limbs[0] = negative ? unchecked(0UL - (ulong)v) : (ulong)v;
                    return negative;
                }

            default:
                {
                    int count = value.Length / 8;
                    for (int i = 0; i < count; i++)
                    {
                        limbs[i] = BinaryPrimitives.ReadUInt64LittleEndian(value.Slice(i * 8, 8));
                    }

                    if (negative)
                    {
                        // Two's complement negation: invert and add one, carrying across limbs.
                        ulong carry = 1;
                        for (int i = 0; i < count; i++)
                        {
                            ulong inverted = ~limbs[i];
                            ulong sum = inverted + carry;
                            carry = sum < inverted ? 1UL : 0UL;
                            limbs[i] = sum;
                        }
                    }

                    return negative;
                }
        }
    }

    /// <summary>
    /// Writes the decimal digits of a magnitude (no leading zeros; "0" for zero) to the start of
    /// <paramref name="digits"/> (at least <see cref="MaxDigits"/> long). The limbs are consumed.
    /// </summary>
    public static int FormatMagnitude(Span<ulong> limbs, Span<byte> digits)
    {
        Span<byte> scratch = stackalloc byte[MaxDigits + 20];
        int pos = scratch.Length;
        int top = limbs.Length - 1;
        while (top > 0 && limbs[top] == 0)
        {
            top--;
        }

        // Peel off 19 decimal digits at a time while the value needs more than one limb.
        while (top > 0)
        {
            ulong rem = 0;
            for (int i = top; i >= 0; i--)
            {
                UInt128 current = ((UInt128)rem << 64) | limbs[i];
                ulong quotient = (ulong)(current / Pow19);
                rem = (ulong)(current - ((UInt128)quotient * Pow19));
                limbs[i] = quotient;
            }

            for (int k = 0; k < 19; k++)
            {
                scratch[--pos] = (byte)('0' + (int)(rem % 10));
                rem /= 10;
            }

            while (top > 0 && limbs[top] == 0)
            {
                top--;
            }
        }

        // A value that needed two limbs is at least 2^64 > 10^19, so the last quotient is nonzero.
        ulong last = limbs[0];
        do
        {
            scratch[--pos] = (byte)('0' + (int)(last % 10));
            last /= 10;
        }
        while (last != 0);

        int length = scratch.Length - pos;
        scratch[pos..].CopyTo(digits);
        return length;
    }

    /// <summary>numeric_out: the exact decimal text of digits × 10^-scale.</summary>
    public static int WriteText(ReadOnlySpan<byte> digits, bool negative, int scale, Span<byte> destination)
    {
        bool zero = digits.Length == 1 && digits[0] == (byte)'0';
        int pos = 0;
        if (negative && !zero)
        {
            destination[pos++] = (byte)'-';
        }

        if (scale <= 0)
        {
            digits.CopyTo(destination[pos..]);
            pos += digits.Length;
            if (!zero)
            {
                destination.Slice(pos, -scale).Fill((byte)'0');
                pos += -scale;
            }

            return pos;
        }

        int integerDigits = digits.Length - scale;
        if (integerDigits > 0)
        {
            digits[..integerDigits].CopyTo(destination[pos..]);
            pos += integerDigits;
            destination[pos++] = (byte)'.';
            digits[integerDigits..].CopyTo(destination[pos..]);
            return pos + scale;
        }

        destination[pos++] = (byte)'0';
        destination[pos++] = (byte)'.';
        destination.Slice(pos, -integerDigits).Fill((byte)'0');
        pos += -integerDigits;
        digits.CopyTo(destination[pos..]);
        return pos + digits.Length;
    }

    /// <summary>
    /// numeric_send: int16 ndigits, int16 weight, int16 sign, int16 dscale, then base-10000 digits, most
    /// significant first. Digit group g holds the decimal exponents 4g..4g+3; weight is the top group.
    /// </summary>
    public static int WriteBinary(ReadOnlySpan<byte> digits, bool negative, int scale, Span<byte> destination)
    {
        int dscale = Math.Max(scale, 0);
        bool zero = digits.Length == 1 && digits[0] == (byte)'0';
        if (zero)
        {
            BinaryPrimitives.WriteInt16BigEndian(destination, 0);
            BinaryPrimitives.WriteInt16BigEndian(destination[2..], 0);
            BinaryPrimitives.WriteInt16BigEndian(destination[4..], SignPositive);
            BinaryPrimitives.WriteInt16BigEndian(destination[6..], (short)dscale);
            return 8;
        }

        int n = digits.Length;
        long topExponent = n - 1L - scale;
        long bottomExponent = -(long)scale;
        long topGroup = FloorDiv4(topExponent);
        long bottomGroup = FloorDiv4(bottomExponent);

        int count = 0;
        int lastNonZero = -1;
        for (long g = topGroup; g >= bottomGroup; g--)
        {
            int groupValue = 0;
            for (long e = (4 * g) + 3; e >= 4 * g; e--)
            {
                // Digit index of exponent e: the last digit has exponent -scale.
                long j = n - 1 - scale - e;
                int digit = j >= 0 && j < n ? digits[(int)j] - '0' : 0;
                groupValue = (groupValue * 10) + digit;
            }

            BinaryPrimitives.WriteInt16BigEndian(destination[(8 + (2 * count))..], (short)groupValue);
            if (groupValue != 0)
            {
                lastNonZero = count;
            }

            count++;
        }

        int ndigits = lastNonZero + 1;
        BinaryPrimitives.WriteInt16BigEndian(destination, (short)ndigits);
        BinaryPrimitives.WriteInt16BigEndian(destination[2..], (short)topGroup);
        BinaryPrimitives.WriteInt16BigEndian(destination[4..], negative ? SignNegative : SignPositive);
        BinaryPrimitives.WriteInt16BigEndian(destination[6..], (short)dscale);
        return 8 + (2 * ndigits);
    }

    private static long FloorDiv4(long value) => value >= 0 ? value / 4 : -((-value + 3) / 4);
}

namespace LakeOps.Edge.Engines;

/// <summary>The decimal text that MySQL and Trino send ("-123.45"), as Arrow's unscaled 128-bit decimal.</summary>
internal static class DecimalText
{
    /// <summary>Decimal128's (and both engines') largest precision.</summary>
    public const int MaxDigits = 38;

    /// <summary>
    /// "-123.45" at scale s as an unscaled integer with exactly s fraction digits. False for text that is not a
    /// decimal, has non-zero digits past the scale, or needs more than 38 significant digits.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, int scale, out Int128 unscaled)
    {
        unscaled = 0;
        int i = 0;
        bool negative = false;
        if (i < text.Length && text[i] is (byte)'-' or (byte)'+')
        {
            negative = text[i] == (byte)'-';
            i++;
        }

        int digits = 0;
        int fraction = -1;
        bool any = false;
        for (; i < text.Length; i++)
        {
            byte c = text[i];
            if (c == (byte)'.' && fraction < 0)
            {
                fraction = 0;
                continue;
            }

            if (c is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            any = true;
            if (fraction >= 0)
            {
                if (fraction == scale)
                {
                    // More fraction digits than the scale: only zeros may be dropped.
                    if (c != (byte)'0')
                    {
                        return false;
                    }

                    continue;
                }

                fraction++;
            }

            // Leading zeros do not count towards the precision.
            if (digits > 0 || c != (byte)'0')
            {
                digits++;
            }

            if (digits > MaxDigits)
            {
                return false;
            }

            unscaled = (unscaled * 10) + (c - '0');
        }

        if (!any)
        {
            return false;
        }

        for (int pad = Math.Max(fraction, 0); pad < scale; pad++)
        {
            if (++digits > MaxDigits)
            {
                return false;
            }

            unscaled *= 10;
        }

        if (negative)
        {
            unscaled = -unscaled;
        }

        return true;
    }
}

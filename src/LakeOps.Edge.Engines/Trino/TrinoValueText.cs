using LakeOps.Edge.Protocols;

namespace LakeOps.Edge.Engines.Trino;

/// <summary>
/// Parsers for the text forms Trino's client protocol uses for decimals, dates, times, timestamps and
/// intervals (e.g. <c>2024-01-02 03:04:05.123456 UTC</c>, <c>-2 03:04:05.678</c>, <c>1-2</c>). Times are
/// microseconds; digits past microseconds are dropped (Trino allows up to picoseconds).
/// </summary>
internal static class TrinoValueText
{
    private const long MicrosPerSecond = 1_000_000;

    /// <summary>yyyy-MM-dd (years may have more digits or a sign) as days since 1970-01-01.</summary>
    public static bool TryParseDate(ReadOnlySpan<byte> text, out int days, out int used)
    {
        days = 0;
        used = 0;
        int i = 0;
        bool negative = false;
        if (i < text.Length && text[i] is (byte)'-' or (byte)'+')
        {
            negative = text[i] == (byte)'-';
            i++;
        }

        int start = i;
        long year = 0;
        while (i < text.Length && char.IsAsciiDigit((char)text[i]) && i - start < 9)
        {
            year = (year * 10) + (text[i++] - '0');
        }

        if (i - start < 4 || !Expect(text, ref i, (byte)'-') || !TwoDigits(text, ref i, out int month) || !Expect(text, ref i, (byte)'-')
            || !TwoDigits(text, ref i, out int day) || month is < 1 or > 12 || day < 1 || day > CivilCalendar.DaysInMonth(negative ? -year : year, month))
        {
            return false;
        }

        long result = CivilCalendar.DaysFromCivil(negative ? -year : year, month, day);
        if (result is < int.MinValue or > int.MaxValue)
        {
            return false;
        }

        days = (int)result;
        used = i;
        return true;
    }

    /// <summary>HH:mm:ss[.fffffffff...] as microseconds since midnight.</summary>
    public static bool TryParseTime(ReadOnlySpan<byte> text, out long micros, out int used)
    {
        micros = 0;
        used = 0;
        int i = 0;
        if (!TwoDigits(text, ref i, out int hour) || !Expect(text, ref i, (byte)':') || !TwoDigits(text, ref i, out int minute)
            || hour > 23 || minute > 59)
        {
            return false;
        }

        int second = 0;
        if (i < text.Length && text[i] == (byte)':')
        {
            i++;
            if (!TwoDigits(text, ref i, out second) || second > 59)
            {
                return false;
            }
        }

        long fraction = 0;
        if (i < text.Length && text[i] == (byte)'.')
        {
            i++;
            int digits = 0;
            while (i < text.Length && char.IsAsciiDigit((char)text[i]))
            {
                if (digits < 6)
                {
                    fraction = (fraction * 10) + (text[i] - '0');
                }

                digits++;
                i++;
            }

            if (digits == 0)
            {
                return false;
            }

            for (; digits < 6; digits++)
            {
                fraction *= 10;
            }
        }

        micros = (((hour * 60L) + minute) * 60 + second) * MicrosPerSecond + fraction;
        used = i;
        return true;
    }

    /// <summary>yyyy-MM-dd HH:mm:ss[.f...] as microseconds since 1970-01-01 00:00:00 (no zone).</summary>
    public static bool TryParseTimestamp(ReadOnlySpan<byte> text, out long micros, out int used)
    {
        micros = 0;
        used = 0;
        if (!TryParseDate(text, out int days, out int dateLength) || dateLength >= text.Length || text[dateLength] is not (byte)' ' and not (byte)'T'
            || !TryParseTime(text[(dateLength + 1)..], out long time, out int timeLength))
        {
            return false;
        }

        micros = (days * 86_400L * MicrosPerSecond) + time;
        used = dateLength + 1 + timeLength;
        return true;
    }

    /// <summary>A zone written as an offset (+05:30, -08:00) or UTC/Z; false for region names.</summary>
    public static bool TryParseOffset(ReadOnlySpan<byte> zone, out int seconds)
    {
        seconds = 0;
        if (zone.SequenceEqual("UTC"u8) || zone.SequenceEqual("Z"u8))
        {
            return true;
        }

        int i = 1;
        if (zone.Length != 6 || zone[0] is not (byte)'+' and not (byte)'-' || !TwoDigits(zone, ref i, out int hours)
            || !Expect(zone, ref i, (byte)':') || !TwoDigits(zone, ref i, out int minutes))
        {
            return false;
        }

        seconds = ((hours * 60) + minutes) * 60 * (zone[0] == (byte)'-' ? -1 : 1);
        return true;
    }

    /// <summary>interval day to second: [-]d HH:mm:ss.fff (the sign applies to the whole interval).</summary>
    public static bool TryParseDayToSecond(ReadOnlySpan<byte> text, out int days, out long nanos)
    {
        days = 0;
        nanos = 0;
        int i = 0;
        bool negative = i < text.Length && text[i] == (byte)'-';
        if (negative)
        {
            i++;
        }

        long d = 0;
        int start = i;
        while (i < text.Length && char.IsAsciiDigit((char)text[i]) && i - start < 9)
        {
            d = (d * 10) + (text[i++] - '0');
        }

        if (i == start || !Expect(text, ref i, (byte)' ') || !TryParseIntervalTime(text[i..], out long micros))
        {
            return false;
        }

        days = (int)(negative ? -d : d);
        nanos = (negative ? -micros : micros) * 1000;
        return true;
    }

    /// <summary>interval year to month: [-]y-m.</summary>
    public static bool TryParseYearToMonth(ReadOnlySpan<byte> text, out int months)
    {
        months = 0;
        int i = 0;
        bool negative = i < text.Length && text[i] == (byte)'-';
        if (negative)
        {
            i++;
        }

        if (!Number(text, ref i, out long years) || !Expect(text, ref i, (byte)'-') || !Number(text, ref i, out long m) || i != text.Length)
        {
            return false;
        }

        long total = (years * 12) + m;
        if (total > int.MaxValue)
        {
            return false;
        }

        months = (int)(negative ? -total : total);
        return true;
    }

    private static bool TryParseIntervalTime(ReadOnlySpan<byte> text, out long micros)
    {
        // Hours of an interval are 00..23 like a time of day.
        return TryParseTime(text, out micros, out int used) && used == text.Length;
    }

    private static bool Number(ReadOnlySpan<byte> text, ref int i, out long value)
    {
        value = 0;
        int start = i;
        while (i < text.Length && char.IsAsciiDigit((char)text[i]) && i - start < 12)
        {
            value = (value * 10) + (text[i++] - '0');
        }

        return i > start;
    }

    private static bool Expect(ReadOnlySpan<byte> text, ref int i, byte c)
    {
        if (i < text.Length && text[i] == c)
        {
            i++;
            return true;
        }

        return false;
    }

    private static bool TwoDigits(ReadOnlySpan<byte> text, ref int i, out int value)
    {
        value = 0;
        if (i + 2 > text.Length || !char.IsAsciiDigit((char)text[i]) || !char.IsAsciiDigit((char)text[i + 1]))
        {
            return false;
        }

        value = ((text[i] - '0') * 10) + (text[i + 1] - '0');
        i += 2;
        return true;
    }
}

using System.Buffers.Text;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// Date/time arithmetic and text output in PostgreSQL's ISO DateStyle and "postgres" IntervalStyle, with
/// TimeZone=UTC. Days count from 1970-01-01 (Arrow's epoch) on the proleptic Gregorian calendar; years
/// before 1 AD print as "YYYY-MM-DD BC" like PostgreSQL (year 0 is 1 BC).
/// </summary>
internal static class PgDateTimeFormat
{
    public const long MicrosPerSecond = 1_000_000;
    public const long MicrosPerMinute = 60 * MicrosPerSecond;
    public const long MicrosPerHour = 60 * MicrosPerMinute;
    public const long MicrosPerDay = 24 * MicrosPerHour;

    /// <summary>Days from 1970-01-01 to 2000-01-01, the PostgreSQL epoch.</summary>
    public const int PgEpochDays = 10957;

    /// <summary>Microseconds from 1970-01-01 to 2000-01-01.</summary>
    public const long PgEpochMicros = PgEpochDays * MicrosPerDay;

    /// <summary>Upper bounds of the text forms.</summary>
    public const int MaxDateLength = 24;
    public const int MaxTimeLength = 32;
    public const int MaxTimestampLength = 48;
    public const int MaxIntervalLength = 96;

    public static long FloorDiv(long value, long divisor)
    {
        long quotient = value / divisor;
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient;
    }

    /// <summary>Civil date of a day number (days since 1970-01-01), proleptic Gregorian, astronomical year.</summary>
    public static void CivilFromDays(long days, out long year, out int month, out int day)
    {
        long z = days + 719468;
        long era = (z >= 0 ? z : z - 146096) / 146097;
        long dayOfEra = z - (era * 146097);
        long yearOfEra = (dayOfEra - (dayOfEra / 1460) + (dayOfEra / 36524) - (dayOfEra / 146096)) / 365;
        long dayOfYear = dayOfEra - ((365 * yearOfEra) + (yearOfEra / 4) - (yearOfEra / 100));
        long mp = ((5 * dayOfYear) + 2) / 153;
        day = (int)(dayOfYear - (((153 * mp) + 2) / 5) + 1);
        month = (int)(mp < 10 ? mp + 3 : mp - 9);
        year = yearOfEra + (era * 400) + (month <= 2 ? 1 : 0);
    }

    /// <summary>date_out: "2020-01-01", "0044-03-15 BC", "infinity".</summary>
    public static int WriteDate(long days, Span<byte> destination)
    {
        CivilFromDays(days, out long year, out int month, out int day);
        int pos = WriteYearMonthDay(year, month, day, destination, out bool bc);
        if (bc)
        {
            " BC"u8.CopyTo(destination[pos..]);
            pos += 3;
        }

        return pos;
    }

    /// <summary>time_out: "12:34:56" or "12:34:56.5" (fraction trimmed).</summary>
    public static int WriteTime(long micros, Span<byte> destination)
    {
        int pos = 0;
        if (micros < 0)
        {
            // Not a valid time of day; print it signed rather than garbage.
            destination[pos++] = (byte)'-';
            micros = micros == long.MinValue ? long.MaxValue : -micros;
        }

        return pos + WriteClock(micros, destination[pos..]);
    }

    /// <summary>
    /// timestamp_out / timestamptz_out: "2020-01-01 12:34:56.123456[+00][ BC]". For timestamptz the
    /// instant is shown in the zone whose offset is <paramref name="offsetSeconds"/> ("+05:30", "-08").
    /// </summary>
    public static int WriteTimestamp(long unixMicros, bool withZone, Span<byte> destination, int offsetSeconds = 0)
    {
        if (withZone)
        {
            unixMicros += offsetSeconds * MicrosPerSecond;
        }

        long days = FloorDiv(unixMicros, MicrosPerDay);
        long timeOfDay = unixMicros - (days * MicrosPerDay);
        CivilFromDays(days, out long year, out int month, out int day);
        int pos = WriteYearMonthDay(year, month, day, destination, out bool bc);
        destination[pos++] = (byte)' ';
        pos += WriteClock(timeOfDay, destination[pos..]);
        if (withZone)
        {
            pos += WriteUtcOffset(offsetSeconds, destination[pos..]);
        }

        if (bc)
        {
            " BC"u8.CopyTo(destination[pos..]);
            pos += 3;
        }

        return pos;
    }

    /// <summary>A UTC offset as PostgreSQL prints it: "+00", "-08", "+05:30", "+00:19:32".</summary>
    public static int WriteUtcOffset(int offsetSeconds, Span<byte> destination)
    {
        destination[0] = offsetSeconds < 0 ? (byte)'-' : (byte)'+';
        int rest = Math.Abs(offsetSeconds);
        int pos = 1 + WriteTwoDigits(rest / 3600, destination[1..]);
        int minutes = rest / 60 % 60;
        int seconds = rest % 60;
        if (minutes != 0 || seconds != 0)
        {
            destination[pos++] = (byte)':';
            pos += WriteTwoDigits(minutes, destination[pos..]);
        }

        if (seconds != 0)
        {
            destination[pos++] = (byte)':';
            pos += WriteTwoDigits(seconds, destination[pos..]);
        }

        return pos;
    }

    /// <summary>interval_out with IntervalStyle=postgres: "1 year 2 mons -3 days +04:05:06.5".</summary>
    public static int WriteInterval(int months, int days, long micros, Span<byte> destination)
    {
        long years = months / 12;
        long mons = months % 12;
        long hours = micros / MicrosPerHour;
        long rest = micros - (hours * MicrosPerHour);
        long minutes = rest / MicrosPerMinute;
        rest -= minutes * MicrosPerMinute;
        long seconds = rest / MicrosPerSecond;
        long fraction = rest - (seconds * MicrosPerSecond);

        int pos = 0;
        bool isZero = true;
        bool isBefore = false;
        pos = AddIntervalPart(destination, pos, years, "year"u8, ref isZero, ref isBefore);
        pos = AddIntervalPart(destination, pos, mons, "mon"u8, ref isZero, ref isBefore);
        pos = AddIntervalPart(destination, pos, days, "day"u8, ref isZero, ref isBefore);
        if (isZero || hours != 0 || minutes != 0 || seconds != 0 || fraction != 0)
        {
            bool minus = hours < 0 || minutes < 0 || seconds < 0 || fraction < 0;
            if (!isZero)
            {
                destination[pos++] = (byte)' ';
            }

            if (minus)
            {
                destination[pos++] = (byte)'-';
            }
            else if (isBefore)
            {
                destination[pos++] = (byte)'+';
            }

            pos += WriteAtLeastTwoDigits(Math.Abs(hours), destination[pos..]);
            destination[pos++] = (byte)':';
            pos += WriteTwoDigits((int)Math.Abs(minutes), destination[pos..]);
            destination[pos++] = (byte)':';
            pos += WriteTwoDigits((int)Math.Abs(seconds), destination[pos..]);
            pos += WriteFraction(Math.Abs(fraction), destination[pos..]);
        }

        return pos;
    }

    /// <summary>HH:MM:SS[.ffffff] for a non-negative count of microseconds (hours may exceed 24).</summary>
    public static int WriteClock(long micros, Span<byte> destination)
    {
        long hours = micros / MicrosPerHour;
        long rest = micros - (hours * MicrosPerHour);
        int minutes = (int)(rest / MicrosPerMinute);
        rest -= minutes * MicrosPerMinute;
        int seconds = (int)(rest / MicrosPerSecond);
        long fraction = rest - (seconds * MicrosPerSecond);
        int pos = WriteAtLeastTwoDigits(hours, destination);
        destination[pos++] = (byte)':';
        pos += WriteTwoDigits(minutes, destination[pos..]);
        destination[pos++] = (byte)':';
        pos += WriteTwoDigits(seconds, destination[pos..]);
        return pos + WriteFraction(fraction, destination[pos..]);
    }

    private static int AddIntervalPart(Span<byte> destination, int pos, long value, ReadOnlySpan<byte> unit, ref bool isZero, ref bool isBefore)
    {
        if (value == 0)
        {
            return pos;
        }

        if (!isZero)
        {
            destination[pos++] = (byte)' ';
        }

        if (isBefore && value > 0)
        {
            destination[pos++] = (byte)'+';
        }

        Utf8Formatter.TryFormat(value, destination[pos..], out int written);
        pos += written;
        destination[pos++] = (byte)' ';
        unit.CopyTo(destination[pos..]);
        pos += unit.Length;
        if (value != 1)
        {
            destination[pos++] = (byte)'s';
        }

        // Each nonzero field decides whether the next positive one carries an explicit '+'.
        isBefore = value < 0;
        isZero = false;
        return pos;
    }

    private static int WriteYearMonthDay(long year, int month, int day, Span<byte> destination, out bool bc)
    {
        bc = year <= 0;
        long shownYear = bc ? 1 - year : year;
        int pos = shownYear < 10000 ? WriteFourDigits((int)shownYear, destination) : WriteNumber(shownYear, destination);
        destination[pos++] = (byte)'-';
        pos += WriteTwoDigits(month, destination[pos..]);
        destination[pos++] = (byte)'-';
        pos += WriteTwoDigits(day, destination[pos..]);
        return pos;
    }

    /// <summary>".ffffff" with trailing zeros trimmed; nothing for zero.</summary>
    private static int WriteFraction(long micros, Span<byte> destination)
    {
        if (micros == 0)
        {
            return 0;
        }

        destination[0] = (byte)'.';
        int value = (int)micros;
        for (int i = 6; i >= 1; i--)
        {
            destination[i] = (byte)('0' + (value % 10));
            value /= 10;
        }

        int end = 7;
        while (destination[end - 1] == (byte)'0')
        {
            end--;
        }

        return end;
    }

    private static int WriteTwoDigits(int value, Span<byte> destination)
    {
        destination[0] = (byte)('0' + (value / 10));
        destination[1] = (byte)('0' + (value % 10));
        return 2;
    }

    private static int WriteFourDigits(int value, Span<byte> destination)
    {
        destination[0] = (byte)('0' + (value / 1000));
        destination[1] = (byte)('0' + (value / 100 % 10));
        destination[2] = (byte)('0' + (value / 10 % 10));
        destination[3] = (byte)('0' + (value % 10));
        return 4;
    }

    private static int WriteAtLeastTwoDigits(long value, Span<byte> destination) =>
        value < 100 ? WriteTwoDigits((int)value, destination) : WriteNumber(value, destination);

    private static int WriteNumber(long value, Span<byte> destination)
    {
        Utf8Formatter.TryFormat(value, destination, out int written);
        return written;
    }
}

using System.Globalization;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// Text input for date, time, timestamp, timestamptz and interval parameters. Accepts what drivers and
/// people send: ISO dates "2020-01-31" (optional " BC"), times "12:34[:56[.789]]", timestamps with ' '
/// or 'T' and an optional zone (Z, UTC, GMT, +05, +05:30, -0800), "infinity"/"-infinity"/"epoch", and
/// intervals in PostgreSQL's verbose form ("1 year 2 mons -3 days 04:05:06.5", "@ 1 hour ago",
/// "1.5 days"), SQL form ("1-2", "3 04:05:06") and ISO 8601 ("P1Y2M3DT4H5M6.5S"). Other PostgreSQL
/// spellings (month names, "today") are rejected with 22P02.
/// </summary>
internal static class PgDateTimeParser
{
    /// <summary>Days since 1970-01-01; int.MaxValue/int.MinValue for infinity/-infinity.</summary>
    public static bool TryParseDate(string text, out int days)
    {
        days = 0;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (TryParseSpecial(s, out int special))
        {
            days = special > 0 ? int.MaxValue : special < 0 ? int.MinValue : 0;
            return true;
        }

        int pos = 0;
        if (!TryParseDatePart(s, ref pos, out long year, out int month, out int day) || year == 0)
        {
            return false;
        }

        // A time part after a date is accepted and ignored, as date_in does.
        if (pos < s.Length && (s[pos] == 'T' || s[pos] == 't' || (s[pos] == ' ' && pos + 1 < s.Length && char.IsAsciiDigit(s[pos + 1]))))
        {
            pos++;
            if (!TryParseClock(s, ref pos, out _))
            {
                return false;
            }

            TryParseZone(s, ref pos, out _);
        }

        if (!TryParseEra(s, ref pos, ref year) || pos != s.Length || !IsValidDate(year, month, day))
        {
            return false;
        }

        long value = CivilCalendar.DaysFromCivil(year, month, day);
        if (value is <= int.MinValue or >= int.MaxValue)
        {
            return false;
        }

        days = (int)value;
        return true;
    }

    /// <summary>Microseconds since midnight, 00:00:00 to 24:00:00.</summary>
    public static bool TryParseTime(string text, out long micros)
    {
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        int pos = 0;
        if (!TryParseClock(s, ref pos, out micros))
        {
            return false;
        }

        // time ignores a zone, as time_in does.
        TryParseZone(s, ref pos, out _);
        return pos == s.Length && micros <= PgDateTimeFormat.MicrosPerDay;
    }

    /// <summary>
    /// Microseconds since 1970-01-01 (long.MaxValue/MinValue for infinity). With <paramref name="withZone"/>
    /// a given zone offset is applied (no zone means UTC, the session time zone); without it a zone is
    /// ignored, as timestamp_in does.
    /// </summary>
    public static bool TryParseTimestamp(string text, bool withZone, out long micros)
    {
        micros = 0;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (TryParseSpecial(s, out int special))
        {
            micros = special > 0 ? long.MaxValue : special < 0 ? long.MinValue : 0;
            return true;
        }

        int pos = 0;
        if (!TryParseDatePart(s, ref pos, out long year, out int month, out int day) || year == 0)
        {
            return false;
        }

        long timeOfDay = 0;
        if (pos < s.Length && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' '))
        {
            int save = pos;
            pos++;
            while (pos < s.Length && s[pos] == ' ')
            {
                pos++;
            }

            if (pos < s.Length && char.IsAsciiDigit(s[pos]))
            {
                if (!TryParseClock(s, ref pos, out timeOfDay) || timeOfDay > PgDateTimeFormat.MicrosPerDay)
                {
                    return false;
                }
            }
            else
            {
                pos = save;
            }
        }

        int offsetSeconds = 0;
        TryParseZone(s, ref pos, out offsetSeconds);
        if (!TryParseEra(s, ref pos, ref year) || pos != s.Length || !IsValidDate(year, month, day))
        {
            return false;
        }

        try
        {
            long days = CivilCalendar.DaysFromCivil(year, month, day);
            micros = checked((days * PgDateTimeFormat.MicrosPerDay) + timeOfDay);
            if (withZone)
            {
                micros = checked(micros - (offsetSeconds * PgDateTimeFormat.MicrosPerSecond));
            }
        }
        catch (OverflowException)
        {
            return false;
        }

        return micros is not long.MaxValue and not long.MinValue;
    }

    /// <summary>An interval in any of the supported spellings.</summary>
    public static bool TryParseInterval(string text, out int months, out int days, out long micros)
    {
        months = 0;
        days = 0;
        micros = 0;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (s.Length > 0 && s[0] == '@')
        {
            s = s[1..].TrimStart();
        }

        if (s.IsEmpty)
        {
            return false;
        }

        var total = default(IntervalAccumulator);
        bool ok = s[0] is 'P' or 'p' || (s.Length > 1 && s[0] == '-' && s[1] is 'P' or 'p')
            ? TryParseIso8601(s, ref total)
            : TryParseVerbose(s, ref total);
        return ok && total.TryGet(out months, out days, out micros);
    }

    private static bool TryParseVerbose(ReadOnlySpan<char> s, ref IntervalAccumulator total)
    {
        int pos = 0;
        bool ago = false;
        bool any = false;
        decimal? pendingDays = null;
        while (true)
        {
            while (pos < s.Length && s[pos] == ' ')
            {
                pos++;
            }

            if (pos >= s.Length)
            {
                break;
            }

            if (ago)
            {
                return false;
            }

            int wordStart = pos;
            while (pos < s.Length && char.IsAsciiLetter(s[pos]))
            {
                pos++;
            }

            if (pos > wordStart)
            {
                if (!s[wordStart..pos].Equals("ago", StringComparison.OrdinalIgnoreCase) || !any)
                {
                    return false;
                }

                ago = true;
                continue;
            }

            // A number, possibly a time (h:m[:s]) or SQL year-month (y-m).
            int numberStart = pos;
            if (pos < s.Length && s[pos] is '+' or '-')
            {
                pos++;
            }

            while (pos < s.Length && (char.IsAsciiDigit(s[pos]) || s[pos] == '.'))
            {
                pos++;
            }

            if (pos < s.Length && s[pos] == ':')
            {
                if (!TryParseSignedClock(s, numberStart, ref pos, out long clock))
                {
                    return false;
                }

                if (pendingDays is { } d)
                {
                    total.Add(d, IntervalUnit.Day);
                    pendingDays = null;
                }

                total.Micros += clock;
                any = true;
                continue;
            }

            if (pos < s.Length && s[pos] == '-' && pos > numberStart && char.IsAsciiDigit(s[pos - 1]))
            {
                // SQL standard year-month: "1-2".
                if (!decimal.TryParse(s[numberStart..pos], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out decimal years))
                {
                    return false;
                }

                pos++;
                int monthStart = pos;
                while (pos < s.Length && char.IsAsciiDigit(s[pos]))
                {
                    pos++;
                }

                if (pos == monthStart || !int.TryParse(s[monthStart..pos], NumberStyles.None, CultureInfo.InvariantCulture, out int mons))
                {
                    return false;
                }

                total.Add(years, IntervalUnit.Year);
                total.Add(years < 0 || s[numberStart] == '-' ? -mons : mons, IntervalUnit.Month);
                any = true;
                continue;
            }

            if (!decimal.TryParse(s[numberStart..pos], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number))
            {
                return false;
            }

            while (pos < s.Length && s[pos] == ' ')
            {
                pos++;
            }

            int unitStart = pos;
            while (pos < s.Length && char.IsAsciiLetter(s[pos]))
            {
                pos++;
            }

            // A bare number may only be followed by a time ("3 04:05:06") or end the input.
            if (pendingDays is not null)
            {
                return false;
            }

            ReadOnlySpan<char> unitText = s[unitStart..pos];
            if (unitText.IsEmpty || unitText.Equals("ago", StringComparison.OrdinalIgnoreCase))
            {
                // A bare number is seconds, or days when a time follows ("3 04:05:06").
                pos = unitStart;
                pendingDays = number;
                any = true;
                continue;
            }

            if (!TryParseUnit(unitText, out IntervalUnit unit, out decimal multiplier))
            {
                return false;
            }

            total.Add(number * multiplier, unit);
            any = true;
        }

        if (pendingDays is { } seconds)
        {
            total.Add(seconds, IntervalUnit.Second);
        }

        if (ago)
        {
            total.Negate();
        }

        return any;
    }

    private static bool TryParseIso8601(ReadOnlySpan<char> s, ref IntervalAccumulator total)
    {
        bool negateAll = false;
        if (s[0] == '-')
        {
            negateAll = true;
            s = s[1..];
        }

        int pos = 1;
        bool timePart = false;
        bool any = false;
        while (pos < s.Length)
        {
            if (s[pos] is 'T' or 't')
            {
                if (timePart)
                {
                    return false;
                }

                timePart = true;
                pos++;
                continue;
            }

            int start = pos;
            if (s[pos] is '+' or '-')
            {
                pos++;
            }

            while (pos < s.Length && (char.IsAsciiDigit(s[pos]) || s[pos] == '.'))
            {
                pos++;
            }

            if (pos >= s.Length || !decimal.TryParse(s[start..pos], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number))
            {
                return false;
            }

            IntervalUnit unit;
            switch (char.ToUpperInvariant(s[pos]))
            {
                case 'Y' when !timePart:
                    unit = IntervalUnit.Year;
                    break;
                case 'M':
                    unit = timePart ? IntervalUnit.Minute : IntervalUnit.Month;
                    break;
                case 'W' when !timePart:
                    unit = IntervalUnit.Week;
                    break;
                case 'D' when !timePart:
                    unit = IntervalUnit.Day;
                    break;
                case 'H' when timePart:
                    unit = IntervalUnit.Hour;
                    break;
                case 'S' when timePart:
                    unit = IntervalUnit.Second;
                    break;
                default:
                    return false;
            }

            total.Add(number, unit);
            any = true;
            pos++;
        }

        if (negateAll)
        {
            total.Negate();
        }

        return any;
    }

    private enum IntervalUnit
    {
        Year,
        Month,
        Week,
        Day,
        Hour,
        Minute,
        Second,
        Millisecond,
        Microsecond,
    }

    private static bool TryParseUnit(ReadOnlySpan<char> unit, out IntervalUnit value, out decimal multiplier)
    {
        multiplier = 1;
        string lower = unit.ToString().ToLowerInvariant();
        switch (lower)
        {
            case "y" or "yr" or "yrs" or "year" or "years":
                value = IntervalUnit.Year;
                return true;
            case "decade" or "decades" or "dec" or "decs":
                value = IntervalUnit.Year;
                multiplier = 10;
                return true;
            case "century" or "centuries" or "c" or "cent":
                value = IntervalUnit.Year;
                multiplier = 100;
                return true;
            case "millennium" or "millennia" or "mil" or "mils":
                value = IntervalUnit.Year;
                multiplier = 1000;
                return true;
            case "mon" or "mons" or "month" or "months":
                value = IntervalUnit.Month;
                return true;
            case "w" or "week" or "weeks":
                value = IntervalUnit.Week;
                return true;
            case "d" or "day" or "days":
                value = IntervalUnit.Day;
                return true;
            case "h" or "hr" or "hrs" or "hour" or "hours":
                value = IntervalUnit.Hour;
                return true;
            case "m" or "min" or "mins" or "minute" or "minutes":
                value = IntervalUnit.Minute;
                return true;
            case "s" or "sec" or "secs" or "second" or "seconds":
                value = IntervalUnit.Second;
                return true;
            case "ms" or "msec" or "msecs" or "millisecond" or "milliseconds":
                value = IntervalUnit.Millisecond;
                return true;
            case "us" or "usec" or "usecs" or "microsecond" or "microseconds":
                value = IntervalUnit.Microsecond;
                return true;
            default:
                value = default;
                return false;
        }
    }

    /// <summary>Sums interval parts with PostgreSQL's carry of fractions to smaller units.</summary>
    private struct IntervalAccumulator
    {
        public decimal Months;
        public decimal Days;
        public decimal Micros;

        public void Add(decimal value, IntervalUnit unit)
        {
            switch (unit)
            {
                case IntervalUnit.Year:
                    // Fractional years become whole months (rounded), as PostgreSQL does.
                    Months += decimal.Truncate(value) * 12;
                    Months += decimal.Round((value - decimal.Truncate(value)) * 12, MidpointRounding.AwayFromZero);
                    break;
                case IntervalUnit.Month:
                    Months += decimal.Truncate(value);
                    AddDays((value - decimal.Truncate(value)) * 30);
                    break;
                case IntervalUnit.Week:
                    AddDays(value * 7);
                    break;
                case IntervalUnit.Day:
                    AddDays(value);
                    break;
                case IntervalUnit.Hour:
                    Micros += value * PgDateTimeFormat.MicrosPerHour;
                    break;
                case IntervalUnit.Minute:
                    Micros += value * PgDateTimeFormat.MicrosPerMinute;
                    break;
                case IntervalUnit.Second:
                    Micros += value * PgDateTimeFormat.MicrosPerSecond;
                    break;
                case IntervalUnit.Millisecond:
                    Micros += value * 1000;
                    break;
                default:
                    Micros += value;
                    break;
            }
        }

        public void Negate()
        {
            Months = -Months;
            Days = -Days;
            Micros = -Micros;
        }

        public readonly bool TryGet(out int months, out int days, out long micros)
        {
            months = 0;
            days = 0;
            micros = 0;
            decimal roundedMicros = decimal.Round(Micros, MidpointRounding.AwayFromZero);
            if (Months is < int.MinValue or > int.MaxValue
                || Days is < int.MinValue or > int.MaxValue
                || roundedMicros is < long.MinValue or > long.MaxValue)
            {
                return false;
            }

            months = (int)Months;
            days = (int)Days;
            micros = (long)roundedMicros;
            return true;
        }

        private void AddDays(decimal value)
        {
            decimal whole = decimal.Truncate(value);
            Days += whole;
            Micros += (value - whole) * PgDateTimeFormat.MicrosPerDay;
        }
    }

    /// <summary>infinity / -infinity / epoch: sign +1, -1, or 0 for epoch.</summary>
    private static bool TryParseSpecial(ReadOnlySpan<char> s, out int sign)
    {
        sign = 0;
        if (s.Equals("infinity", StringComparison.OrdinalIgnoreCase) || s.Equals("+infinity", StringComparison.OrdinalIgnoreCase))
        {
            sign = 1;
            return true;
        }

        if (s.Equals("-infinity", StringComparison.OrdinalIgnoreCase))
        {
            sign = -1;
            return true;
        }

        return s.Equals("epoch", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Y..Y-M[M]-D[D] (year one or more digits).</summary>
    private static bool TryParseDatePart(ReadOnlySpan<char> s, ref int pos, out long year, out int month, out int day)
    {
        month = 0;
        day = 0;
        if (!TryReadDigits(s, ref pos, 1, 9, out year) || pos >= s.Length || s[pos] != '-')
        {
            return false;
        }

        pos++;
        if (!TryReadDigits(s, ref pos, 1, 2, out long m) || pos >= s.Length || s[pos] != '-')
        {
            return false;
        }

        pos++;
        if (!TryReadDigits(s, ref pos, 1, 2, out long d))
        {
            return false;
        }

        month = (int)m;
        day = (int)d;
        return true;
    }

    /// <summary>Optional " BC"/" AD" suffix; BC year N is astronomical year 1 - N.</summary>
    private static bool TryParseEra(ReadOnlySpan<char> s, ref int pos, ref long year)
    {
        int save = pos;
        while (pos < s.Length && s[pos] == ' ')
        {
            pos++;
        }

        if (pos + 2 <= s.Length && s.Slice(pos, 2).Equals("BC", StringComparison.OrdinalIgnoreCase))
        {
            pos += 2;
            if (year < 1)
            {
                return false;
            }

            year = 1 - year;
            return true;
        }

        if (pos + 2 <= s.Length && s.Slice(pos, 2).Equals("AD", StringComparison.OrdinalIgnoreCase))
        {
            pos += 2;
            return true;
        }

        pos = save;
        return true;
    }

    private static bool IsValidDate(long year, int month, int day) =>
        month is >= 1 and <= 12 && day >= 1 && day <= CivilCalendar.DaysInMonth(year, month);

    /// <summary>The "H:MM" head shared by <see cref="TryParseClock"/> and <see cref="TryParseClockLenient"/>.</summary>
    private static bool TryReadHoursMinutes(ReadOnlySpan<char> s, ref int pos, int maxHourDigits, int minMinuteDigits, out long hours, out long minutes)
    {
        minutes = 0;
        if (!TryReadDigits(s, ref pos, 1, maxHourDigits, out hours) || pos >= s.Length || s[pos] != ':')
        {
            return false;
        }

        pos++;
        return TryReadDigits(s, ref pos, minMinuteDigits, 2, out minutes) && minutes <= 59;
    }

    /// <summary>H[H]:MM[:SS[.fraction]] → microseconds (fraction rounded to microseconds).</summary>
    private static bool TryParseClock(ReadOnlySpan<char> s, ref int pos, out long micros)
    {
        micros = 0;
        if (!TryReadHoursMinutes(s, ref pos, maxHourDigits: 9, minMinuteDigits: 2, out long hours, out long minutes))
        {
            return false;
        }

        long seconds = 0;
        long fraction = 0;
        if (pos < s.Length && s[pos] == ':')
        {
            pos++;
            if (!TryReadDigits(s, ref pos, 2, 2, out seconds) || seconds > 60)
            {
                return false;
            }

            if (pos < s.Length && s[pos] == '.')
            {
                pos++;
                int start = pos;
                long scale = 100_000;
                while (pos < s.Length && char.IsAsciiDigit(s[pos]))
                {
                    int digit = s[pos] - '0';
                    if (scale >= 1)
                    {
                        fraction += digit * scale;
                    }
                    else if (scale == 0 && digit >= 5)
                    {
                        // Round at the seventh digit.
                        fraction++;
                    }

                    scale = scale >= 1 ? scale / 10 : -1;
                    pos++;
                }

                if (pos == start)
                {
                    return false;
                }
            }
        }

        try
        {
            micros = checked((hours * PgDateTimeFormat.MicrosPerHour) + (minutes * PgDateTimeFormat.MicrosPerMinute)
                + (seconds * PgDateTimeFormat.MicrosPerSecond) + fraction);
        }
        catch (OverflowException)
        {
            return false;
        }

        return true;
    }

    /// <summary>[+-]H:MM[:SS[.f]] inside an interval; the sign applies to the whole time.</summary>
    private static bool TryParseSignedClock(ReadOnlySpan<char> s, int start, ref int pos, out long micros)
    {
        micros = 0;
        bool negative = s[start] == '-';
        pos = s[start] is '+' or '-' ? start + 1 : start;
        int digitsStart = pos;
        while (pos < s.Length && char.IsAsciiDigit(s[pos]))
        {
            pos++;
        }

        if (pos == digitsStart || pos >= s.Length || s[pos] != ':')
        {
            return false;
        }

        pos = digitsStart;
        if (!TryParseClockLenient(s, ref pos, out micros))
        {
            return false;
        }

        if (negative)
        {
            micros = -micros;
        }

        return true;
    }

    /// <summary>Like <see cref="TryParseClock"/> but minutes and seconds may have one digit (interval input).</summary>
    private static bool TryParseClockLenient(ReadOnlySpan<char> s, ref int pos, out long micros)
    {
        micros = 0;
        if (!TryReadHoursMinutes(s, ref pos, maxHourDigits: 12, minMinuteDigits: 1, out long hours, out long minutes))
        {
            return false;
        }

        decimal seconds = 0;
        if (pos < s.Length && s[pos] == ':')
        {
            pos++;
            int start = pos;
            while (pos < s.Length && (char.IsAsciiDigit(s[pos]) || s[pos] == '.'))
            {
                pos++;
            }

            if (!decimal.TryParse(s[start..pos], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out seconds) || seconds >= 60)
            {
                return false;
            }
        }

        decimal total = (hours * (decimal)PgDateTimeFormat.MicrosPerHour) + (minutes * PgDateTimeFormat.MicrosPerMinute)
            + decimal.Round(seconds * PgDateTimeFormat.MicrosPerSecond, MidpointRounding.AwayFromZero);
        if (total > long.MaxValue)
        {
            return false;
        }

        micros = (long)total;
        return true;
    }

    /// <summary>Z, UTC, GMT, or [+-]HH[[:]MM[[:]SS]], optionally after spaces; returns seconds east of UTC.</summary>
    private static bool TryParseZone(ReadOnlySpan<char> s, ref int pos, out int offsetSeconds)
    {
        offsetSeconds = 0;
        int save = pos;
        while (pos < s.Length && s[pos] == ' ')
        {
            pos++;
        }

        if (pos < s.Length && s[pos] is 'Z' or 'z')
        {
            pos++;
            return true;
        }

        if (pos + 3 <= s.Length && (s.Slice(pos, 3).Equals("UTC", StringComparison.OrdinalIgnoreCase) || s.Slice(pos, 3).Equals("GMT", StringComparison.OrdinalIgnoreCase)))
        {
            pos += 3;
            return true;
        }

        if (pos < s.Length && s[pos] is '+' or '-')
        {
            int sign = s[pos] == '-' ? -1 : 1;
            pos++;
            if (!TryReadDigits(s, ref pos, 1, 2, out long hours))
            {
                pos = save;
                return false;
            }

            long minutes = 0;
            long seconds = 0;
            if (pos < s.Length && s[pos] == ':')
            {
                pos++;
            }

            if (pos + 2 <= s.Length && char.IsAsciiDigit(s[pos]))
            {
                TryReadDigits(s, ref pos, 2, 2, out minutes);
                if (pos < s.Length && s[pos] == ':')
                {
                    pos++;
                }

                if (pos + 2 <= s.Length && char.IsAsciiDigit(s[pos]))
                {
                    TryReadDigits(s, ref pos, 2, 2, out seconds);
                }
            }

            offsetSeconds = sign * (int)((hours * 3600) + (minutes * 60) + seconds);
            return true;
        }

        pos = save;
        return false;
    }

    private static bool TryReadDigits(ReadOnlySpan<char> s, ref int pos, int min, int max, out long value)
    {
        value = 0;
        int start = pos;
        while (pos < s.Length && pos - start < max && char.IsAsciiDigit(s[pos]))
        {
            value = (value * 10) + (s[pos] - '0');
            pos++;
        }

        return pos - start >= min;
    }
}

namespace LakeOps.Edge.Protocols;

/// <summary>
/// Proleptic Gregorian calendar arithmetic shared by the codecs and engine adapters: day numbers count from
/// 1970-01-01 (Arrow's epoch), years are astronomical (year 0 is 1 BC), far outside DateTime's range.
/// </summary>
public static class CivilCalendar
{
    /// <summary>Day number (days since 1970-01-01) of a civil date (Howard Hinnant's days_from_civil).</summary>
    public static long DaysFromCivil(long year, int month, int day)
    {
        year -= month <= 2 ? 1 : 0;
        long era = (year >= 0 ? year : year - 399) / 400;
        long yearOfEra = year - (era * 400);
        long dayOfYear = ((153 * (month > 2 ? month - 3 : month + 9)) + 2) / 5 + day - 1;
        long dayOfEra = (yearOfEra * 365) + (yearOfEra / 4) - (yearOfEra / 100) + dayOfYear;
        return (era * 146097) + dayOfEra - 719468;
    }

    /// <summary>Days in <paramref name="month"/> (1-12) of <paramref name="year"/>.</summary>
    public static int DaysInMonth(long year, int month) => month switch
    {
        2 => (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28,
        4 or 6 or 9 or 11 => 30,
        _ => 31,
    };
}

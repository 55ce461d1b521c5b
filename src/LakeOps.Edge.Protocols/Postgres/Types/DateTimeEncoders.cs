using System.Buffers.Binary;
using Apache.Arrow;
using Apache.Arrow.Scalars;
using Apache.Arrow.Types;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// date from Date32 (days) or Date64 (milliseconds). Binary is int32 days since 2000-01-01; the int32
/// extremes are PostgreSQL's -infinity/infinity and are kept as such.
/// </summary>
internal sealed class DateEncoder(bool milliseconds) : ValueEncoder(PgTypeCatalog.Date)
{
    private const long MillisPerDay = 86_400_000;

    private IArrowArray _array = null!;
    private Date32Array? _date32;
    private Date64Array? _date64;

    protected override void BindCore(IArrowArray array)
    {
        _array = array;
        _date32 = array as Date32Array;
        _date64 = array as Date64Array;
        if ((milliseconds ? (object?)_date64 : _date32) is null)
        {
            throw new ArgumentException($"expected an Arrow date array, got {array.GetType().Name}", nameof(array));
        }
    }

    public override bool IsNull(int index) => _array.IsNull(index);

    public override int MaxTextLength(int index) => PgDateTimeFormat.MaxDateLength;

    public override int WriteText(int index, Span<byte> destination)
    {
        long days = Days(index, out int infinity);
        return infinity != 0 ? WriteInfinity(infinity, destination) : PgDateTimeFormat.WriteDate(days, destination);
    }

    public override int MaxBinaryLength(int index) => 4;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        long days = Days(index, out int infinity);
        int pgDays = infinity > 0 ? int.MaxValue
            : infinity < 0 ? int.MinValue
            : ToInt32(days - PgDateTimeFormat.PgEpochDays, "date");
        BinaryPrimitives.WriteInt32BigEndian(destination, pgDays);
        return 4;
    }

    private long Days(int index, out int infinity)
    {
        if (milliseconds)
        {
            long ms = _date64!.Values[index];
            infinity = ms == long.MaxValue ? 1 : ms == long.MinValue ? -1 : 0;
            return PgDateTimeFormat.FloorDiv(ms, MillisPerDay);
        }

        int days = _date32!.Values[index];
        infinity = days == int.MaxValue ? 1 : days == int.MinValue ? -1 : 0;
        return days;
    }

    internal static int WriteInfinity(int sign, Span<byte> destination)
    {
        ReadOnlySpan<byte> text = sign > 0 ? "infinity"u8 : "-infinity"u8;
        text.CopyTo(destination);
        return text.Length;
    }

    internal static int ToInt32(long value, string typeName) =>
        value is >= int.MinValue and <= int.MaxValue
            ? (int)value
            : throw new PgEncodingException(PgSqlStates.DatetimeFieldOverflow, $"{typeName} out of range for PostgreSQL");
}

/// <summary>time from Time32 (s, ms) or Time64 (us, ns): microseconds since midnight.</summary>
internal sealed class TimeEncoder() : ValueEncoder(PgTypeCatalog.Time)
{
    private TimeUnit _unit;
    private IArrowArray _array = null!;
    private Time32Array? _time32;
    private Time64Array? _time64;

    protected override void BindCore(IArrowArray array)
    {
        _array = array;
        _time32 = array as Time32Array;
        _time64 = array as Time64Array;
        if (_time32 is null && _time64 is null)
        {
            throw new ArgumentException($"expected an Arrow time array, got {array.GetType().Name}", nameof(array));
        }

        // The unit comes from the array itself: Arrow C# builders can produce children whose unit
        // differs from the declared list element type.
        _unit = ((TimeType)array.Data.DataType).Unit;
    }

    public override bool IsNull(int index) => _array.IsNull(index);

    public override int MaxTextLength(int index) => PgDateTimeFormat.MaxTimeLength;

    public override int WriteText(int index, Span<byte> destination) => PgDateTimeFormat.WriteTime(Micros(index), destination);

    public override int MaxBinaryLength(int index) => 8;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64BigEndian(destination, Micros(index));
        return 8;
    }

    private long Micros(int index) => _unit switch
    {
        TimeUnit.Second => _time32!.Values[index] * PgDateTimeFormat.MicrosPerSecond,
        TimeUnit.Millisecond => _time32!.Values[index] * 1000L,
        TimeUnit.Microsecond => _time64!.Values[index],
        _ => _time64!.Values[index] / 1000,
    };
}

/// <summary>
/// timestamp / timestamptz from Arrow timestamps of any unit (ns truncated to us, rounding down so the
/// printed time never moves forward). Arrow values are UTC instants for zoned columns, printed with
/// TimeZone=UTC. The int64 extremes are kept as PostgreSQL's -infinity/infinity.
/// </summary>
internal sealed class TimestampEncoder(bool withZone, TimeZoneInfo? timeZone = null)
    : ValueEncoder<TimestampArray>(withZone ? PgTypeCatalog.TimestampTz : PgTypeCatalog.Timestamp)
{
    /// <summary>Session TimeZone for timestamptz text; null is UTC (binary is always a UTC instant).</summary>
    private readonly TimeZoneInfo? _zone = withZone && timeZone is not null && timeZone != TimeZoneInfo.Utc ? timeZone : null;

    private TimeUnit _unit;

    protected override void BindCore(IArrowArray array)
    {
        base.BindCore(array);

        // The unit comes from the array (see TimeEncoder); the zone decides the PostgreSQL type only.
        _unit = ((TimestampType)array.Data.DataType).Unit;
    }

    public override int MaxTextLength(int index) => PgDateTimeFormat.MaxTimestampLength;

    public override int WriteText(int index, Span<byte> destination)
    {
        long raw = Array.Values[index];
        if (raw is long.MaxValue or long.MinValue)
        {
            return DateEncoder.WriteInfinity(raw == long.MaxValue ? 1 : -1, destination);
        }

        long micros = ToUnixMicros(raw, _unit);
        return PgDateTimeFormat.WriteTimestamp(micros, withZone, destination, _zone is null ? 0 : OffsetSeconds(_zone, micros));
    }

    /// <summary>The zone's UTC offset at an instant (its base offset outside .NET's DateTime range).</summary>
    internal static int OffsetSeconds(TimeZoneInfo zone, long unixMicros)
    {
        const long MinMicros = -62_135_596_800_000_000; // 0001-01-01
        const long MaxMicros = 253_402_300_799_999_999; // 9999-12-31
        if (unixMicros is < MinMicros or > MaxMicros)
        {
            return (int)zone.BaseUtcOffset.TotalSeconds;
        }

        var instant = new DateTime(DateTime.UnixEpoch.Ticks + (unixMicros * 10), DateTimeKind.Utc);
        return (int)zone.GetUtcOffset(instant).TotalSeconds;
    }

    public override int MaxBinaryLength(int index) => 8;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        long raw = Array.Values[index];
        long pg = raw is long.MaxValue or long.MinValue
            ? raw
            : CheckedSubtract(ToUnixMicros(raw, _unit), PgDateTimeFormat.PgEpochMicros);
        BinaryPrimitives.WriteInt64BigEndian(destination, pg);
        return 8;
    }

    internal static long ToUnixMicros(long value, TimeUnit unit)
    {
        switch (unit)
        {
            case TimeUnit.Second:
                return Multiply(value, PgDateTimeFormat.MicrosPerSecond);
            case TimeUnit.Millisecond:
                return Multiply(value, 1000);
            case TimeUnit.Microsecond:
                return value;
            default:
                return PgDateTimeFormat.FloorDiv(value, 1000);
        }
    }

    private static long Multiply(long value, long factor)
    {
        long result = unchecked(value * factor);
        if (result / factor != value)
        {
            throw new PgEncodingException(PgSqlStates.DatetimeFieldOverflow, "timestamp out of range for PostgreSQL");
        }

        return result;
    }

    private static long CheckedSubtract(long value, long amount)
    {
        long result = unchecked(value - amount);
        if (value < 0 && result > 0)
        {
            throw new PgEncodingException(PgSqlStates.DatetimeFieldOverflow, "timestamp out of range for PostgreSQL");
        }

        return result;
    }
}

/// <summary>
/// interval from Arrow Interval (YearMonth, DayTime, MonthDayNano) or Duration (as a pure time span, like
/// PostgreSQL's result of timestamp - timestamp). Binary: int64 us, int32 days, int32 months.
/// </summary>
internal sealed class IntervalEncoder : ValueEncoder
{
    private enum Source : byte
    {
        YearMonth,
        DayTime,
        MonthDayNano,
        Duration,
    }

    private readonly Source _source;
    private TimeUnit _durationUnit;
    private IArrowArray _array = null!;
    private YearMonthIntervalArray? _yearMonth;
    private DayTimeIntervalArray? _dayTime;
    private MonthDayNanosecondIntervalArray? _monthDayNano;
    private DurationArray? _duration;

    public IntervalEncoder(IntervalUnit unit)
        : base(PgTypeCatalog.Interval)
    {
        _source = unit switch
        {
            IntervalUnit.YearMonth => Source.YearMonth,
            IntervalUnit.DayTime => Source.DayTime,
            _ => Source.MonthDayNano,
        };
    }

    /// <summary>For Arrow durations (the unit is read from each bound array).</summary>
    public IntervalEncoder()
        : base(PgTypeCatalog.Interval)
    {
        _source = Source.Duration;
    }

    protected override void BindCore(IArrowArray array)
    {
        _array = array;
        _yearMonth = array as YearMonthIntervalArray;
        _dayTime = array as DayTimeIntervalArray;
        _monthDayNano = array as MonthDayNanosecondIntervalArray;
        _duration = array as DurationArray;
        if (_yearMonth is null && _dayTime is null && _monthDayNano is null && _duration is null)
        {
            throw new ArgumentException($"expected an Arrow interval or duration array, got {array.GetType().Name}", nameof(array));
        }

        if (_duration is not null)
        {
            _durationUnit = ((DurationType)array.Data.DataType).Unit;
        }
    }

    public override bool IsNull(int index) => _array.IsNull(index);

    public override int MaxTextLength(int index) => PgDateTimeFormat.MaxIntervalLength;

    public override int WriteText(int index, Span<byte> destination)
    {
        Read(index, out int months, out int days, out long micros);
        return PgDateTimeFormat.WriteInterval(months, days, micros, destination);
    }

    public override int MaxBinaryLength(int index) => 16;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        Read(index, out int months, out int days, out long micros);
        BinaryPrimitives.WriteInt64BigEndian(destination, micros);
        BinaryPrimitives.WriteInt32BigEndian(destination[8..], days);
        BinaryPrimitives.WriteInt32BigEndian(destination[12..], months);
        return 16;
    }

    private void Read(int index, out int months, out int days, out long micros)
    {
        switch (_source)
        {
            case Source.YearMonth:
                months = _yearMonth!.Values[index].Months;
                days = 0;
                micros = 0;
                break;
            case Source.DayTime:
                DayTimeInterval dayTime = _dayTime!.Values[index];
                months = 0;
                days = dayTime.Days;
                micros = dayTime.Milliseconds * 1000L;
                break;
            case Source.MonthDayNano:
                MonthDayNanosecondInterval value = _monthDayNano!.Values[index];
                months = value.Months;
                days = value.Days;
                micros = value.Nanoseconds / 1000;
                break;
            default:
                long raw = _duration!.Values[index];
                months = 0;
                days = 0;
                micros = _durationUnit switch
                {
                    TimeUnit.Second => Multiply(raw, PgDateTimeFormat.MicrosPerSecond),
                    TimeUnit.Millisecond => Multiply(raw, 1000),
                    TimeUnit.Microsecond => raw,

                    // Truncated toward zero so the sign applies to the whole time part.
                    _ => raw / 1000,
                };
                break;
        }
    }

    private static long Multiply(long value, long factor)
    {
        long result = unchecked(value * factor);
        return result / factor == value
            ? result
            : throw new PgEncodingException(PgSqlStates.DatetimeFieldOverflow, "interval out of range for PostgreSQL");
    }
}

using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Protocols.Postgres.Types;

namespace LakeOps.Edge.Protocols.MySql.Types;

/// <summary>DATE from Date32 (days) or Date64 (milliseconds): "YYYY-MM-DD"; binary MYSQL_TIME of length 4.</summary>
internal sealed class MySqlDateEncoder : MySqlValueEncoder
{
    private IArrowArray _array = null!;

    public override void Bind(IArrowArray array) => _array = array is ExtensionArray extension ? extension.Storage : array;

    public override bool IsNull(int index) => _array.IsNull(index);

    private long Days(int index) => _array switch
    {
        Date32Array days => days.Values[index],
        Date64Array millis => PgDateTimeFormat.FloorDiv(millis.Values[index], 86_400_000),
        _ => throw new InvalidOperationException("unexpected date array"),
    };

    public override int MaxTextLength(int index) => MySqlDateTimeFormat.MaxDateLength;

    public override int WriteText(int index, Span<byte> destination)
    {
        PgDateTimeFormat.CivilFromDays(Days(index), out long year, out int month, out int day);
        return MySqlDateTimeFormat.WriteDate(year, month, day, destination);
    }

    public override int MaxBinaryLength(int index) => 12;

    public override int WriteBinary(int index, Span<byte> destination) =>
        MySqlDateTimeFormat.WriteBinaryDateTime(Days(index) * PgDateTimeFormat.MicrosPerDay, dateOnly: true, destination);
}

/// <summary>TIME from Time32/Time64: "HH:MM:SS[.ffffff]"; binary TIME of length 0, 8 or 12.</summary>
internal sealed class MySqlTimeEncoder : MySqlValueEncoder
{
    private IArrowArray _array = null!;
    private long _toMicros;
    private long _fromNanos;

    public override void Bind(IArrowArray array)
    {
        _array = array is ExtensionArray extension ? extension.Storage : array;
        TimeUnit unit = _array.Data.DataType switch
        {
            Time32Type t32 => t32.Unit,
            Time64Type t64 => t64.Unit,
            _ => throw new ArgumentException("expected a time array", nameof(array)),
        };
        (_toMicros, _fromNanos) = unit switch
        {
            TimeUnit.Second => (1_000_000L, 1L),
            TimeUnit.Millisecond => (1_000L, 1L),
            TimeUnit.Microsecond => (1L, 1L),
            _ => (1L, 1_000L),
        };
    }

    public override bool IsNull(int index) => _array.IsNull(index);

    private long Micros(int index) => _array switch
    {
        Time32Array t32 => t32.Values[index] * _toMicros,
        Time64Array t64 => t64.Values[index] * _toMicros / _fromNanos,
        _ => throw new InvalidOperationException("unexpected time array"),
    };

    public override int MaxTextLength(int index) => MySqlDateTimeFormat.MaxTimeLength;

    public override int WriteText(int index, Span<byte> destination) => MySqlDateTimeFormat.WriteClock(Micros(index), destination);

    public override int MaxBinaryLength(int index) => 13;

    public override int WriteBinary(int index, Span<byte> destination) => MySqlDateTimeFormat.WriteBinaryTime(Micros(index), destination);
}

/// <summary>
/// DATETIME (no zone) or TIMESTAMP (with zone, shown in UTC, the engine session's zone) from Timestamp arrays:
/// "YYYY-MM-DD HH:MM:SS[.ffffff]"; binary MYSQL_TIME of length 4, 7 or 11. Nanoseconds are truncated to microseconds.
/// </summary>
internal sealed class MySqlTimestampEncoder : MySqlValueEncoder<TimestampArray>
{
    private long _toMicros = 1;
    private long _fromNanos = 1;

    public override void Bind(IArrowArray array)
    {
        base.Bind(array);
        (_toMicros, _fromNanos) = ((TimestampType)Array.Data.DataType).Unit switch
        {
            TimeUnit.Second => (1_000_000L, 1L),
            TimeUnit.Millisecond => (1_000L, 1L),
            TimeUnit.Microsecond => (1L, 1L),
            _ => (1L, 1_000L),
        };
    }

    private long Micros(int index)
    {
        long raw = Array.Values[index];
        return _fromNanos == 1 ? raw * _toMicros : PgDateTimeFormat.FloorDiv(raw, _fromNanos);
    }

    public override int MaxTextLength(int index) => MySqlDateTimeFormat.MaxDateTimeLength;

    public override int WriteText(int index, Span<byte> destination)
    {
        long micros = Micros(index);
        long days = PgDateTimeFormat.FloorDiv(micros, PgDateTimeFormat.MicrosPerDay);
        PgDateTimeFormat.CivilFromDays(days, out long year, out int month, out int day);
        int pos = MySqlDateTimeFormat.WriteDate(year, month, day, destination);
        destination[pos++] = (byte)' ';
        return pos + MySqlDateTimeFormat.WriteClock(micros - (days * PgDateTimeFormat.MicrosPerDay), destination[pos..]);
    }

    public override int MaxBinaryLength(int index) => 12;

    public override int WriteBinary(int index, Span<byte> destination) =>
        MySqlDateTimeFormat.WriteBinaryDateTime(Micros(index), dateOnly: false, destination);
}

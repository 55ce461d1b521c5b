using System.Buffers.Text;
using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Trino;

namespace LakeOps.Edge.Engines.Trino;

/// <summary>
/// One column of a record batch, filled from the JSON values of Trino pages (Trino's client value encoding:
/// numbers as JSON numbers, decimals/dates/times/intervals as strings, varbinary as base64, nested values
/// as JSON arrays/objects). See <see cref="FieldFor"/> for the Arrow type of each Trino type.
/// </summary>
internal sealed class TrinoColumnBuilder : ArrowColumnBuilder
{
    private readonly TrinoType _type;
    private readonly Field _field;
    private readonly int _scale;
    private byte[] _zoneName = [];
    private TimeZoneInfo? _zone;

    public TrinoColumnBuilder(Field field, TrinoType type)
        : base(field, FixedWidth(type.Kind), bitValues: type.Kind == TrinoTypeKind.Boolean)
    {
        _type = type;
        _field = field;
        _scale = type.Kind == TrinoTypeKind.Decimal ? type.Scale : 0;
    }

    /// <summary>
    /// The Arrow field of a Trino column. Types Arrow (or the front doors) cannot carry exactly travel as text:
    /// time with time zone, array/map/row (as their JSON text, marked json), and unknown types.
    /// Fractional seconds beyond microseconds (time(p)/timestamp(p) with p &gt; 6) are truncated.
    /// </summary>
    public static Field FieldFor(string name, TrinoType type)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(type);
        IArrowType arrow = type.Kind switch
        {
            TrinoTypeKind.Boolean => BooleanType.Default,
            TrinoTypeKind.TinyInt => Int8Type.Default,
            TrinoTypeKind.SmallInt => Int16Type.Default,
            TrinoTypeKind.Integer => Int32Type.Default,
            TrinoTypeKind.BigInt => Int64Type.Default,
            TrinoTypeKind.Real => FloatType.Default,
            TrinoTypeKind.Double => DoubleType.Default,
            TrinoTypeKind.Decimal => new Decimal128Type(Math.Clamp(type.Precision, 1, 38), Math.Clamp(type.Scale, 0, 38)),
            TrinoTypeKind.Varbinary => BinaryType.Default,
            TrinoTypeKind.Date => Date32Type.Default,
            TrinoTypeKind.Time => new Time64Type(TimeUnit.Microsecond),
            TrinoTypeKind.Timestamp => new TimestampType(TimeUnit.Microsecond, (string?)null),
            TrinoTypeKind.TimestampWithTimeZone => new TimestampType(TimeUnit.Microsecond, "UTC"),
            TrinoTypeKind.IntervalDayToSecond or TrinoTypeKind.IntervalYearToMonth => new IntervalType(IntervalUnit.MonthDayNanosecond),
            _ => StringType.Default,
        };

        var metadata = new Dictionary<string, string>(2) { [ArrowConventions.EngineTypeKey] = type.Name };
        if (type.Kind is TrinoTypeKind.Json or TrinoTypeKind.Array or TrinoTypeKind.Map or TrinoTypeKind.Row)
        {
            metadata[ArrowConventions.ExtensionNameKey] = ArrowConventions.JsonExtension;
        }
        else if (type.Kind == TrinoTypeKind.Uuid)
        {
            metadata[ArrowConventions.ExtensionNameKey] = ArrowConventions.UuidExtension;
        }

        return new Field(name, arrow, nullable: true, metadata);
    }

    public void Append(TrinoJsonValueKind kind, ReadOnlySpan<byte> value)
    {
        if (kind == TrinoJsonValueKind.Null)
        {
            AppendNull();
            return;
        }

        switch (_type.Kind)
        {
            case TrinoTypeKind.Boolean:
                SetValidity(true);
                if (kind == TrinoJsonValueKind.True || (kind == TrinoJsonValueKind.String && value.SequenceEqual("true"u8)))
                {
                    _values[_length >> 3] |= (byte)(1 << (_length & 7));
                }
                else if (kind != TrinoJsonValueKind.False && !(kind == TrinoJsonValueKind.String && value.SequenceEqual("false"u8)))
                {
                    throw Invalid(value);
                }

                _length++;
                return;
            case TrinoTypeKind.TinyInt:
                WriteFixed((sbyte)Integer(value, sbyte.MinValue, sbyte.MaxValue));
                break;
            case TrinoTypeKind.SmallInt:
                WriteFixed((short)Integer(value, short.MinValue, short.MaxValue));
                break;
            case TrinoTypeKind.Integer:
                WriteFixed((int)Integer(value, int.MinValue, int.MaxValue));
                break;
            case TrinoTypeKind.BigInt:
                WriteFixed(Integer(value, long.MinValue, long.MaxValue));
                break;
            case TrinoTypeKind.Real:
                WriteFixed((float)Floating(value));
                break;
            case TrinoTypeKind.Double:
                WriteFixed(Floating(value));
                break;
            case TrinoTypeKind.Decimal:
                WriteFixed(DecimalText.TryParse(value, _scale, out Int128 unscaled) ? unscaled : throw Invalid(value));
                break;
            case TrinoTypeKind.Varbinary:
                AppendBase64(value);
                return;
            case TrinoTypeKind.Date:
                WriteFixed(TrinoValueText.TryParseDate(value, out int days, out _) ? days : throw Invalid(value));
                break;
            case TrinoTypeKind.Time:
                WriteFixed(TrinoValueText.TryParseTime(value, out long micros, out _) ? micros : throw Invalid(value));
                break;
            case TrinoTypeKind.Timestamp:
                WriteFixed(TrinoValueText.TryParseTimestamp(value, out long local, out _) ? local : throw Invalid(value));
                break;
            case TrinoTypeKind.TimestampWithTimeZone:
                WriteFixed(TimestampWithZone(value));
                break;
            case TrinoTypeKind.IntervalDayToSecond:
                if (!TrinoValueText.TryParseDayToSecond(value, out int intervalDays, out long nanos))
                {
                    throw Invalid(value);
                }

                WriteFixed(0);
                WriteFixed(intervalDays);
                WriteFixed(nanos);
                break;
            case TrinoTypeKind.IntervalYearToMonth:
                WriteFixed(TrinoValueText.TryParseYearToMonth(value, out int months) ? months : throw Invalid(value));
                WriteFixed(0);
                WriteFixed(0L);
                break;
            default:
                // Text of every other type: strings as they are, nested values as their JSON, numbers/booleans as written.
                AppendBytes(kind switch
                {
                    TrinoJsonValueKind.True => "true"u8,
                    TrinoJsonValueKind.False => "false"u8,
                    _ => value,
                });
                return;
        }

        SetValidity(true);
        _length++;
    }

    public void AppendNull()
    {
        if (_type.Kind == TrinoTypeKind.Boolean)
        {
            SetValidity(false);
            _length++;
            return;
        }

        AppendNullValue();
    }

    public override ArrayData BuildData() => _type.Kind == TrinoTypeKind.Boolean ? BuildBitData() : BuildValueData();

    private static int FixedWidth(TrinoTypeKind kind) => kind switch
    {
        TrinoTypeKind.TinyInt => 1,
        TrinoTypeKind.SmallInt => 2,
        TrinoTypeKind.Integer or TrinoTypeKind.Real or TrinoTypeKind.Date => 4,
        TrinoTypeKind.BigInt or TrinoTypeKind.Double or TrinoTypeKind.Time or TrinoTypeKind.Timestamp
            or TrinoTypeKind.TimestampWithTimeZone => 8,
        TrinoTypeKind.Decimal or TrinoTypeKind.IntervalDayToSecond or TrinoTypeKind.IntervalYearToMonth => 16,
        TrinoTypeKind.Boolean => 0,
        _ => 0,
    };

    private long Integer(ReadOnlySpan<byte> text, long min, long max) =>
        Utf8Parser.TryParse(text, out long value, out int used) && used == text.Length && value >= min && value <= max ? value : throw Invalid(text);

    private double Floating(ReadOnlySpan<byte> text)
    {
        // Trino writes NaN and the infinities as JSON strings.
        if (text.SequenceEqual("NaN"u8))
        {
            return double.NaN;
        }

        if (text.SequenceEqual("Infinity"u8))
        {
            return double.PositiveInfinity;
        }

        if (text.SequenceEqual("-Infinity"u8))
        {
            return double.NegativeInfinity;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value : throw Invalid(text);
    }

    private long TimestampWithZone(ReadOnlySpan<byte> text)
    {
        if (!TrinoValueText.TryParseTimestamp(text, out long local, out int used) || used >= text.Length || text[used] != (byte)' ')
        {
            throw Invalid(text);
        }

        ReadOnlySpan<byte> zone = text[(used + 1)..];
        if (TrinoValueText.TryParseOffset(zone, out int offsetSeconds))
        {
            return local - (offsetSeconds * 1_000_000L);
        }

        TimeZoneInfo tz = Zone(zone, text);
        long ticks = (local * 10) + DateTime.UnixEpoch.Ticks;
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
        {
            throw Invalid(text);
        }

        TimeSpan offset = tz.GetUtcOffset(new DateTime(ticks, DateTimeKind.Unspecified));
        return local - (offset.Ticks / 10);
    }

    private TimeZoneInfo Zone(ReadOnlySpan<byte> name, ReadOnlySpan<byte> text)
    {
        // Rows of one column usually share a zone: look it up only when it changes.
        if (_zone is not null && name.SequenceEqual(_zoneName))
        {
            return _zone;
        }

        string id = System.Text.Encoding.UTF8.GetString(name);
        try
        {
            _zone = TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw Invalid(text);
        }

        _zoneName = name.ToArray();
        return _zone;
    }

    private void AppendBase64(ReadOnlySpan<byte> text)
    {
        SetValidity(true);
        int max = Base64.GetMaxDecodedFromUtf8Length(text.Length);
        EnsureValues(max);
        if (Base64.DecodeFromUtf8(text, _values.AsSpan(_valueBytes, max), out _, out int written) != System.Buffers.OperationStatus.Done)
        {
            throw Invalid(text);
        }

        _valueBytes += written;
        WriteOffset(_valueBytes);
        _length++;
    }

    private EngineException Invalid(ReadOnlySpan<byte> text) => new(
        $"column \"{_field.Name}\": '{System.Text.Encoding.UTF8.GetString(text[..Math.Min(text.Length, 64)])}' is not a valid {_type.Name} value from Trino",
        SqlStates.InvalidTextRepresentation);
}

using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Apache.Arrow;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.Engines.MySql;

/// <summary>
/// Accumulates one column of a record batch straight into Arrow's memory layout from MySQL values, in
/// the text protocol (every value a string) or the binary protocol (fixed-width numbers and packed
/// dates). Arrays are reused from batch to batch (a batch is valid until the next read), so steady-state
/// decoding allocates only when a column grows.
/// </summary>
internal sealed class MySqlColumnBuilder : ArrowColumnBuilder
{
    private const long MicrosPerSecond = 1_000_000;
    private const long MicrosPerDay = 86_400 * MicrosPerSecond;
    private const int UnixEpochDayNumber = 719_162;

    private readonly MySqlColumnSpec _spec;

    public MySqlColumnBuilder(MySqlColumnSpec spec)
        : base(spec.Field, FixedWidth(spec.Kind))
    {
        _spec = spec;
    }

    /// <summary>Value bytes held (for batch sizing).</summary>
    public int ValueBytes => _valueBytes;

    public void AppendNull() => AppendNullValue();

    public void AppendText(ReadOnlySpan<byte> text)
    {
        switch (_spec.Kind)
        {
            case MySqlValueKind.Int8:
                WriteFixed((sbyte)ParseInteger(text, sbyte.MinValue, sbyte.MaxValue));
                break;
            case MySqlValueKind.UInt8:
                WriteFixed((byte)ParseUnsigned(text, byte.MaxValue));
                break;
            case MySqlValueKind.Int16:
                WriteFixed((short)ParseInteger(text, short.MinValue, short.MaxValue));
                break;
            case MySqlValueKind.UInt16:
                WriteFixed((ushort)ParseUnsigned(text, ushort.MaxValue));
                break;
            case MySqlValueKind.Int32:
                WriteFixed((int)ParseInteger(text, int.MinValue, int.MaxValue));
                break;
            case MySqlValueKind.UInt32:
                WriteFixed((uint)ParseUnsigned(text, uint.MaxValue));
                break;
            case MySqlValueKind.Int64:
                WriteFixed(ParseInteger(text, long.MinValue, long.MaxValue));
                break;
            case MySqlValueKind.UInt64:
                WriteFixed(ParseUnsigned(text, ulong.MaxValue));
                break;
            case MySqlValueKind.Float32:
                WriteFixed(float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) ? f : throw Invalid(text));
                break;
            case MySqlValueKind.Float64:
                WriteFixed(double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : throw Invalid(text));
                break;
            case MySqlValueKind.Decimal:
                AppendDecimal(text);
                return;
            case MySqlValueKind.Utf8:
            case MySqlValueKind.Binary:
                AppendBytes(text);
                return;
            case MySqlValueKind.Bit:
                WriteFixed(BigEndianBits(text));
                break;
            case MySqlValueKind.Date:
                if (!TryParseDate(text, out int days))
                {
                    AppendZeroDate(text);
                    return;
                }

                WriteFixed(days);
                break;
            case MySqlValueKind.Timestamp:
                if (!TryParseDateTime(text, out long micros))
                {
                    AppendZeroDate(text);
                    return;
                }

                WriteFixed(micros);
                break;
            case MySqlValueKind.Time:
                WriteFixed(TimeOfDay(ParseTime(text)));
                break;
        }

        CommitValid();
    }

    /// <summary>Appends a value of the binary protocol, reading it from <paramref name="reader"/>.</summary>
    public void AppendBinary(ref MySqlPayloadReader reader)
    {
        switch (_spec.Type)
        {
            case MySqlColumnType.Tiny:
                byte tiny = reader.ReadByte("TINY");
                if (_spec.Kind == MySqlValueKind.UInt8)
                {
                    WriteFixed(tiny);
                }
                else
                {
                    WriteFixed((sbyte)tiny);
                }

                break;
            case MySqlColumnType.Short:
            case MySqlColumnType.Year:
                WriteFixed(reader.ReadUInt16("SHORT"));
                break;
            case MySqlColumnType.Long:
            case MySqlColumnType.Int24:
                WriteFixed(reader.ReadUInt32("LONG"));
                break;
            case MySqlColumnType.LongLong:
                WriteFixed(reader.ReadUInt64("LONGLONG"));
                break;
            case MySqlColumnType.Float:
                WriteFixed(reader.ReadUInt32("FLOAT"));
                break;
            case MySqlColumnType.Double:
                WriteFixed(reader.ReadUInt64("DOUBLE"));
                break;
            case MySqlColumnType.Date:
            case MySqlColumnType.NewDate:
            case MySqlColumnType.DateTime:
            case MySqlColumnType.DateTime2:
            case MySqlColumnType.Timestamp:
            case MySqlColumnType.Timestamp2:
                if (!TryReadBinaryDateTime(ref reader, out long value))
                {
                    AppendNull();
                    return;
                }

                if (_spec.Kind == MySqlValueKind.Date)
                {
                    WriteFixed((int)(value / MicrosPerDay));
                }
                else
                {
                    WriteFixed(value);
                }

                break;
            case MySqlColumnType.Time:
            case MySqlColumnType.Time2:
                WriteFixed(TimeOfDay(ReadBinaryTime(ref reader)));
                break;
            default:
                // Everything else travels as a length-encoded string, as in the text protocol.
                AppendText(reader.ReadLengthEncodedBytes("value"));
                return;
        }

        CommitValid();
    }

    public override ArrayData BuildData() => BuildValueData();

    private static int FixedWidth(MySqlValueKind kind) => kind switch
    {
        MySqlValueKind.Int8 or MySqlValueKind.UInt8 => 1,
        MySqlValueKind.Int16 or MySqlValueKind.UInt16 => 2,
        MySqlValueKind.Int32 or MySqlValueKind.UInt32 or MySqlValueKind.Float32 or MySqlValueKind.Date => 4,
        MySqlValueKind.Int64 or MySqlValueKind.UInt64 or MySqlValueKind.Float64 or MySqlValueKind.Timestamp or MySqlValueKind.Time or MySqlValueKind.Bit => 8,
        MySqlValueKind.Decimal => 16,
        _ => 0,
    };

    private void AppendZeroDate(ReadOnlySpan<byte> text)
    {
        // '0000-00-00' and dates with a zero month or day have no calendar equivalent: they read as NULL.
        if (text.Length >= 10 && (text.StartsWith("0000-00-00"u8) || text[5..7].SequenceEqual("00"u8) || text[8..10].SequenceEqual("00"u8)))
        {
            AppendNull();
            return;
        }

        throw Invalid(text);
    }

    private void AppendDecimal(ReadOnlySpan<byte> text)
    {
        if (!DecimalText.TryParse(text, _spec.Scale, out Int128 unscaled))
        {
            throw new EngineException(
                $"decimal value {Encoding.UTF8.GetString(text)} of column \"{_spec.Field.Name}\" does not fit {_spec.Field.DataType.Name}",
                SqlStates.NumericValueOutOfRange);
        }

        EnsureValues(16);
        BinaryPrimitives.WriteInt128LittleEndian(_values.AsSpan(_valueBytes), unscaled);
        _valueBytes += 16;
        CommitValid();
    }

    private long ParseInteger(ReadOnlySpan<byte> text, long min, long max)
    {
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) || value < min || value > max)
        {
            throw Invalid(text);
        }

        return value;
    }

    private ulong ParseUnsigned(ReadOnlySpan<byte> text, ulong max)
    {
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value) || value > max)
        {
            throw Invalid(text);
        }

        return value;
    }

    private long BigEndianBits(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 8)
        {
            throw Invalid(bytes);
        }

        long value = 0;
        foreach (byte b in bytes)
        {
            value = (value << 8) | b;
        }

        return value;
    }

    /// <summary>YYYY-MM-DD as days since 1970-01-01; false for zero or malformed dates.</summary>
    internal static bool TryParseDate(ReadOnlySpan<byte> text, out int days)
    {
        days = 0;
        if (text.Length < 10 || text[4] != '-' || text[7] != '-'
            || !TryDigits(text[..4], out int year) || !TryDigits(text.Slice(5, 2), out int month) || !TryDigits(text.Slice(8, 2), out int day)
            || year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        days = new DateOnly(year, month, day).DayNumber - UnixEpochDayNumber;
        return true;
    }

    /// <summary>YYYY-MM-DD[ HH:MM:SS[.ffffff]] as microseconds since 1970-01-01 00:00:00; false for zero or malformed values.</summary>
    internal static bool TryParseDateTime(ReadOnlySpan<byte> text, out long micros)
    {
        micros = 0;
        if (!TryParseDate(text, out int days))
        {
            return false;
        }

        micros = days * MicrosPerDay;
        if (text.Length == 10)
        {
            return true;
        }

        if (text.Length < 19 || (text[10] != ' ' && text[10] != 'T'))
        {
            return false;
        }

        if (!TryParseClock(text[11..], out long time) || time >= MicrosPerDay)
        {
            return false;
        }

        micros += time;
        return true;
    }

    /// <summary>[-]H+:MM:SS[.ffffff] as signed microseconds.</summary>
    private long ParseTime(ReadOnlySpan<byte> text)
    {
        bool negative = text.Length > 0 && text[0] == '-';
        if (!TryParseClock(negative ? text[1..] : text, out long micros))
        {
            throw Invalid(text);
        }

        return negative ? -micros : micros;
    }

    private static bool TryParseClock(ReadOnlySpan<byte> text, out long micros)
    {
        micros = 0;
        int colon = text.IndexOf((byte)':');
        if (colon < 1 || text.Length < colon + 6 || text[colon + 3] != ':'
            || !TryDigits(text[..colon], out int hours) || !TryDigits(text.Slice(colon + 1, 2), out int minutes) || !TryDigits(text.Slice(colon + 4, 2), out int seconds)
            || minutes > 59 || seconds > 59)
        {
            return false;
        }

        long fraction = 0;
        ReadOnlySpan<byte> rest = text[(colon + 6)..];
        if (!rest.IsEmpty)
        {
            if (rest[0] != '.' || rest.Length > 7 || !TryDigits(rest[1..], out int digits))
            {
                return false;
            }

            fraction = digits;
            for (int i = rest.Length - 1; i < 6; i++)
            {
                fraction *= 10;
            }
        }

        micros = (((hours * 60L) + minutes) * 60 + seconds) * MicrosPerSecond + fraction;
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> text, out int value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 9)
        {
            return false;
        }

        foreach (byte c in text)
        {
            if (c is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }

    /// <summary>Binary DATE/DATETIME/TIMESTAMP: microseconds since the epoch; false for zero dates.</summary>
    private bool TryReadBinaryDateTime(ref MySqlPayloadReader reader, out long micros)
    {
        micros = 0;
        int length = reader.ReadByte("date length");
        if (length == 0)
        {
            return false; // '0000-00-00 00:00:00'
        }

        if (length is not (4 or 7 or 11))
        {
            throw Invalid([]);
        }

        int year = reader.ReadUInt16("year");
        int month = reader.ReadByte("month");
        int day = reader.ReadByte("day");
        int hour = 0, minute = 0, second = 0;
        uint fraction = 0;
        if (length >= 7)
        {
            hour = reader.ReadByte("hour");
            minute = reader.ReadByte("minute");
            second = reader.ReadByte("second");
        }

        if (length == 11)
        {
            fraction = reader.ReadUInt32("microsecond");
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        long days = new DateOnly(year, month, day).DayNumber - UnixEpochDayNumber;
        micros = (days * MicrosPerDay) + ((((hour * 60L) + minute) * 60 + second) * MicrosPerSecond) + fraction;
        return true;
    }

    private static long ReadBinaryTime(ref MySqlPayloadReader reader)
    {
        int length = reader.ReadByte("time length");
        if (length == 0)
        {
            return 0;
        }

        bool negative = reader.ReadByte("is_negative") != 0;
        long days = reader.ReadUInt32("days");
        long hours = reader.ReadByte("hour");
        long minutes = reader.ReadByte("minute");
        long seconds = reader.ReadByte("second");
        long fraction = length >= 12 ? reader.ReadUInt32("microsecond") : 0;
        long micros = (((((days * 24) + hours) * 60) + minutes) * 60 + seconds) * MicrosPerSecond + fraction;
        return negative ? -micros : micros;
    }

    private long TimeOfDay(long micros)
    {
        if (micros is < 0 or >= MicrosPerDay)
        {
            throw new EngineException(
                string.Create(CultureInfo.InvariantCulture, $"TIME value {micros / 3_600_000_000.0:0.######} hours of column \"{_spec.Field.Name}\" is outside 00:00:00..23:59:59.999999, the range of Arrow's time of day; CAST it AS CHAR to read it"),
                "22008");
        }

        return micros;
    }

    private EngineException Invalid(ReadOnlySpan<byte> text) =>
        new($"cannot read value '{Encoding.UTF8.GetString(text)}' of column \"{_spec.Field.Name}\" as {_spec.Field.DataType.Name}", SqlStates.InvalidTextRepresentation);

    /// <summary>Marks the fixed-width value just written as valid and counts the row.</summary>
    private void CommitValid()
    {
        SetValidity(true);
        _length++;
    }
}

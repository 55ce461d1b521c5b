using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using Apache.Arrow.Scalars;
using Apache.Arrow.Types;
using LakeOps.Edge.Protocols.Postgres.Types;

namespace LakeOps.Edge.Protocols.Trino;

/// <summary>
/// Writes one Arrow value in Trino's JSON value encoding: booleans and integers (up to bigint) as JSON
/// numbers, real/double as numbers ("NaN", "Infinity", "-Infinity" as strings), decimal as its exact text
/// in a string, varchar/json/uuid as strings, varbinary as base64, date "2024-01-02", time "12:34:56.123",
/// timestamp "2024-01-02 12:34:56.123456" (with time zone: the UTC instant and " UTC"), interval day to
/// second "1 02:03:04.500", interval year to month "1-2", array a JSON array, map a JSON object (keys as
/// text), row a JSON array of its fields. Formatting goes through a stack buffer: nothing is allocated.
/// </summary>
public static class TrinoValueWriter
{
    private const long NanosPerSecond = 1_000_000_000;
    private const long SecondsPerDay = 86_400;
    private const int UnixEpochDayNumber = 719_162;

    // Longest scalar text: a 78-digit decimal with sign and point, or a timestamp with 9 digits and " UTC".
    private const int ScratchLength = 128;

    /// <summary>Writes the value at <paramref name="index"/> (null as JSON null).</summary>
    public static void Write(Utf8JsonWriter writer, TrinoType type, IArrowArray array, int index)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(array);
        if (array.IsNull(index))
        {
            writer.WriteNullValue();
            return;
        }

        switch (array)
        {
            case BooleanArray booleans:
                writer.WriteBooleanValue(booleans.GetValue(index) == true);
                return;
            case Int8Array a: writer.WriteNumberValue(a.Values[index]); return;
            case Int16Array a: writer.WriteNumberValue(a.Values[index]); return;
            case Int32Array a: writer.WriteNumberValue(a.Values[index]); return;
            case Int64Array a: writer.WriteNumberValue(a.Values[index]); return;
            case UInt8Array a: writer.WriteNumberValue(a.Values[index]); return;
            case UInt16Array a: writer.WriteNumberValue(a.Values[index]); return;
            case UInt32Array a: writer.WriteNumberValue(a.Values[index]); return;
            case UInt64Array a:
                {
                    // decimal(20,0): the exact digits as a string.
                    Span<byte> digits = stackalloc byte[24];
                    a.Values[index].TryFormat(digits, out int written, default, CultureInfo.InvariantCulture);
                    writer.WriteStringValue(digits[..written]);
                    return;
                }

            case HalfFloatArray a: WriteFloat(writer, (float)a.Values[index]); return;
            case FloatArray a: WriteFloat(writer, a.Values[index]); return;
            case DoubleArray a: WriteDouble(writer, a.Values[index]); return;
            case DictionaryArray dictionary:
                Write(writer, type, dictionary.Dictionary, checked((int)ReadIndex(dictionary.Indices, index)));
                return;
        }

        switch (array.Data.DataType.TypeId)
        {
            case ArrowTypeId.Decimal32:
            case ArrowTypeId.Decimal64:
            case ArrowTypeId.Decimal128:
            case ArrowTypeId.Decimal256:
                WriteDecimal(writer, (FixedSizeBinaryArray)array, index);
                return;
            case ArrowTypeId.String:
            case ArrowTypeId.LargeString:
            case ArrowTypeId.StringView:
                writer.WriteStringValue(BytesOf(array, index));
                return;
            case ArrowTypeId.Binary:
            case ArrowTypeId.LargeBinary:
            case ArrowTypeId.BinaryView:
                writer.WriteBase64StringValue(BytesOf(array, index));
                return;
            case ArrowTypeId.FixedSizedBinary:
                if (type.Kind == TrinoTypeKind.Uuid)
                {
                    Span<byte> text = stackalloc byte[36];
                    FormatUuid(((FixedSizeBinaryArray)array).GetBytes(index), text);
                    writer.WriteStringValue(text);
                }
                else
                {
                    writer.WriteBase64StringValue(((FixedSizeBinaryArray)array).GetBytes(index));
                }

                return;
            case ArrowTypeId.List:
            case ArrowTypeId.LargeList:
            case ArrowTypeId.FixedSizeList:
            case ArrowTypeId.Map:
            case ArrowTypeId.Struct:
                WriteNested(writer, type, array, index);
                return;
        }

        Span<byte> scratch = stackalloc byte[ScratchLength];
        int length = FormatScalar(type, array, index, scratch);
        writer.WriteStringValue(scratch[..length]);
    }

    /// <summary>
    /// The text of a string-shaped scalar (date, time, timestamp, interval) at <paramref name="index"/>,
    /// written to <paramref name="destination"/> (at least 128 bytes); also used for map keys.
    /// </summary>
    public static int FormatScalar(TrinoType type, IArrowArray array, int index, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(array);
        switch (array)
        {
            case Date32Array dates:
                return FormatDate(dates.Values[index], destination);
            case Date64Array dates:
                return FormatDate(FloorDiv(dates.Values[index], SecondsPerDay * 1000), destination);
            case Time32Array times:
                {
                    TimeUnit unit = ((Time32Type)times.Data.DataType).Unit;
                    return FormatTime(ToNanos(times.Values[index], unit), type.Precision, destination);
                }

            case Time64Array times:
                {
                    TimeUnit unit = ((Time64Type)times.Data.DataType).Unit;
                    return FormatTime(ToNanos(times.Values[index], unit), type.Precision, destination);
                }

            case TimestampArray timestamps:
                {
                    TimeUnit unit = ((TimestampType)timestamps.Data.DataType).Unit;
                    return FormatTimestamp(timestamps.Values[index], unit, type.Precision, type.Kind == TrinoTypeKind.TimestampWithTimeZone, destination);
                }

            case YearMonthIntervalArray yearMonths:
                return FormatYearToMonth(yearMonths.Values[index].Months, destination);
            case DayTimeIntervalArray dayTimes:
                {
                    DayTimeInterval value = dayTimes.Values[index];
                    return FormatDayToSecond((value.Days * SecondsPerDay * 1000) + value.Milliseconds, destination);
                }

            case MonthDayNanosecondIntervalArray intervals:
                {
                    // Trino has no interval mixing months and days: a month counts as 30 days (documented).
                    MonthDayNanosecondInterval value = intervals.Values[index];
                    long days = (value.Months * 30L) + value.Days;
                    return FormatDayToSecond((days * SecondsPerDay * 1000) + (value.Nanoseconds / 1_000_000), destination);
                }

            case DurationArray durations:
                {
                    TimeUnit unit = ((DurationType)durations.Data.DataType).Unit;
                    return FormatDayToSecond(ToNanos(durations.Values[index], unit) / 1_000_000, destination);
                }

            default:
                throw new NotSupportedException($"Arrow type {array.Data.DataType.Name} cannot be written as Trino {type.Name}");
        }
    }

    private static void WriteNested(Utf8JsonWriter writer, TrinoType type, IArrowArray array, int index)
    {
        switch (array)
        {
            case MapArray map:
                {
                    StructArray entries = map.KeyValues;
                    IArrowArray keys = entries.Fields[0];
                    IArrowArray values = entries.Fields[1];
                    TrinoType keyType = type.Children[0];
                    TrinoType valueType = type.Children[1];
                    int start = map.ValueOffsets[index];
                    int end = map.ValueOffsets[index + 1];
                    Span<byte> key = stackalloc byte[ScratchLength];
                    writer.WriteStartObject();
                    for (int i = start; i < end; i++)
                    {
                        int entry = entries.Offset + i;
                        WriteKey(writer, keyType, keys, entry, key);
                        Write(writer, valueType, values, entry);
                    }

                    writer.WriteEndObject();
                    return;
                }

            case ListArray list:
                WriteElements(writer, type.Children[0], list.Values, list.ValueOffsets[index], list.ValueOffsets[index + 1]);
                return;
            case LargeListArray list:
                WriteElements(writer, type.Children[0], list.Values, checked((int)list.ValueOffsets[index]), checked((int)list.ValueOffsets[index + 1]));
                return;
            case FixedSizeListArray list:
                {
                    int size = ((FixedSizeListType)list.Data.DataType).ListSize;
                    int start = (list.Offset + index) * size;
                    WriteElements(writer, type.Children[0], list.Values, start, start + size);
                    return;
                }

            case StructArray row:
                {
                    writer.WriteStartArray();
                    int position = row.Offset + index;
                    for (int i = 0; i < row.Fields.Count; i++)
                    {
                        Write(writer, type.Children[i], row.Fields[i], position);
                    }

                    writer.WriteEndArray();
                    return;
                }

            default:
                throw new NotSupportedException($"Arrow array {array.GetType().Name} cannot be written as Trino {type.Name}");
        }
    }

    private static void WriteElements(Utf8JsonWriter writer, TrinoType element, IArrowArray values, int start, int end)
    {
        writer.WriteStartArray();
        for (int i = start; i < end; i++)
        {
            Write(writer, element, values, i);
        }

        writer.WriteEndArray();
    }

    /// <summary>A map key as a JSON property name: text as is, numbers and booleans as their JSON text.</summary>
    private static void WriteKey(Utf8JsonWriter writer, TrinoType type, IArrowArray keys, int index, Span<byte> scratch)
    {
        if (keys.IsNull(index))
        {
            writer.WritePropertyName("null"u8);
            return;
        }

        int length;
        switch (keys)
        {
            case StringArray or LargeStringArray or StringViewArray:
                writer.WritePropertyName(BytesOf(keys, index));
                return;
            case BooleanArray booleans:
                writer.WritePropertyName(booleans.GetValue(index) == true ? "true"u8 : "false"u8);
                return;
            case Int8Array a: a.Values[index].TryFormat(scratch, out length, default, CultureInfo.InvariantCulture); break;
            case Int16Array a: a.Values[index].TryFormat(scratch, out length, default, CultureInfo.InvariantCulture); break;
            case Int32Array a: a.Values[index].TryFormat(scratch, out length, default, CultureInfo.InvariantCulture); break;
            case Int64Array a: a.Values[index].TryFormat(scratch, out length, default, CultureInfo.InvariantCulture); break;
            case UInt8Array a: a.Values[index].TryFormat(scratch, out length, default, CultureInfo.InvariantCulture); break;
            case UInt16Array a: a.Values[index].TryFormat(scratch, out length, default, CultureInfo.InvariantCulture); break;
            case UInt32Array a: a.Values[index].TryFormat(scratch, out length, default, CultureInfo.InvariantCulture); break;
            case UInt64Array a: a.Values[index].TryFormat(scratch, out length, default, CultureInfo.InvariantCulture); break;
            case DoubleArray a: a.Values[index].TryFormat(scratch, out length, "R", CultureInfo.InvariantCulture); break;
            case FloatArray a: a.Values[index].TryFormat(scratch, out length, "R", CultureInfo.InvariantCulture); break;
            default:
                length = keys.Data.DataType.TypeId is ArrowTypeId.Decimal32 or ArrowTypeId.Decimal64 or ArrowTypeId.Decimal128 or ArrowTypeId.Decimal256
                    ? FormatDecimal((FixedSizeBinaryArray)keys, index, scratch)
                    : FormatScalar(type, keys, index, scratch);
                break;
        }

        writer.WritePropertyName(scratch[..length]);
    }

    private static void WriteFloat(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(float.IsNaN(value) ? "NaN"u8 : value > 0 ? "Infinity"u8 : "-Infinity"u8);
        }
    }

    private static void WriteDouble(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(double.IsNaN(value) ? "NaN"u8 : value > 0 ? "Infinity"u8 : "-Infinity"u8);
        }
    }

    private static void WriteDecimal(Utf8JsonWriter writer, FixedSizeBinaryArray array, int index)
    {
        Span<byte> text = stackalloc byte[ScratchLength];
        int length = FormatDecimal(array, index, text);
        writer.WriteStringValue(text[..length]);
    }

    private static int FormatDecimal(FixedSizeBinaryArray array, int index, Span<byte> destination)
    {
        int scale = TrinoTypeMapper.DecimalOf(array.Data.DataType).Scale;
        Span<ulong> limbs = stackalloc ulong[4];
        Span<byte> digits = stackalloc byte[PgNumericFormat.MaxDigits];
        bool negative = PgNumericFormat.ReadTwosComplement(array.GetBytes(index), limbs);
        int count = PgNumericFormat.FormatMagnitude(limbs, digits);
        if (PgNumericFormat.MaxTextLength(scale) > destination.Length)
        {
            throw new NotSupportedException($"decimal scale {scale} is too large for Trino");
        }

        return PgNumericFormat.WriteText(digits[..count], negative, scale, destination);
    }

    private static ReadOnlySpan<byte> BytesOf(IArrowArray array, int index) => array switch
    {
        BinaryArray binary => binary.GetBytes(index),
        LargeBinaryArray large => large.GetBytes(index),
        BinaryViewArray view => view.GetBytes(index),
        FixedSizeBinaryArray fixedSize => fixedSize.GetBytes(index),
        _ => throw new NotSupportedException($"Arrow array {array.GetType().Name} holds no bytes"),
    };

    private static long ReadIndex(IArrowArray indices, int index) => indices switch
    {
        Int8Array a => a.Values[index],
        Int16Array a => a.Values[index],
        Int32Array a => a.Values[index],
        Int64Array a => a.Values[index],
        UInt8Array a => a.Values[index],
        UInt16Array a => a.Values[index],
        UInt32Array a => a.Values[index],
        UInt64Array a => checked((long)a.Values[index]),
        _ => throw new NotSupportedException($"dictionary index type {indices.Data.DataType.Name}"),
    };

    private static long ToNanos(long value, TimeUnit unit) => unit switch
    {
        TimeUnit.Second => value * NanosPerSecond,
        TimeUnit.Millisecond => value * 1_000_000,
        TimeUnit.Microsecond => value * 1_000,
        _ => value,
    };

    private static long UnitsPerSecond(TimeUnit unit) => unit switch
    {
        TimeUnit.Second => 1,
        TimeUnit.Millisecond => 1_000,
        TimeUnit.Microsecond => 1_000_000,
        _ => NanosPerSecond,
    };

    private static long FloorDiv(long value, long divisor)
    {
        long quotient = Math.DivRem(value, divisor, out long remainder);
        return remainder < 0 ? quotient - 1 : quotient;
    }

    /// <summary>yyyy-MM-dd of a day count since 1970-01-01 (years before 1 or after 9999: the signed year).</summary>
    internal static int FormatDate(long daysSinceEpoch, Span<byte> destination)
    {
        long dayNumber = daysSinceEpoch + UnixEpochDayNumber;
        if (dayNumber >= 0 && dayNumber <= DateOnly.MaxValue.DayNumber)
        {
            DateOnly date = DateOnly.FromDayNumber((int)dayNumber);
            date.TryFormat(destination, out int written, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            return written;
        }

        throw new NotSupportedException($"date {daysSinceEpoch} days from 1970-01-01 is outside years 1..9999");
    }

    /// <summary>HH:mm:ss[.fraction] with <paramref name="precision"/> fractional digits, from nanoseconds since midnight.</summary>
    internal static int FormatTime(long nanosOfDay, int precision, Span<byte> destination)
    {
        long seconds = FloorDiv(nanosOfDay, NanosPerSecond);
        long fraction = nanosOfDay - (seconds * NanosPerSecond);
        seconds = ((seconds % SecondsPerDay) + SecondsPerDay) % SecondsPerDay;
        return WriteClock(seconds, fraction, precision, destination);
    }

    /// <summary>yyyy-MM-dd HH:mm:ss[.fraction][ UTC] from a count of <paramref name="unit"/> since the epoch.</summary>
    internal static int FormatTimestamp(long value, TimeUnit unit, int precision, bool utc, Span<byte> destination)
    {
        long perSecond = UnitsPerSecond(unit);
        long seconds = FloorDiv(value, perSecond);
        long fraction = (value - (seconds * perSecond)) * (NanosPerSecond / perSecond);
        long days = FloorDiv(seconds, SecondsPerDay);
        int pos = FormatDate(days, destination);
        destination[pos++] = (byte)' ';
        pos += WriteClock(seconds - (days * SecondsPerDay), fraction, precision, destination[pos..]);
        if (utc)
        {
            " UTC"u8.CopyTo(destination[pos..]);
            pos += 4;
        }

        return pos;
    }

    /// <summary>Trino's interval day to second text: [-]D HH:MM:SS.mmm.</summary>
    internal static int FormatDayToSecond(long millis, Span<byte> destination)
    {
        int pos = 0;
        ulong magnitude = millis < 0 ? (ulong)-millis : (ulong)millis;
        if (millis < 0)
        {
            destination[pos++] = (byte)'-';
        }

        ulong days = magnitude / (SecondsPerDay * 1000);
        ulong rest = magnitude % (SecondsPerDay * 1000);
        days.TryFormat(destination[pos..], out int written, default, CultureInfo.InvariantCulture);
        pos += written;
        destination[pos++] = (byte)' ';
        pos += WriteClock((long)(rest / 1000), (long)(rest % 1000) * 1_000_000, 3, destination[pos..]);
        return pos;
    }

    /// <summary>Trino's interval year to month text: [-]Y-M.</summary>
    internal static int FormatYearToMonth(int months, Span<byte> destination)
    {
        int pos = 0;
        long magnitude = Math.Abs((long)months);
        if (months < 0)
        {
            destination[pos++] = (byte)'-';
        }

        (magnitude / 12).TryFormat(destination[pos..], out int written, default, CultureInfo.InvariantCulture);
        pos += written;
        destination[pos++] = (byte)'-';
        (magnitude % 12).TryFormat(destination[pos..], out written, default, CultureInfo.InvariantCulture);
        return pos + written;
    }

    /// <summary>8-4-4-4-12 lowercase hex of 16 bytes in RFC 4122 order.</summary>
    internal static void FormatUuid(ReadOnlySpan<byte> bytes, Span<byte> destination)
    {
        int pos = 0;
        for (int i = 0; i < 16; i++)
        {
            if (i is 4 or 6 or 8 or 10)
            {
                destination[pos++] = (byte)'-';
            }

            destination[pos++] = (byte)"0123456789abcdef"[bytes[i] >> 4];
            destination[pos++] = (byte)"0123456789abcdef"[bytes[i] & 0xF];
        }
    }

    private static int WriteClock(long secondsOfDay, long fractionNanos, int precision, Span<byte> destination)
    {
        long hours = secondsOfDay / 3600;
        long minutes = secondsOfDay / 60 % 60;
        long seconds = secondsOfDay % 60;
        WriteTwoDigits(hours, destination);
        destination[2] = (byte)':';
        WriteTwoDigits(minutes, destination[3..]);
        destination[5] = (byte)':';
        WriteTwoDigits(seconds, destination[6..]);
        int pos = 8;
        if (precision > 0)
        {
            destination[pos++] = (byte)'.';
            long scaled = fractionNanos;
            for (int i = precision; i < 9; i++)
            {
                scaled /= 10;
            }

            for (int i = precision - 1; i >= 0; i--)
            {
                destination[pos + i] = (byte)('0' + (scaled % 10));
                scaled /= 10;
            }

            pos += precision;
        }

        return pos;
    }

    private static void WriteTwoDigits(long value, Span<byte> destination)
    {
        destination[0] = (byte)('0' + (value / 10));
        destination[1] = (byte)('0' + (value % 10));
    }
}

using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres.Types;

namespace LakeOps.Edge.Protocols.MySql;

/// <summary>A query attribute (CLIENT_QUERY_ATTRIBUTES): a named value sent with a statement.</summary>
public readonly record struct MySqlQueryAttribute(string Name, ParameterValue Value);

/// <summary>
/// Decodes binary-protocol parameter values (COM_STMT_EXECUTE, query attributes) into engine-neutral
/// <see cref="ParameterValue"/>s. A parameter type is two bytes: the MYSQL_TYPE_* code, then a flag byte
/// whose high bit means unsigned.
/// </summary>
public static class MySqlBinaryParameters
{
    /// <summary>The unsigned bit of a two-byte parameter type.</summary>
    public const ushort UnsignedFlag = 0x8000;

    private const string ExecuteName = "COM_STMT_EXECUTE";

    /// <summary>
    /// Decodes the parameter block of COM_STMT_EXECUTE for a statement with <paramref name="parameterCount"/>
    /// placeholders. <paramref name="types"/> holds the types bound by an earlier execute and is updated when the
    /// client sends new ones (<paramref name="typesBound"/> tells whether any were ever sent). Parameters with
    /// COM_STMT_SEND_LONG_DATA chunks (<paramref name="longData"/>, empty or one entry per parameter) take their
    /// value from those. Query attributes beyond the placeholders go to <paramref name="attributes"/> (or are skipped).
    /// </summary>
    public static void ParseExecute(ReadOnlySpan<byte> payload, MySqlCapabilities capabilities, int parameterCount,
        Span<ushort> types, ref bool typesBound, ReadOnlySpan<byte[]?> longData, Span<ParameterValue> values,
        List<MySqlQueryAttribute>? attributes = null)
    {
        if (types.Length < parameterCount || values.Length < parameterCount)
        {
            throw new ArgumentException("types and values need one entry per parameter");
        }

        MySqlExecuteHeader header = MySqlCommandPackets.ParseExecuteHeader(payload);
        var reader = new MySqlPayloadReader(payload, ExecuteName);
        reader.Skip(MySqlExecuteHeader.Length);
        bool queryAttributes = (capabilities & MySqlCapabilities.QueryAttributes) != 0;
        int count = parameterCount;
        if (parameterCount == 0 && !(queryAttributes && header.ParameterCountAvailable))
        {
            return;
        }

        if (queryAttributes && (parameterCount > 0 || header.ParameterCountAvailable))
        {
            ulong sent = reader.ReadLengthEncodedInteger("parameter_count");
            if (sent < (ulong)parameterCount || sent > (ulong)reader.Remaining + (ulong)parameterCount)
            {
                MySqlThrow.Malformed(ExecuteName, string.Create(CultureInfo.InvariantCulture,
                    $"the statement has {parameterCount} parameters but {sent} were sent"));
            }

            count = (int)sent;
        }

        if (count == 0)
        {
            return;
        }

        ReadOnlySpan<byte> nullBitmap = reader.ReadBytes((count + 7) / 8, "null_bitmap");
        byte newTypes = reader.ReadByte("new_params_bind_flag");
        ushort[]? attributeTypes = count > parameterCount ? new ushort[count - parameterCount] : null;
        string[]? attributeNames = attributeTypes is null ? null : new string[attributeTypes.Length];
        if (newTypes == 1)
        {
            for (int i = 0; i < count; i++)
            {
                ushort type = reader.ReadUInt16("parameter_type");
                string name = "";
                if (queryAttributes)
                {
                    ReadOnlySpan<byte> nameBytes = reader.ReadLengthEncodedBytes("parameter_name");
                    if (i >= parameterCount)
                    {
                        name = Encoding.UTF8.GetString(nameBytes);
                    }
                }

                if (i < parameterCount)
                {
                    types[i] = type;
                }
                else
                {
                    attributeTypes![i - parameterCount] = type;
                    attributeNames![i - parameterCount] = name;
                }
            }

            typesBound = true;
        }
        else if (newTypes != 0)
        {
            MySqlThrow.Malformed(ExecuteName, "new_params_bind_flag is neither 0 nor 1");
        }
        else if (!typesBound || attributeTypes is not null)
        {
            MySqlThrow.Malformed(ExecuteName, "parameter types were never sent");
        }

        for (int i = 0; i < count; i++)
        {
            ushort type = i < parameterCount ? types[i] : attributeTypes![i - parameterCount];
            ParameterValue value;
            if (i < parameterCount && i < longData.Length && longData[i] is { } chunks)
            {
                // The value was streamed with COM_STMT_SEND_LONG_DATA and is not repeated here.
                value = FromBytes(type, chunks);
            }
            else if ((nullBitmap[i >> 3] & (1 << (i & 7))) != 0)
            {
                value = ParameterValue.Null;
            }
            else
            {
                value = ReadValue(ref reader, type);
            }

            if (i < parameterCount)
            {
                values[i] = value;
            }
            else
            {
                attributes?.Add(new MySqlQueryAttribute(attributeNames![i - parameterCount], value));
            }
        }
    }

    /// <summary>The attribute block of COM_QUERY (after parameter_count and parameter_set_count).</summary>
    internal static void ReadAttributes(ref MySqlPayloadReader reader, int count, List<MySqlQueryAttribute>? attributes)
    {
        ReadOnlySpan<byte> nullBitmap = reader.ReadBytes((count + 7) / 8, "null_bitmap");
        if (reader.ReadByte("new_params_bind_flag") != 1)
        {
            MySqlThrow.Malformed("COM_QUERY", "query attributes without types");
        }

        var types = new ushort[count];
        var names = new string[count];
        for (int i = 0; i < count; i++)
        {
            types[i] = reader.ReadUInt16("param_type_and_flag");
            names[i] = Encoding.UTF8.GetString(reader.ReadLengthEncodedBytes("parameter name"));
        }

        for (int i = 0; i < count; i++)
        {
            ParameterValue value = (nullBitmap[i >> 3] & (1 << (i & 7))) != 0 ? ParameterValue.Null : ReadValue(ref reader, types[i]);
            attributes?.Add(new MySqlQueryAttribute(names[i], value));
        }
    }

    /// <summary>Reads one binary-protocol value of the given two-byte type.</summary>
    public static ParameterValue ReadValue(ref MySqlPayloadReader reader, ushort type)
    {
        bool unsigned = (type & UnsignedFlag) != 0;
        var code = (MySqlColumnType)(type & 0xFF);
        switch (code)
        {
            case MySqlColumnType.Null:
                return ParameterValue.Null;
            case MySqlColumnType.Tiny:
            case MySqlColumnType.Bool:
                {
                    byte value = reader.ReadByte("TINY value");
                    return ParameterValue.FromInt16(unsigned ? value : (sbyte)value);
                }

            case MySqlColumnType.Short:
            case MySqlColumnType.Year:
                {
                    ushort value = reader.ReadUInt16("SHORT value");
                    return unsigned || code == MySqlColumnType.Year ? ParameterValue.FromInt32(value) : ParameterValue.FromInt16((short)value);
                }

            case MySqlColumnType.Long:
            case MySqlColumnType.Int24:
                {
                    uint value = reader.ReadUInt32("LONG value");
                    return unsigned ? ParameterValue.FromInt64(value) : ParameterValue.FromInt32((int)value);
                }

            case MySqlColumnType.LongLong:
                {
                    ulong value = reader.ReadUInt64("LONGLONG value");
                    return unsigned && value > long.MaxValue
                        ? ParameterValue.FromDecimalText(value.ToString(CultureInfo.InvariantCulture))
                        : ParameterValue.FromInt64((long)value);
                }

            case MySqlColumnType.Float:
                return ParameterValue.FromFloat32(BitConverter.Int32BitsToSingle((int)reader.ReadUInt32("FLOAT value")));
            case MySqlColumnType.Double:
                return ParameterValue.FromFloat64(BitConverter.Int64BitsToDouble((long)reader.ReadUInt64("DOUBLE value")));
            case MySqlColumnType.Date:
            case MySqlColumnType.NewDate:
            case MySqlColumnType.DateTime:
            case MySqlColumnType.DateTime2:
            case MySqlColumnType.Timestamp:
            case MySqlColumnType.Timestamp2:
                return ReadDateTime(ref reader, dateOnly: code is MySqlColumnType.Date or MySqlColumnType.NewDate);
            case MySqlColumnType.Time:
            case MySqlColumnType.Time2:
                return ReadTime(ref reader);
            default:
                if (!IsByteString(code))
                {
                    throw new MySqlProtocolException(
                        string.Create(CultureInfo.InvariantCulture, $"parameter type {(byte)code} is not supported"),
                        MySqlErrorCode.WrongArguments, MySqlErrorCode.SqlStateOf(MySqlErrorCode.WrongArguments));
                }

                return FromBytes(type, reader.ReadLengthEncodedBytes("string value"));
        }
    }

    /// <summary>A string-like value (length-encoded on the wire, or streamed as long data) in the kind its type implies.</summary>
    public static ParameterValue FromBytes(ushort type, ReadOnlySpan<byte> bytes) => (MySqlColumnType)(type & 0xFF) switch
    {
        MySqlColumnType.Decimal or MySqlColumnType.NewDecimal => ParameterValue.FromDecimalText(Encoding.ASCII.GetString(bytes)),
        MySqlColumnType.Json => ParameterValue.FromJson(Encoding.UTF8.GetString(bytes)),
        // Clients type streamed and byte[] values as strings too; bytes that are not UTF-8 stay bytes rather than being mangled.
        MySqlColumnType.VarChar or MySqlColumnType.VarString or MySqlColumnType.String or MySqlColumnType.Enum or MySqlColumnType.Set
            => System.Text.Unicode.Utf8.IsValid(bytes) ? ParameterValue.FromText(Encoding.UTF8.GetString(bytes)) : ParameterValue.FromBytes(bytes.ToArray()),
        MySqlColumnType.Tiny or MySqlColumnType.Short or MySqlColumnType.Long or MySqlColumnType.LongLong or MySqlColumnType.Int24
            or MySqlColumnType.Float or MySqlColumnType.Double or MySqlColumnType.Date or MySqlColumnType.DateTime
            or MySqlColumnType.Timestamp or MySqlColumnType.Time or MySqlColumnType.Year
            => ParameterValue.FromText(Encoding.UTF8.GetString(bytes)),
        _ => ParameterValue.FromBytes(bytes.ToArray()),
    };

    private static bool IsByteString(MySqlColumnType code) => code is MySqlColumnType.Decimal or MySqlColumnType.NewDecimal
        or MySqlColumnType.VarChar or MySqlColumnType.VarString or MySqlColumnType.String or MySqlColumnType.Enum or MySqlColumnType.Set
        or MySqlColumnType.Json or MySqlColumnType.TinyBlob or MySqlColumnType.MediumBlob or MySqlColumnType.LongBlob
        or MySqlColumnType.Blob or MySqlColumnType.Geometry or MySqlColumnType.Bit or MySqlColumnType.Vector;

    // MYSQL_TIME for dates and datetimes: length 0 (zero date), 4 (date), 7 (+time), 11 (+microseconds).
    private static ParameterValue ReadDateTime(ref MySqlPayloadReader reader, bool dateOnly)
    {
        int length = reader.ReadByte("MYSQL_TIME length");
        if (length is not (0 or 4 or 7 or 11))
        {
            MySqlThrow.Malformed(ExecuteName, $"date/time value length {length} is not 0, 4, 7 or 11");
        }

        if (length == 0)
        {
            // MySQL's zero date has no calendar equivalent; the engine decides what it means.
            return ParameterValue.FromText(dateOnly ? "0000-00-00" : "0000-00-00 00:00:00");
        }

        ReadOnlySpan<byte> bytes = reader.ReadBytes(length, "MYSQL_TIME");
        int year = BinaryPrimitives.ReadUInt16LittleEndian(bytes);
        int month = bytes[2];
        int day = bytes[3];
        int hour = length >= 7 ? bytes[4] : 0;
        int minute = length >= 7 ? bytes[5] : 0;
        int second = length >= 7 ? bytes[6] : 0;
        long micros = length == 11 ? BinaryPrimitives.ReadUInt32LittleEndian(bytes[7..]) : 0;
        if (month is < 1 or > 12 || day < 1 || day > CivilCalendar.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59 || micros > 999_999)
        {
            // Out-of-calendar values (0000-00-00, 2024-02-30) travel as text for the engine to reject or interpret.
            return ParameterValue.FromText(string.Create(CultureInfo.InvariantCulture,
                $"{year:D4}-{month:D2}-{day:D2} {hour:D2}:{minute:D2}:{second:D2}.{micros:D6}"));
        }

        long days = CivilCalendar.DaysFromCivil(year, month, day);
        if (dateOnly)
        {
            return ParameterValue.FromDate((int)days);
        }

        long clock = (((hour * 60L) + minute) * 60 + second) * PgDateTimeFormat.MicrosPerSecond + micros;
        return ParameterValue.FromTimestamp((days * PgDateTimeFormat.MicrosPerDay) + clock);
    }

    // Time: length 0 (00:00:00), 8 (sign, days, h, m, s), 12 (+microseconds).
    private static ParameterValue ReadTime(ref MySqlPayloadReader reader)
    {
        int length = reader.ReadByte("time length");
        if (length is not (0 or 8 or 12))
        {
            MySqlThrow.Malformed(ExecuteName, $"time value length {length} is not 0, 8 or 12");
        }

        if (length == 0)
        {
            return ParameterValue.FromTime(0);
        }

        ReadOnlySpan<byte> bytes = reader.ReadBytes(length, "time");
        bool negative = bytes[0] != 0;
        long days = BinaryPrimitives.ReadUInt32LittleEndian(bytes[1..]);
        long micros = length == 12 ? BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]) : 0;
        long total = (((days * 24 + bytes[5]) * 60 + bytes[6]) * 60 + bytes[7]) * PgDateTimeFormat.MicrosPerSecond + micros;
        return ParameterValue.FromTime(negative ? -total : total);
    }
}

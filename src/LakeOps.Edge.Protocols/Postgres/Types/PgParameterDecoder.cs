using System.Buffers.Binary;
using System.Text;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// Decodes one Bind parameter value into the engine-neutral <see cref="ParameterValue"/>. The caller maps
/// a NULL parameter (length -1) to <see cref="ParameterValue.Null"/> itself. Every failure is a
/// <see cref="PgParameterException"/>: 22P03 for bad binary data, 22P02 for unparsable text, 22003/22008
/// for values out of range.
/// </summary>
public static class PgParameterDecoder
{
    private const short TextFormat = 0;
    private const short BinaryFormat = 1;

    /// <summary>bpchar (character(n)): not in <see cref="PgTypes"/> but drivers send it; treated as text.</summary>
    private const int Bpchar = 1042;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Decodes <paramref name="value"/> sent for a parameter of type <paramref name="typeOid"/> in <paramref name="format"/>.</summary>
    public static ParameterValue Decode(int typeOid, short format, ReadOnlySpan<byte> value) => format switch
    {
        TextFormat => DecodeText(typeOid, DecodeUtf8(typeOid, value, SqlStates.InvalidTextRepresentation)),
        BinaryFormat => DecodeBinary(typeOid, value),
        _ => throw new PgParameterException(SqlStates.ProtocolViolation, $"unsupported format code: {format}"),
    };

    /// <summary>Text input (the type's input function); unknown or untyped parameters stay text for the engine to cast.</summary>
    public static ParameterValue DecodeText(int typeOid, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        switch (typeOid)
        {
            case PgTypes.Bool:
                return PgTextParsers.TryParseBool(text, out bool b) ? ParameterValue.FromBoolean(b) : throw BadText(typeOid, text);
            case PgTypes.Int2:
                return ParameterValue.FromInt16((short)ParseInteger(typeOid, text, short.MinValue, short.MaxValue));
            case PgTypes.Int4:
                return ParameterValue.FromInt32((int)ParseInteger(typeOid, text, int.MinValue, int.MaxValue));
            case PgTypes.Int8:
                return ParameterValue.FromInt64(ParseInteger(typeOid, text, long.MinValue, long.MaxValue));
            case PgTypes.Oid:
                return ParameterValue.FromInt64(ParseInteger(typeOid, text, 0, uint.MaxValue));
            case PgTypes.Float4:
                return ParameterValue.FromFloat32((float)ParseDouble(typeOid, text, single: true));
            case PgTypes.Float8:
                return ParameterValue.FromFloat64(ParseDouble(typeOid, text, single: false));
            case PgTypes.Numeric:
                if (PgTextParsers.TryParseNumeric(text, out string canonical, out bool numericOutOfRange))
                {
                    return ParameterValue.FromDecimalText(canonical);
                }

                throw numericOutOfRange ? OutOfRange(typeOid, text) : BadText(typeOid, text);
            case PgTypes.Date:
                return PgDateTimeParser.TryParseDate(text, out int days) ? ParameterValue.FromDate(days) : throw BadText(typeOid, text);
            case PgTypes.Time:
                return PgDateTimeParser.TryParseTime(text, out long time) ? ParameterValue.FromTime(time) : throw BadText(typeOid, text);
            case PgTypes.Timestamp:
                return PgDateTimeParser.TryParseTimestamp(text, withZone: false, out long ts) ? ParameterValue.FromTimestamp(ts) : throw BadText(typeOid, text);
            case PgTypes.TimestampTz:
                return PgDateTimeParser.TryParseTimestamp(text, withZone: true, out long tstz) ? ParameterValue.FromTimestampTz(tstz) : throw BadText(typeOid, text);
            case PgTypes.Interval:
                return PgDateTimeParser.TryParseInterval(text, out int months, out int intervalDays, out long micros)
                    ? ParameterValue.FromInterval(months, intervalDays, micros)
                    : throw BadText(typeOid, text);
            case PgTypes.Uuid:
                return PgTextParsers.TryParseUuid(text, out Guid uuid) ? ParameterValue.FromUuid(uuid) : throw BadText(typeOid, text);
            case PgTypes.Json:
            case PgTypes.Jsonb:
                return ParameterValue.FromJson(text);
            case PgTypes.Bytea:
                return PgTextParsers.TryParseBytea(text, out byte[] bytes) ? ParameterValue.FromBytes(bytes) : throw BadText(typeOid, text);
        }

        PgTypeInfo? type = PgTypes.Find(typeOid);
        if (type is { IsArray: true })
        {
            int elementOid = type.ElementOid;
            return PgArrayLiteral.TryParse(text, element => DecodeText(elementOid, element), out ParameterValue array)
                ? array
                : throw new PgParameterException(SqlStates.InvalidTextRepresentation, $"malformed array literal for type {TypeName(typeOid)}: \"{Shorten(text)}\"");
        }

        // 0 (unspecified), unknown, text, varchar, name, char, bpchar and types Edge does not know.
        return ParameterValue.FromText(text);
    }

    /// <summary>Binary input (the type's receive function).</summary>
    public static ParameterValue DecodeBinary(int typeOid, ReadOnlySpan<byte> value)
    {
        switch (typeOid)
        {
            case PgTypes.Bool:
                ExpectLength(typeOid, value, 1);
                return ParameterValue.FromBoolean(value[0] != 0);
            case PgTypes.Int2:
                ExpectLength(typeOid, value, 2);
                return ParameterValue.FromInt16(BinaryPrimitives.ReadInt16BigEndian(value));
            case PgTypes.Int4:
                ExpectLength(typeOid, value, 4);
                return ParameterValue.FromInt32(BinaryPrimitives.ReadInt32BigEndian(value));
            case PgTypes.Int8:
                ExpectLength(typeOid, value, 8);
                return ParameterValue.FromInt64(BinaryPrimitives.ReadInt64BigEndian(value));
            case PgTypes.Oid:
                ExpectLength(typeOid, value, 4);
                return ParameterValue.FromInt64(BinaryPrimitives.ReadUInt32BigEndian(value));
            case PgTypes.Float4:
                ExpectLength(typeOid, value, 4);
                return ParameterValue.FromFloat32(BinaryPrimitives.ReadSingleBigEndian(value));
            case PgTypes.Float8:
                ExpectLength(typeOid, value, 8);
                return ParameterValue.FromFloat64(BinaryPrimitives.ReadDoubleBigEndian(value));
            case PgTypes.Numeric:
                return ParameterValue.FromDecimalText(DecodeNumeric(value));
            case PgTypes.Text:
            case PgTypes.Varchar:
            case PgTypes.Unknown:
            case PgTypes.Name:
            case PgTypes.Char:
            case Bpchar:
                return ParameterValue.FromText(DecodeUtf8(typeOid, value, SqlStates.InvalidBinaryRepresentation));
            case PgTypes.Json:
                return ParameterValue.FromJson(DecodeUtf8(typeOid, value, SqlStates.InvalidBinaryRepresentation));
            case PgTypes.Jsonb:
                if (value.IsEmpty || value[0] != 1)
                {
                    throw BadBinary(typeOid, "unsupported jsonb version number");
                }

                return ParameterValue.FromJson(DecodeUtf8(typeOid, value[1..], SqlStates.InvalidBinaryRepresentation));
            case PgTypes.Bytea:
                return ParameterValue.FromBytes(value.ToArray());
            case PgTypes.Date:
                ExpectLength(typeOid, value, 4);
                return ParameterValue.FromDate(DecodeDate(BinaryPrimitives.ReadInt32BigEndian(value)));
            case PgTypes.Time:
                ExpectLength(typeOid, value, 8);
                long time = BinaryPrimitives.ReadInt64BigEndian(value);
                return time is >= 0 and <= PgDateTimeFormat.MicrosPerDay
                    ? ParameterValue.FromTime(time)
                    : throw new PgParameterException(PgSqlStates.DatetimeFieldOverflow, "time out of range");
            case PgTypes.Timestamp:
                ExpectLength(typeOid, value, 8);
                return ParameterValue.FromTimestamp(DecodeTimestamp(BinaryPrimitives.ReadInt64BigEndian(value)));
            case PgTypes.TimestampTz:
                ExpectLength(typeOid, value, 8);
                return ParameterValue.FromTimestampTz(DecodeTimestamp(BinaryPrimitives.ReadInt64BigEndian(value)));
            case PgTypes.Interval:
                ExpectLength(typeOid, value, 16);
                return ParameterValue.FromInterval(
                    BinaryPrimitives.ReadInt32BigEndian(value[12..]),
                    BinaryPrimitives.ReadInt32BigEndian(value[8..]),
                    BinaryPrimitives.ReadInt64BigEndian(value));
            case PgTypes.Uuid:
                ExpectLength(typeOid, value, 16);
                return ParameterValue.FromUuid(new Guid(value, bigEndian: true));
        }

        PgTypeInfo? type = PgTypes.Find(typeOid);
        if (type is { IsArray: true })
        {
            return DecodeBinaryArray(type, value);
        }

        throw new PgParameterException(
            SqlStates.InvalidBinaryRepresentation,
            $"no binary input for parameter type {TypeName(typeOid)}; send it in text format");
    }

    /// <summary>numeric_recv to canonical text ("-12.340", "NaN", "Infinity").</summary>
    private static string DecodeNumeric(ReadOnlySpan<byte> value)
    {
        if (value.Length < 8)
        {
            throw BadBinary(PgTypes.Numeric, "insufficient data");
        }

        int ndigits = BinaryPrimitives.ReadInt16BigEndian(value);
        int weight = BinaryPrimitives.ReadInt16BigEndian(value[2..]);
        ushort sign = BinaryPrimitives.ReadUInt16BigEndian(value[4..]);
        int dscale = BinaryPrimitives.ReadInt16BigEndian(value[6..]);
        if (ndigits < 0 || value.Length != 8 + (2 * ndigits))
        {
            throw BadBinary(PgTypes.Numeric, "invalid length");
        }

        switch (sign)
        {
            case 0xC000:
                return "NaN";
            case 0xD000:
                return "Infinity";
            case 0xF000:
                return "-Infinity";
            case 0x0000:
            case 0x4000:
                break;
            default:
                throw BadBinary(PgTypes.Numeric, "invalid sign");
        }

        if (dscale is < 0 or > PgNumericFormat.MaxScale)
        {
            throw BadBinary(PgTypes.Numeric, "invalid scale");
        }

        Span<short> groups = ndigits <= 64 ? stackalloc short[ndigits] : new short[ndigits];
        for (int i = 0; i < ndigits; i++)
        {
            short group = BinaryPrimitives.ReadInt16BigEndian(value[(8 + (2 * i))..]);
            if (group is < 0 or > 9999)
            {
                throw BadBinary(PgTypes.Numeric, "invalid digit");
            }

            groups[i] = group;
        }

        // Group i has weight (weight - i): integer groups are weight..0, fraction groups -1, -2, ...
        var digits = new StringBuilder();
        int integerGroups = weight + 1;
        for (int g = 0; g < integerGroups; g++)
        {
            int groupValue = g < ndigits ? groups[g] : 0;
            digits.Append(groupValue.ToString("D4", System.Globalization.CultureInfo.InvariantCulture));
        }

        var fraction = new StringBuilder();
        for (int w = -1; fraction.Length < dscale; w--)
        {
            int g = weight - w;
            int groupValue = g >= 0 && g < ndigits ? groups[g] : 0;
            fraction.Append(groupValue.ToString("D4", System.Globalization.CultureInfo.InvariantCulture));
        }

        fraction.Length = dscale;
        return PgTextParsers.Format(digits.ToString() + fraction.ToString(), sign == 0x4000, dscale);
    }

    private static ParameterValue DecodeBinaryArray(PgTypeInfo type, ReadOnlySpan<byte> value)
    {
        if (value.Length < 12)
        {
            throw BadBinary(type.Oid, "insufficient data");
        }

        int ndim = BinaryPrimitives.ReadInt32BigEndian(value);
        int flags = BinaryPrimitives.ReadInt32BigEndian(value[4..]);
        int elementOid = BinaryPrimitives.ReadInt32BigEndian(value[8..]);
        if (ndim is < 0 or > ListEncoder.MaxDimensions)
        {
            throw BadBinary(type.Oid, $"invalid number of dimensions: {ndim}");
        }

        if (flags is not 0 and not 1)
        {
            throw BadBinary(type.Oid, "invalid array flags");
        }

        if (elementOid != type.ElementOid)
        {
            throw BadBinary(type.Oid, $"wrong element type {elementOid}, expected {type.ElementOid}");
        }

        if (ndim == 0)
        {
            return value.Length == 12 ? ParameterValue.FromArray([]) : throw BadBinary(type.Oid, "extra data after empty array");
        }

        if (value.Length < 12 + (8 * ndim))
        {
            throw BadBinary(type.Oid, "insufficient data");
        }

        Span<int> dims = stackalloc int[ndim];
        long total = 1;
        for (int d = 0; d < ndim; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(value[(12 + (8 * d))..]);
            if (dims[d] < 0)
            {
                throw BadBinary(type.Oid, "negative array dimension");
            }

            total *= dims[d];

            // Every element takes at least its 4-byte length, so this bounds allocation by the message size.
            if (total > (value.Length - 12) / 4)
            {
                throw BadBinary(type.Oid, "insufficient data for array elements");
            }
        }

        int pos = 12 + (8 * ndim);
        ParameterValue result = ReadDimension(type, value, dims, 0, ref pos);
        return pos == value.Length ? result : throw BadBinary(type.Oid, "extra data after array elements");
    }

    private static ParameterValue ReadDimension(PgTypeInfo type, ReadOnlySpan<byte> value, ReadOnlySpan<int> dims, int level, ref int pos)
    {
        var elements = new ParameterValue[dims[level]];
        for (int i = 0; i < elements.Length; i++)
        {
            if (level + 1 < dims.Length)
            {
                elements[i] = ReadDimension(type, value, dims, level + 1, ref pos);
                continue;
            }

            if (value.Length - pos < 4)
            {
                throw BadBinary(type.Oid, "insufficient data");
            }

            int length = BinaryPrimitives.ReadInt32BigEndian(value[pos..]);
            pos += 4;
            if (length == -1)
            {
                elements[i] = ParameterValue.Null;
                continue;
            }

            if (length < 0 || length > value.Length - pos)
            {
                throw BadBinary(type.Oid, "invalid element length");
            }

            elements[i] = DecodeBinary(type.ElementOid, value.Slice(pos, length));
            pos += length;
        }

        return ParameterValue.FromArray(elements);
    }

    private static int DecodeDate(int pgDays)
    {
        if (pgDays is int.MaxValue or int.MinValue)
        {
            return pgDays;
        }

        long days = (long)pgDays + PgDateTimeFormat.PgEpochDays;
        return days is > int.MinValue and < int.MaxValue
            ? (int)days
            : throw new PgParameterException(PgSqlStates.DatetimeFieldOverflow, "date out of range");
    }

    private static long DecodeTimestamp(long pgMicros)
    {
        if (pgMicros is long.MaxValue or long.MinValue)
        {
            return pgMicros;
        }

        long micros = unchecked(pgMicros + PgDateTimeFormat.PgEpochMicros);
        return micros < pgMicros || micros == long.MaxValue
            ? throw new PgParameterException(PgSqlStates.DatetimeFieldOverflow, "timestamp out of range")
            : micros;
    }

    private static long ParseInteger(int typeOid, string text, long min, long max)
    {
        if (PgTextParsers.TryParseInteger(text, min, max, out long value, out bool outOfRange))
        {
            return value;
        }

        throw outOfRange ? OutOfRange(typeOid, text) : BadText(typeOid, text);
    }

    private static double ParseDouble(int typeOid, string text, bool single)
    {
        if (PgTextParsers.TryParseDouble(text, single, out double value, out bool outOfRange))
        {
            return value;
        }

        throw outOfRange ? OutOfRange(typeOid, text) : BadText(typeOid, text);
    }

    private static string DecodeUtf8(int typeOid, ReadOnlySpan<byte> value, string sqlState)
    {
        try
        {
            return StrictUtf8.GetString(value);
        }
        catch (DecoderFallbackException ex)
        {
            throw new PgParameterException(sqlState, $"invalid byte sequence for encoding \"UTF8\" in parameter of type {TypeName(typeOid)}", ex);
        }
    }

    private static void ExpectLength(int typeOid, ReadOnlySpan<byte> value, int length)
    {
        if (value.Length != length)
        {
            throw BadBinary(typeOid, $"expected {length} bytes, got {value.Length}");
        }
    }

    private static PgParameterException BadBinary(int typeOid, string problem) =>
        new(SqlStates.InvalidBinaryRepresentation, $"incorrect binary data format in parameter of type {TypeName(typeOid)}: {problem}");

    private static PgParameterException BadText(int typeOid, string text) =>
        new(SqlStates.InvalidTextRepresentation, $"invalid input syntax for type {TypeName(typeOid)}: \"{Shorten(text)}\"");

    private static PgParameterException OutOfRange(int typeOid, string text) =>
        new(SqlStates.NumericValueOutOfRange, $"value \"{Shorten(text)}\" is out of range for type {TypeName(typeOid)}");

    /// <summary>The SQL name PostgreSQL uses in its messages.</summary>
    private static string TypeName(int typeOid) => typeOid switch
    {
        PgTypes.Bool => "boolean",
        PgTypes.Int2 => "smallint",
        PgTypes.Int4 => "integer",
        PgTypes.Int8 => "bigint",
        PgTypes.Float4 => "real",
        PgTypes.Float8 => "double precision",
        PgTypes.Timestamp => "timestamp",
        PgTypes.TimestampTz => "timestamp with time zone",
        PgTypes.Time => "time",
        _ => PgTypes.Find(typeOid)?.Name ?? $"oid {typeOid}",
    };

    /// <summary>Bad values are quoted in messages, but not megabytes of them.</summary>
    private static string Shorten(string text) => text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "...");
}

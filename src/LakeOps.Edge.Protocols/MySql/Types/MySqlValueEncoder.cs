using System.Buffers.Binary;
using System.Numerics;
using Apache.Arrow;
using LakeOps.Edge.Protocols.Postgres.Types;

namespace LakeOps.Edge.Protocols.MySql.Types;

/// <summary>
/// Encodes the values of one Arrow column for MySQL clients: the text protocol (every value a length-encoded
/// string, written by the row encoder around <see cref="WriteText"/>) and the binary protocol (fixed-width
/// little-endian numbers, MYSQL_TIME structures, length-encoded strings). Chosen once per column by
/// <see cref="MySqlTypeMapper"/>, bound to each batch, then called per value without allocating.
/// Destinations are always at least the matching Max*Length.
/// </summary>
internal abstract class MySqlValueEncoder
{
    public abstract void Bind(IArrowArray array);

    public abstract bool IsNull(int index);

    public abstract int MaxTextLength(int index);

    public abstract int WriteText(int index, Span<byte> destination);

    /// <summary>Bound for the binary form, including any length prefix.</summary>
    public virtual int MaxBinaryLength(int index) => 9 + MaxTextLength(index);

    /// <summary>Binary form; by default the text as a length-encoded string (strings, decimals, text fallbacks).</summary>
    public virtual int WriteBinary(int index, Span<byte> destination) => WriteLengthEncodedText(index, destination);

    /// <summary>The text form with its length-encoded prefix: written after room for the largest prefix, then moved if the prefix is shorter.</summary>
    public int WriteLengthEncodedText(int index, Span<byte> destination)
    {
        int max = MaxTextLength(index);
        int reserved = MySqlPayloadWriter.LengthEncodedIntegerSize((ulong)max);
        int length = WriteText(index, destination[reserved..]);
        int prefix = MySqlPayloadWriter.LengthEncodedIntegerSize((ulong)length);
        if (prefix != reserved)
        {
            destination.Slice(reserved, length).CopyTo(destination[prefix..]);
        }

        MySqlPayloadWriter.WriteLengthEncodedInteger(destination, (ulong)length);
        return prefix + length;
    }
}

/// <summary>Common base for encoders over one Arrow array class.</summary>
internal abstract class MySqlValueEncoder<TArray> : MySqlValueEncoder
    where TArray : class, IArrowArray
{
    protected TArray Array { get; private set; } = null!;

    public override void Bind(IArrowArray array)
    {
        IArrowArray storage = array is ExtensionArray extension ? extension.Storage : array;
        Array = storage as TArray ?? throw new ArgumentException($"expected an Arrow {typeof(TArray).Name}, got {storage.GetType().Name}", nameof(array));
    }

    public override bool IsNull(int index) => Array.IsNull(index);
}

/// <summary>Integers: decimal text; binary little-endian in the column type's width (1, 2, 4 or 8 bytes).</summary>
internal sealed class MySqlIntegerEncoder<T, TArray>(int width) : MySqlValueEncoder<TArray>
    where T : struct, IBinaryInteger<T>
    where TArray : PrimitiveArray<T>
{
    public override int MaxTextLength(int index) => 20;

    public override int WriteText(int index, Span<byte> destination)
    {
        Array.GetValue(index)!.Value.TryFormat(destination, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        return written;
    }

    public override int MaxBinaryLength(int index) => width;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        T value = Array.Values[index];

        // Sign- or zero-extends to the width; the column type (signed/unsigned) tells the client how to read it.
        long wide = long.CreateTruncating(value);
        switch (width)
        {
            case 1:
                destination[0] = (byte)wide;
                break;
            case 2:
                BinaryPrimitives.WriteInt16LittleEndian(destination, (short)wide);
                break;
            case 4:
                BinaryPrimitives.WriteInt32LittleEndian(destination, (int)wide);
                break;
            default:
                BinaryPrimitives.WriteInt64LittleEndian(destination, wide);
                break;
        }

        return width;
    }
}

/// <summary>Booleans as TINYINT(1): "1"/"0" and one byte.</summary>
internal sealed class MySqlBoolEncoder : MySqlValueEncoder<BooleanArray>
{
    public override int MaxTextLength(int index) => 1;

    public override int WriteText(int index, Span<byte> destination)
    {
        destination[0] = Array.GetValue(index) == true ? (byte)'1' : (byte)'0';
        return 1;
    }

    public override int MaxBinaryLength(int index) => 1;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        destination[0] = Array.GetValue(index) == true ? (byte)1 : (byte)0;
        return 1;
    }
}

/// <summary>FLOAT (4 bytes) and DOUBLE (8 bytes); text is the shortest round-trip form.</summary>
internal sealed class MySqlFloatEncoder : MySqlValueEncoder
{
    private readonly bool _double;
    private IArrowArray _array = null!;

    public MySqlFloatEncoder(bool isDouble) => _double = isDouble;

    public override void Bind(IArrowArray array) => _array = array is ExtensionArray extension ? extension.Storage : array;

    public override bool IsNull(int index) => _array.IsNull(index);

    public override int MaxTextLength(int index) => PgFloatFormat.MaxLength;

    public override int WriteText(int index, Span<byte> destination) => _array switch
    {
        DoubleArray doubles => PgFloatFormat.WriteFloat8(doubles.Values[index], destination),
        FloatArray floats => PgFloatFormat.WriteFloat4(floats.Values[index], destination),
        HalfFloatArray halves => PgFloatFormat.WriteFloat4((float)halves.Values[index], destination),
        _ => throw new InvalidOperationException("unexpected float array"),
    };

    public override int MaxBinaryLength(int index) => _double ? 8 : 4;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        double value = _array switch
        {
            DoubleArray doubles => doubles.Values[index],
            FloatArray floats => floats.Values[index],
            HalfFloatArray halves => (double)halves.Values[index],
            _ => throw new InvalidOperationException("unexpected float array"),
        };

        if (_double)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(destination, value);
            return 8;
        }

        BinaryPrimitives.WriteSingleLittleEndian(destination, (float)value);
        return 4;
    }
}

/// <summary>A NULL-typed column: every value is NULL.</summary>
internal sealed class MySqlNullEncoder : MySqlValueEncoder
{
    public override void Bind(IArrowArray array)
    {
    }

    public override bool IsNull(int index) => true;

    public override int MaxTextLength(int index) => 0;

    public override int WriteText(int index, Span<byte> destination) => 0;

    public override int MaxBinaryLength(int index) => 0;

    public override int WriteBinary(int index, Span<byte> destination) => 0;
}

/// <summary>How a value borrowed from a PostgreSQL encoder is rendered.</summary>
internal enum PgRendering
{
    /// <summary>PostgreSQL text output (text is raw UTF-8; numeric, uuid, interval; struct/map as JSON).</summary>
    Text,

    /// <summary>The PostgreSQL binary form, which for bytea and other byte strings is the raw bytes.</summary>
    RawBytes,

    /// <summary>JSON (lists become JSON arrays rather than PostgreSQL array literals).</summary>
    Json,
}

/// <summary>
/// Reuses a PostgreSQL <see cref="ValueEncoder"/> for values whose MySQL wire form is a string: text, byte strings,
/// decimals, uuid, interval and nested data. Binary protocol: the same bytes as a length-encoded string.
/// </summary>
internal sealed class MySqlPgBackedEncoder(ValueEncoder inner, PgRendering rendering) : MySqlValueEncoder
{
    public override void Bind(IArrowArray array) => inner.Bind(array);

    public override bool IsNull(int index) => inner.IsNull(index);

    public override int MaxTextLength(int index) => rendering switch
    {
        PgRendering.RawBytes => inner.MaxBinaryLength(index),
        PgRendering.Json => inner.MaxJsonLength(index),
        _ => inner.MaxTextLength(index),
    };

    public override int WriteText(int index, Span<byte> destination) => rendering switch
    {
        PgRendering.RawBytes => inner.WriteBinary(index, destination),
        PgRendering.Json => inner.WriteJson(index, destination),
        _ => inner.WriteText(index, destination),
    };
}

/// <summary>Shared MySQL date/time formatting.</summary>
internal static class MySqlDateTimeFormat
{
    public const int MaxDateLength = 16;
    public const int MaxDateTimeLength = 40;
    public const int MaxTimeLength = 32;

    /// <summary>"YYYY-MM-DD" (more year digits or a sign outside 0..9999).</summary>
    public static int WriteDate(long year, int month, int day, Span<byte> destination)
    {
        int pos = 0;
        if (year < 0)
        {
            destination[pos++] = (byte)'-';
            year = -year;
        }

        year.TryFormat(destination[pos..], out int written, "D4", System.Globalization.CultureInfo.InvariantCulture);
        pos += written;
        destination[pos++] = (byte)'-';
        pos += Write2(month, destination[pos..]);
        destination[pos++] = (byte)'-';
        pos += Write2(day, destination[pos..]);
        return pos;
    }

    /// <summary>"HH:MM:SS" plus ".ffffff" when the microseconds are not zero; hours may exceed 23.</summary>
    public static int WriteClock(long micros, Span<byte> destination)
    {
        int pos = 0;
        if (micros < 0)
        {
            destination[pos++] = (byte)'-';
            micros = -micros;
        }

        long seconds = micros / PgDateTimeFormat.MicrosPerSecond;
        long fraction = micros % PgDateTimeFormat.MicrosPerSecond;
        long hours = seconds / 3600;
        hours.TryFormat(destination[pos..], out int written, "D2", System.Globalization.CultureInfo.InvariantCulture);
        pos += written;
        destination[pos++] = (byte)':';
        pos += Write2((int)(seconds / 60 % 60), destination[pos..]);
        destination[pos++] = (byte)':';
        pos += Write2((int)(seconds % 60), destination[pos..]);
        if (fraction != 0)
        {
            destination[pos++] = (byte)'.';
            fraction.TryFormat(destination[pos..], out written, "D6", System.Globalization.CultureInfo.InvariantCulture);
            pos += written;
        }

        return pos;
    }

    /// <summary>MYSQL_TIME for DATE/DATETIME/TIMESTAMP: length 4, 7 or 11 then the fields.</summary>
    public static int WriteBinaryDateTime(long unixMicros, bool dateOnly, Span<byte> destination)
    {
        long days = PgDateTimeFormat.FloorDiv(unixMicros, PgDateTimeFormat.MicrosPerDay);
        long clock = unixMicros - (days * PgDateTimeFormat.MicrosPerDay);
        PgDateTimeFormat.CivilFromDays(days, out long year, out int month, out int day);
        if (year is < 0 or > 9999)
        {
            throw new MySqlEncodingException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"year {year} is outside MySQL's date range (0000-9999)"), MySqlErrorCode.DataOutOfRange);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(destination[1..], (ushort)year);
        destination[3] = (byte)month;
        destination[4] = (byte)day;
        if (dateOnly || clock == 0)
        {
            destination[0] = 4;
            return 5;
        }

        long seconds = clock / PgDateTimeFormat.MicrosPerSecond;
        long micros = clock % PgDateTimeFormat.MicrosPerSecond;
        destination[5] = (byte)(seconds / 3600);
        destination[6] = (byte)(seconds / 60 % 60);
        destination[7] = (byte)(seconds % 60);
        if (micros == 0)
        {
            destination[0] = 7;
            return 8;
        }

        destination[0] = 11;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)micros);
        return 12;
    }

    /// <summary>The binary TIME value: length 0, 8 or 12; sign, days, hours, minutes, seconds, microseconds.</summary>
    public static int WriteBinaryTime(long micros, Span<byte> destination)
    {
        if (micros == 0)
        {
            destination[0] = 0;
            return 1;
        }

        bool negative = micros < 0;
        if (negative)
        {
            micros = -micros;
        }

        long seconds = micros / PgDateTimeFormat.MicrosPerSecond;
        long fraction = micros % PgDateTimeFormat.MicrosPerSecond;
        destination[1] = negative ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[2..], (uint)(seconds / 86400));
        destination[6] = (byte)(seconds / 3600 % 24);
        destination[7] = (byte)(seconds / 60 % 60);
        destination[8] = (byte)(seconds % 60);
        if (fraction == 0)
        {
            destination[0] = 8;
            return 9;
        }

        destination[0] = 12;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[9..], (uint)fraction);
        return 13;
    }

    private static int Write2(int value, Span<byte> destination)
    {
        destination[0] = (byte)('0' + (value / 10));
        destination[1] = (byte)('0' + (value % 10));
        return 2;
    }
}

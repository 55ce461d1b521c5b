using System.Buffers.Binary;
using System.Buffers.Text;
using System.Numerics;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>bool: text "t"/"f", binary one byte, JSON true/false.</summary>
internal sealed class BoolEncoder() : ValueEncoder<BooleanArray>(PgTypeCatalog.Bool)
{
    public override int MaxTextLength(int index) => 1;

    public override int WriteText(int index, Span<byte> destination)
    {
        destination[0] = Value(index) ? (byte)'t' : (byte)'f';
        return 1;
    }

    public override int MaxBinaryLength(int index) => 1;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        destination[0] = Value(index) ? (byte)1 : (byte)0;
        return 1;
    }

    public override int MaxJsonLength(int index) => 5;

    public override int WriteJson(int index, Span<byte> destination)
    {
        ReadOnlySpan<byte> text = Value(index) ? "true"u8 : "false"u8;
        text.CopyTo(destination);
        return text.Length;
    }

    private bool Value(int index) => BitUtility.GetBit(Array.ValueBuffer.Span, Array.Offset + index);
}

/// <summary>The arrow.bool8 extension: one int8 per value, nonzero is true.</summary>
internal sealed class Bool8Encoder() : ValueEncoder<Int8Array>(PgTypeCatalog.Bool)
{
    public override int MaxTextLength(int index) => 1;

    public override int WriteText(int index, Span<byte> destination)
    {
        destination[0] = Array.Values[index] != 0 ? (byte)'t' : (byte)'f';
        return 1;
    }

    public override int MaxBinaryLength(int index) => 1;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        destination[0] = Array.Values[index] != 0 ? (byte)1 : (byte)0;
        return 1;
    }

    public override int MaxJsonLength(int index) => 5;

    public override int WriteJson(int index, Span<byte> destination)
    {
        ReadOnlySpan<byte> text = Array.Values[index] != 0 ? "true"u8 : "false"u8;
        text.CopyTo(destination);
        return text.Length;
    }
}

/// <summary>
/// Any Arrow integer sent as int2/int4/int8 (the PostgreSQL type is wide enough for every value; see
/// <see cref="PgTypeMapper"/>). Binary is big-endian at the PostgreSQL width.
/// </summary>
internal sealed class IntegerEncoder<T, TArray>(PgTypeInfo type) : ValueEncoder<TArray>(type)
    where T : struct, IBinaryInteger<T>
    where TArray : PrimitiveArray<T>
{
    public override int MaxTextLength(int index) => 20;

    public override int WriteText(int index, Span<byte> destination)
    {
        Utf8Formatter.TryFormat(long.CreateTruncating(Array.Values[index]), destination, out int written);
        return written;
    }

    public override int MaxBinaryLength(int index) => Type.Size;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        long value = long.CreateTruncating(Array.Values[index]);
        switch (Type.Size)
        {
            case 2:
                BinaryPrimitives.WriteInt16BigEndian(destination, (short)value);
                return 2;
            case 4:
                BinaryPrimitives.WriteInt32BigEndian(destination, (int)value);
                return 4;
            default:
                BinaryPrimitives.WriteInt64BigEndian(destination, value);
                return 8;
        }
    }

    public override int MaxJsonLength(int index) => 20;

    public override int WriteJson(int index, Span<byte> destination) => WriteText(index, destination);
}

/// <summary>uint64 does not fit int8, so it is sent as numeric (scale 0).</summary>
internal sealed class UInt64NumericEncoder() : ValueEncoder<UInt64Array>(PgTypeCatalog.Numeric)
{
    public override int MaxTextLength(int index) => 20;

    public override int WriteText(int index, Span<byte> destination)
    {
        Utf8Formatter.TryFormat(Array.Values[index], destination, out int written);
        return written;
    }

    public override int MaxBinaryLength(int index) => PgNumericFormat.MaxBinaryLength;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(Array.Values[index], digits, out int written);
        return PgNumericFormat.WriteBinary(digits[..written], negative: false, scale: 0, destination);
    }

    public override int MaxJsonLength(int index) => 20;

    public override int WriteJson(int index, Span<byte> destination) => WriteText(index, destination);
}

/// <summary>float16/float32 as float4.</summary>
internal sealed class Float4Encoder<T, TArray>() : ValueEncoder<TArray>(PgTypeCatalog.Float4)
    where T : struct, IBinaryFloatingPointIeee754<T>
    where TArray : PrimitiveArray<T>
{
    public override int MaxTextLength(int index) => PgFloatFormat.MaxLength;

    public override int WriteText(int index, Span<byte> destination) =>
        PgFloatFormat.WriteFloat4(float.CreateTruncating(Array.Values[index]), destination);

    public override int MaxBinaryLength(int index) => 4;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        float value = float.CreateTruncating(Array.Values[index]);

        // PostgreSQL's NaN is the positive quiet NaN; .NET's float.NaN has the sign bit set.
        BinaryPrimitives.WriteSingleBigEndian(destination, float.IsNaN(value) ? BitConverter.Int32BitsToSingle(0x7FC00000) : value);
        return 4;
    }

    public override int MaxJsonLength(int index) => PgFloatFormat.MaxLength + 2;

    public override int WriteJson(int index, Span<byte> destination)
    {
        float value = float.CreateTruncating(Array.Values[index]);
        int written = PgFloatFormat.WriteFloat4(value, destination);
        return float.IsFinite(value) ? written : PgTextEscaping.QuoteJsonInPlace(destination, written);
    }
}

internal sealed class Float8Encoder() : ValueEncoder<DoubleArray>(PgTypeCatalog.Float8)
{
    public override int MaxTextLength(int index) => PgFloatFormat.MaxLength;

    public override int WriteText(int index, Span<byte> destination) =>
        PgFloatFormat.WriteFloat8(Array.Values[index], destination);

    public override int MaxBinaryLength(int index) => 8;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        double value = Array.Values[index];

        // PostgreSQL's NaN is the positive quiet NaN; .NET's double.NaN has the sign bit set.
        BinaryPrimitives.WriteDoubleBigEndian(destination, double.IsNaN(value) ? BitConverter.Int64BitsToDouble(0x7FF8000000000000) : value);
        return 8;
    }

    public override int MaxJsonLength(int index) => PgFloatFormat.MaxLength + 2;

    public override int WriteJson(int index, Span<byte> destination)
    {
        double value = Array.Values[index];
        int written = PgFloatFormat.WriteFloat8(value, destination);
        return double.IsFinite(value) ? written : PgTextEscaping.QuoteJsonInPlace(destination, written);
    }
}

/// <summary>
/// Decimal32/64/128/256 as numeric: the little-endian two's complement unscaled value is turned into
/// decimal digits on the stack, then laid out for numeric_out or numeric_send.
/// </summary>
internal sealed class DecimalEncoder(int typeModifier)
    : ValueEncoder<FixedSizeBinaryArray>(PgTypeCatalog.Numeric, typeModifier)
{
    private int _scale;

    protected override void BindCore(IArrowArray array)
    {
        base.BindCore(array);

        // The scale of the values is the array's own (the schema's only sets the column typmod).
        int scale = array.Data.DataType switch
        {
            Decimal256Type d => d.Scale,
            Decimal128Type d => d.Scale,
            Decimal64Type d => d.Scale,
            Decimal32Type d => d.Scale,
            _ => throw new ArgumentException($"expected an Arrow decimal array, got {array.GetType().Name}", nameof(array)),
        };
        _scale = scale is >= PgNumericFormat.MinScale and <= PgNumericFormat.MaxScale
            ? scale
            : throw new PgEncodingException(SqlStates.FeatureNotSupported, $"decimal scale {scale} is outside PostgreSQL's numeric range");
    }

    public override int MaxTextLength(int index) => PgNumericFormat.MaxTextLength(_scale);

    public override int WriteText(int index, Span<byte> destination)
    {
        Span<byte> digits = stackalloc byte[PgNumericFormat.MaxDigits];
        int count = ReadDigits(index, digits, out bool negative);
        return PgNumericFormat.WriteText(digits[..count], negative, _scale, destination);
    }

    public override int MaxBinaryLength(int index) => PgNumericFormat.MaxBinaryLength;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        Span<byte> digits = stackalloc byte[PgNumericFormat.MaxDigits];
        int count = ReadDigits(index, digits, out bool negative);
        return PgNumericFormat.WriteBinary(digits[..count], negative, _scale, destination);
    }

    public override int MaxJsonLength(int index) => MaxTextLength(index);

    public override int WriteJson(int index, Span<byte> destination) => WriteText(index, destination);

    private int ReadDigits(int index, Span<byte> digits, out bool negative)
    {
        Span<ulong> limbs = stackalloc ulong[4];
        negative = PgNumericFormat.ReadTwosComplement(Array.GetBytes(index), limbs);
        return PgNumericFormat.FormatMagnitude(limbs, digits);
    }
}

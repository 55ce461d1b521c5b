using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Arrays;

namespace LakeOps.Edge.Protocols.Trino;

/// <summary>
/// One column of one batch, bound once: the common flat layouts (integers, floats, booleans, utf8, decimals
/// up to 18 digits) write straight from their typed array with one switch per value; every other type goes
/// through <see cref="TrinoValueWriter.Write"/>.
/// </summary>
internal readonly struct TrinoColumnReader
{
    private readonly Kind _kind;
    private readonly TrinoType _type;
    private readonly IArrowArray _array;
    private readonly bool _hasNulls;
    private readonly int _scale;

    public TrinoColumnReader(TrinoType type, IArrowArray array)
    {
        _type = type;
        _array = array;
        _hasNulls = array.NullCount > 0;
        _kind = array switch
        {
            Int8Array => Kind.Int8,
            Int16Array => Kind.Int16,
            Int32Array => Kind.Int32,
            Int64Array => Kind.Int64,
            DoubleArray => Kind.Double,
            BooleanArray => Kind.Boolean,
            StringArray when type.Kind is TrinoTypeKind.Varchar or TrinoTypeKind.Json or TrinoTypeKind.Uuid => Kind.Utf8,
            Decimal128Array when type.Kind == TrinoTypeKind.Decimal && type.Precision <= 18 => Kind.SmallDecimal,
            Decimal64Array when type.Kind == TrinoTypeKind.Decimal => Kind.SmallDecimal,
            _ => Kind.Generic,
        };
        _scale = _kind == Kind.SmallDecimal ? type.Scale : 0;
    }

    private enum Kind : byte
    {
        Generic,
        Int8,
        Int16,
        Int32,
        Int64,
        Double,
        Boolean,
        Utf8,
        SmallDecimal,
    }

    public void Write(Utf8JsonWriter writer, int index)
    {
        if (_hasNulls && _array.IsNull(index))
        {
            writer.WriteNullValue();
            return;
        }

        switch (_kind)
        {
            case Kind.Int8: writer.WriteNumberValue(((Int8Array)_array).Values[index]); break;
            case Kind.Int16: writer.WriteNumberValue(((Int16Array)_array).Values[index]); break;
            case Kind.Int32: writer.WriteNumberValue(((Int32Array)_array).Values[index]); break;
            case Kind.Int64: writer.WriteNumberValue(((Int64Array)_array).Values[index]); break;
            case Kind.Boolean: writer.WriteBooleanValue(((BooleanArray)_array).GetValue(index) == true); break;
            case Kind.Utf8: writer.WriteStringValue(((StringArray)_array).GetBytes(index)); break;
            case Kind.SmallDecimal: WriteSmallDecimal(writer, ((FixedSizeBinaryArray)_array).GetBytes(index)); break;
            case Kind.Double:
                double value = ((DoubleArray)_array).Values[index];
                if (double.IsFinite(value))
                {
                    writer.WriteNumberValue(value);
                }
                else
                {
                    TrinoValueWriter.Write(writer, _type, _array, index);
                }

                break;
            default: TrinoValueWriter.Write(writer, _type, _array, index); break;
        }
    }

    /// <summary>A decimal whose unscaled value fits a long: digits from long formatting, the point inserted.</summary>
    private void WriteSmallDecimal(Utf8JsonWriter writer, ReadOnlySpan<byte> bytes)
    {
        long unscaled = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        Span<byte> text = stackalloc byte[48];
        Span<byte> digits = stackalloc byte[24];
        ulong magnitude = unscaled < 0 ? (ulong)-(unscaled + 1) + 1 : (ulong)unscaled;
        magnitude.TryFormat(digits, out int count, default, CultureInfo.InvariantCulture);
        int pos = 0;
        if (unscaled < 0)
        {
            text[pos++] = (byte)'-';
        }

        int scale = _scale;
        if (scale == 0)
        {
            digits[..count].CopyTo(text[pos..]);
            pos += count;
        }
        else if (count > scale)
        {
            digits[..(count - scale)].CopyTo(text[pos..]);
            pos += count - scale;
            text[pos++] = (byte)'.';
            digits[(count - scale)..count].CopyTo(text[pos..]);
            pos += scale;
        }
        else
        {
            text[pos++] = (byte)'0';
            text[pos++] = (byte)'.';
            text.Slice(pos, scale - count).Fill((byte)'0');
            pos += scale - count;
            digits[..count].CopyTo(text[pos..]);
            pos += count;
        }

        writer.WriteStringValue(text[..pos]);
    }
}

using System.Buffers.Binary;
using Apache.Arrow;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres.Client;

namespace LakeOps.Edge.Engines.Postgres;

/// <summary>
/// Accumulates one column of a record batch straight into Arrow's memory layout from PostgreSQL binary
/// values (booleans as bits, one-dimensional arrays as lists of an element builder).
/// </summary>
internal sealed class PgColumnBuilder : ArrowColumnBuilder
{
    private readonly PgColumnSpec _spec;
    private readonly PgColumnBuilder? _element;

    public PgColumnBuilder(PgColumnSpec spec)
        : base(spec.Field, FixedWidth(spec.Kind), bitValues: spec.Kind == PgValueKind.Bool)
    {
        _spec = spec;
        if (spec.Element is not null)
        {
            _element = new PgColumnBuilder(spec.Element);
        }
    }

    public override void Reset()
    {
        base.Reset();
        _element?.Reset();
    }

    public void AppendNull()
    {
        switch (_spec.Kind)
        {
            case PgValueKind.Bool:
                SetValidity(false); // the value bit stays 0: SetValidity cleared it
                _length++;
                break;
            case PgValueKind.List:
                SetValidity(false);
                WriteOffset(_element!.Length);
                _length++;
                break;
            default:
                AppendNullValue();
                break;
        }
    }

    public void Append(ReadOnlySpan<byte> value)
    {
        SetValidity(true);
        switch (_spec.Kind)
        {
            case PgValueKind.Bool:
                if (PgBinaryValues.ReadBool(value))
                {
                    _values[_length >> 3] |= (byte)(1 << (_length & 7));
                }

                break;
            case PgValueKind.Int16:
                WriteFixed(PgBinaryValues.ReadInt16(value));
                break;
            case PgValueKind.Int32:
                WriteFixed(PgBinaryValues.ReadInt32(value));
                break;
            case PgValueKind.Oid:
                WriteFixed((uint)PgBinaryValues.ReadInt32(value));
                break;
            case PgValueKind.Int64:
                WriteFixed(PgBinaryValues.ReadInt64(value));
                break;
            case PgValueKind.Float32:
                WriteFixed(PgBinaryValues.ReadFloat32(value));
                break;
            case PgValueKind.Float64:
                WriteFixed(PgBinaryValues.ReadFloat64(value));
                break;
            case PgValueKind.Date:
                WriteFixed(PgBinaryValues.ReadDate(value));
                break;
            case PgValueKind.Time:
                WriteFixed(PgBinaryValues.ReadTime(value));
                break;
            case PgValueKind.Timestamp:
                WriteFixed(PgBinaryValues.ReadTimestamp(value));
                break;
            case PgValueKind.Decimal:
                AppendDecimal(value);
                break;
            case PgValueKind.Interval:
                AppendInterval(value);
                break;
            case PgValueKind.Text or PgValueKind.Bytes or PgValueKind.TextFormat:
                WriteValueBytes(value);
                break;
            case PgValueKind.Jsonb:
                WriteValueBytes(PgBinaryValues.JsonbText(value));
                break;
            case PgValueKind.Uuid:
                EnsureValues(36);
                PgBinaryValues.WriteUuidText(value, _values.AsSpan(_valueBytes, 36));
                _valueBytes += 36;
                WriteOffset(_valueBytes);
                break;
            case PgValueKind.NumericText:
                EnsureValues(PgBinaryValues.NumericTextMaxLength(value));
                _valueBytes += PgBinaryValues.WriteNumericText(value, _values.AsSpan(_valueBytes));
                WriteOffset(_valueBytes);
                break;
            case PgValueKind.List:
                AppendList(value);
                break;
        }

        _length++;
    }

    /// <summary>The Arrow data of the rows appended since the last <see cref="Reset"/>; valid until the next Reset.</summary>
    public override ArrayData BuildData() => _spec.Kind switch
    {
        PgValueKind.Bool => BuildBitData(),
        PgValueKind.List => BuildListData(_element!.BuildData()),
        _ => BuildValueData(),
    };

    private static int FixedWidth(PgValueKind kind) => kind switch
    {
        PgValueKind.Int16 => 2,
        PgValueKind.Int32 or PgValueKind.Oid or PgValueKind.Float32 or PgValueKind.Date => 4,
        PgValueKind.Int64 or PgValueKind.Float64 or PgValueKind.Time or PgValueKind.Timestamp => 8,
        PgValueKind.Decimal or PgValueKind.Interval => 16,
        _ => 0,
    };

    private void AppendDecimal(ReadOnlySpan<byte> value)
    {
        if (!PgBinaryValues.TryReadDecimal(value, _spec.Scale, out Int128 unscaled))
        {
            Span<byte> text = stackalloc byte[64];
            int length = PgBinaryValues.NumericTextMaxLength(value) <= text.Length ? PgBinaryValues.WriteNumericText(value, text) : 0;
            throw new EngineException(
                $"numeric value {System.Text.Encoding.ASCII.GetString(text[..length])} of column \"{_spec.Field.Name}\" does not fit {_spec.Field.DataType.Name}({((Apache.Arrow.Types.Decimal128Type)_spec.Field.DataType).Precision},{_spec.Scale})",
                SqlStates.NumericValueOutOfRange);
        }

        EnsureValues(16);
        BinaryPrimitives.WriteInt128LittleEndian(_values.AsSpan(_valueBytes), unscaled);
        _valueBytes += 16;
    }

    private void AppendInterval(ReadOnlySpan<byte> value)
    {
        if (!PgBinaryValues.TryReadInterval(value, out int months, out int days, out long nanoseconds))
        {
            throw new EngineException($"interval value of column \"{_spec.Field.Name}\" is too large for Arrow's nanosecond intervals", SqlStates.NumericValueOutOfRange);
        }

        EnsureValues(16);
        Span<byte> target = _values.AsSpan(_valueBytes, 16);
        BinaryPrimitives.WriteInt32LittleEndian(target, months);
        BinaryPrimitives.WriteInt32LittleEndian(target[4..], days);
        BinaryPrimitives.WriteInt64LittleEndian(target[8..], nanoseconds);
        _valueBytes += 16;
    }

    private void WriteValueBytes(ReadOnlySpan<byte> value)
    {
        EnsureValues(value.Length);
        value.CopyTo(_values.AsSpan(_valueBytes));
        _valueBytes += value.Length;
        WriteOffset(_valueBytes);
    }

    private void AppendList(ReadOnlySpan<byte> value)
    {
        var array = new PgBinaryArray(value);
        if (array.Dimensions > 1)
        {
            throw new EngineException(
                $"column \"{_spec.Field.Name}\" holds a {array.Dimensions}-dimensional array; only one-dimensional arrays can be returned as Arrow lists",
                SqlStates.FeatureNotSupported);
        }

        PgColumnBuilder element = _element!;
        for (int i = 0; i < array.Count; i++)
        {
            ReadOnlySpan<byte> item = array.Next(out bool isNull);
            if (isNull)
            {
                element.AppendNull();
            }
            else
            {
                element.Append(item);
            }
        }

        WriteOffset(element.Length);
    }
}

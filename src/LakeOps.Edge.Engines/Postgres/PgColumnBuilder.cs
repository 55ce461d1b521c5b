using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Apache.Arrow;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres.Client;

namespace LakeOps.Edge.Engines.Postgres;

/// <summary>
/// Accumulates one column of a record batch straight into Arrow's memory layout (validity bitmap, values,
/// offsets) from PostgreSQL binary values. The arrays are reused from batch to batch, which the
/// IQueryResult contract allows (a batch is valid until the next read), so steady-state decoding allocates
/// only when a column grows.
/// </summary>
internal sealed class PgColumnBuilder
{
    private const int InitialCapacity = 1024;

    private readonly PgColumnSpec _spec;
    private readonly int _width;
    private readonly PgColumnBuilder? _element;
    private byte[] _validity = new byte[InitialCapacity / 8];
    private byte[] _values;
    private byte[] _offsets = [];
    private int _length;
    private int _nullCount;
    private int _valueBytes;

    public PgColumnBuilder(PgColumnSpec spec)
    {
        _spec = spec;
        _width = FixedWidth(spec.Kind);
        _values = new byte[_width > 0 ? _width * InitialCapacity : InitialCapacity];
        if (_width <= 0 && spec.Kind != PgValueKind.Bool)
        {
            _offsets = new byte[4 * (InitialCapacity + 1)];
        }

        if (spec.Element is not null)
        {
            _element = new PgColumnBuilder(spec.Element);
        }
    }

    public int Length => _length;

    public void Reset()
    {
        _length = 0;
        _nullCount = 0;
        _valueBytes = 0;
        _element?.Reset();
    }

    public void AppendNull()
    {
        SetValidity(false);
        switch (_spec.Kind)
        {
            case PgValueKind.Bool:
                break; // the value bit stays 0; EnsureBits cleared it
            case PgValueKind.List:
                WriteOffset(_element!.Length);
                break;
            default:
                if (_width > 0)
                {
                    EnsureValues(_width);
                    _values.AsSpan(_valueBytes, _width).Clear();
                    _valueBytes += _width;
                }
                else
                {
                    WriteOffset(_valueBytes);
                }

                break;
        }

        _length++;
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
                AppendBytes(value);
                break;
            case PgValueKind.Jsonb:
                AppendBytes(PgBinaryValues.JsonbText(value));
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
    public ArrayData BuildData()
    {
        ArrowBuffer validity = _nullCount == 0 ? ArrowBuffer.Empty : new ArrowBuffer(_validity.AsMemory(0, (_length + 7) / 8));
        switch (_spec.Kind)
        {
            case PgValueKind.Bool:
                return new ArrayData(_spec.Field.DataType, _length, _nullCount, 0, [validity, new ArrowBuffer(_values.AsMemory(0, (_length + 7) / 8))]);
            case PgValueKind.List:
                return new ArrayData(_spec.Field.DataType, _length, _nullCount, 0,
                    [validity, new ArrowBuffer(_offsets.AsMemory(0, 4 * (_length + 1)))], [_element!.BuildData()]);
            default:
                if (_width > 0)
                {
                    return new ArrayData(_spec.Field.DataType, _length, _nullCount, 0, [validity, new ArrowBuffer(_values.AsMemory(0, _valueBytes))]);
                }

                return new ArrayData(_spec.Field.DataType, _length, _nullCount, 0,
                    [validity, new ArrowBuffer(_offsets.AsMemory(0, 4 * (_length + 1))), new ArrowBuffer(_values.AsMemory(0, _valueBytes))]);
        }
    }

    public IArrowArray Build() => ArrowArrayFactory.BuildArray(BuildData());

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

    private void AppendBytes(ReadOnlySpan<byte> value)
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WriteFixed<T>(T value)
        where T : unmanaged
    {
        EnsureValues(Unsafe.SizeOf<T>());
        Unsafe.WriteUnaligned(ref _values[_valueBytes], value);
        _valueBytes += Unsafe.SizeOf<T>();
    }

    /// <summary>Writes the offset that ends the row being appended (offset[length + 1]); offset[0] is always 0.</summary>
    private void WriteOffset(int end)
    {
        int at = 4 * (_length + 1);
        if (at + 4 > _offsets.Length)
        {
            System.Array.Resize(ref _offsets, Math.Max(_offsets.Length * 2, at + 4));
        }

        Unsafe.WriteUnaligned(ref _offsets[at], end);
    }

    private void SetValidity(bool valid)
    {
        int index = _length >> 3;
        if (index >= _validity.Length)
        {
            System.Array.Resize(ref _validity, _validity.Length * 2);
        }

        if (_spec.Kind == PgValueKind.Bool && index >= _values.Length)
        {
            System.Array.Resize(ref _values, _values.Length * 2);
        }

        byte bit = (byte)(1 << (_length & 7));
        if ((_length & 7) == 0)
        {
            // A fresh byte: clear leftovers of the previous batch.
            _validity[index] = 0;
            if (_spec.Kind == PgValueKind.Bool)
            {
                _values[index] = 0;
            }
        }

        if (valid)
        {
            _validity[index] |= bit;
        }
        else
        {
            _nullCount++;
        }
    }

    private void EnsureValues(int extra)
    {
        if (_valueBytes + extra > _values.Length)
        {
            long wanted = Math.Max((long)_values.Length * 2, (long)_valueBytes + extra);
            if (wanted > System.Array.MaxLength)
            {
                throw new EngineException($"column \"{_spec.Field.Name}\" exceeds 2 GB in one batch", SqlStates.ProgramLimitExceeded);
            }

            System.Array.Resize(ref _values, (int)wanted);
        }
    }
}

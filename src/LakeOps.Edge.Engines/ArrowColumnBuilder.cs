using System.Runtime.CompilerServices;
using Apache.Arrow;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Engines;

/// <summary>
/// The Arrow memory layout one column builder fills (validity bitmap, values, offsets), shared by the
/// engines that decode rows themselves. The arrays are reused from batch to batch, which the
/// IQueryResult contract allows (a batch is valid until the next read), so steady-state decoding
/// allocates only when a column grows. Subclasses decode their protocol's values into it.
/// </summary>
internal abstract class ArrowColumnBuilder
{
    protected const int InitialCapacity = 1024;

    private readonly Field _field;
    private readonly bool _bitValues;
    private byte[] _validity = new byte[InitialCapacity / 8];
    private byte[] _offsets = [];
    private int _nullCount;

    /// <param name="field">The column (its name goes into errors).</param>
    /// <param name="width">Bytes per value for fixed-width types; 0 for variable-width (with offsets).</param>
    /// <param name="bitValues">Values are bits (Arrow booleans): no offsets, one value bit per row.</param>
    protected ArrowColumnBuilder(Field field, int width, bool bitValues = false)
    {
        _field = field;
        _width = width;
        _bitValues = bitValues;
        _values = new byte[width > 0 ? width * InitialCapacity : InitialCapacity];
        if (width <= 0 && !bitValues)
        {
            _offsets = new byte[4 * (InitialCapacity + 1)];
        }
    }

    // Protected fields, not properties: the decoders write them per value.
    protected readonly int _width;
    protected byte[] _values;
    protected int _length;
    protected int _valueBytes;

    public int Length => _length;

    public virtual void Reset()
    {
        _length = 0;
        _nullCount = 0;
        _valueBytes = 0;
    }

    public IArrowArray Build() => ArrowArrayFactory.BuildArray(BuildData());

    public abstract ArrayData BuildData();

    /// <summary>A null row of a fixed- or variable-width column: zeroed value bytes or a repeated offset.</summary>
    protected void AppendNullValue()
    {
        SetValidity(false);
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

        _length++;
    }

    /// <summary>The data of a fixed- or variable-width column since the last <see cref="Reset"/>.</summary>
    protected ArrayData BuildValueData() => _width > 0
        ? new ArrayData(_field.DataType, _length, _nullCount, 0, [ValidityBuffer(), new ArrowBuffer(_values.AsMemory(0, _valueBytes))])
        : new ArrayData(_field.DataType, _length, _nullCount, 0, [ValidityBuffer(), OffsetsBuffer(), new ArrowBuffer(_values.AsMemory(0, _valueBytes))]);

    /// <summary>The data of a boolean column (values are bits).</summary>
    protected ArrayData BuildBitData() =>
        new(_field.DataType, _length, _nullCount, 0, [ValidityBuffer(), new ArrowBuffer(_values.AsMemory(0, (_length + 7) / 8))]);

    /// <summary>The data of a list column whose elements are <paramref name="children"/>.</summary>
    protected ArrayData BuildListData(ArrayData children) =>
        new(_field.DataType, _length, _nullCount, 0, [ValidityBuffer(), OffsetsBuffer()], [children]);

    /// <summary>Appends one valid variable-width value (string or binary columns).</summary>
    protected void AppendBytes(ReadOnlySpan<byte> value)
    {
        SetValidity(true);
        EnsureValues(value.Length);
        value.CopyTo(_values.AsSpan(_valueBytes));
        _valueBytes += value.Length;
        WriteOffset(_valueBytes);
        _length++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected void WriteFixed<T>(T value)
        where T : unmanaged
    {
        EnsureValues(Unsafe.SizeOf<T>());
        Unsafe.WriteUnaligned(ref _values[_valueBytes], value);
        _valueBytes += Unsafe.SizeOf<T>();
    }

    /// <summary>Writes the offset that ends the row being appended (offset[length + 1]); offset[0] is always 0.</summary>
    protected void WriteOffset(int end)
    {
        int at = 4 * (_length + 1);
        if (at + 4 > _offsets.Length)
        {
            System.Array.Resize(ref _offsets, Math.Max(_offsets.Length * 2, at + 4));
        }

        Unsafe.WriteUnaligned(ref _offsets[at], end);
    }

    /// <summary>Sets the validity bit of the row being appended (and, for bit values, clears its value bit).</summary>
    protected void SetValidity(bool valid)
    {
        int index = _length >> 3;
        if (index >= _validity.Length)
        {
            System.Array.Resize(ref _validity, _validity.Length * 2);
        }

        if (_bitValues && index >= _values.Length)
        {
            System.Array.Resize(ref _values, _values.Length * 2);
        }

        if ((_length & 7) == 0)
        {
            // A fresh byte: clear leftovers of the previous batch.
            _validity[index] = 0;
            if (_bitValues)
            {
                _values[index] = 0;
            }
        }

        if (valid)
        {
            _validity[index] |= (byte)(1 << (_length & 7));
        }
        else
        {
            _nullCount++;
        }
    }

    protected void EnsureValues(int extra)
    {
        if (_valueBytes + extra > _values.Length)
        {
            long wanted = Math.Max((long)_values.Length * 2, (long)_valueBytes + extra);
            if (wanted > System.Array.MaxLength)
            {
                throw new EngineException($"column \"{_field.Name}\" exceeds 2 GB in one batch", SqlStates.ProgramLimitExceeded);
            }

            System.Array.Resize(ref _values, (int)wanted);
        }
    }

    private ArrowBuffer ValidityBuffer() => _nullCount == 0 ? ArrowBuffer.Empty : new ArrowBuffer(_validity.AsMemory(0, (_length + 7) / 8));

    private ArrowBuffer OffsetsBuffer() => new(_offsets.AsMemory(0, 4 * (_length + 1)));
}

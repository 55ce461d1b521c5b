using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// struct as text holding a JSON object: {"a": 1, "b": "x", "c": null}. JSON (rather than PostgreSQL's
/// record syntax "(1,x,)") because it keeps field names and nesting and every client can parse it.
/// Numbers and booleans are bare, other values are JSON strings of their PostgreSQL text form, lists are
/// JSON arrays, json columns are embedded as-is.
/// </summary>
internal sealed class StructEncoder : TextLikeEncoder<StructArray>
{
    private readonly ValueEncoder[] _fields;
    private readonly byte[][] _keys;
    private int _childDelta;

    public StructEncoder(IReadOnlyList<Field> fields, ValueEncoder[] fieldEncoders)
        : base(PgTypeCatalog.Text)
    {
        _fields = fieldEncoders;
        _keys = new byte[fields.Count][];
        for (int i = 0; i < fields.Count; i++)
        {
            _keys[i] = JsonKey(fields[i].Name);
        }
    }

    public override bool IsPgValue => false;

    protected override void BindCore(IArrowArray array)
    {
        base.BindCore(array);
        IReadOnlyList<IArrowArray> children = Array.Fields;
        for (int i = 0; i < _fields.Length; i++)
        {
            _fields[i].Bind(children[i]);
        }

        // Arrow C# 23 slices struct children to the struct (child row = row); older versions handed out
        // the unsliced children (child row = struct offset + row). Tell them apart by length.
        _childDelta = children.Count > 0 && children[0].Length != Array.Length ? Array.Offset : 0;
    }

    public override int MaxTextLength(int index) => MaxJsonLength(index);

    public override int WriteText(int index, Span<byte> destination) => WriteJson(index, destination);

    public override int MaxJsonLength(int index)
    {
        int child = _childDelta + index;
        long total = 2;
        for (int f = 0; f < _fields.Length; f++)
        {
            total += _keys[f].Length + 2 + (_fields[f].IsNull(child) ? 4 : _fields[f].MaxJsonLength(child));
        }

        return ListEncoder.Bound(total);
    }

    public override int WriteJson(int index, Span<byte> destination)
    {
        int child = _childDelta + index;
        int pos = 0;
        destination[pos++] = (byte)'{';
        for (int f = 0; f < _fields.Length; f++)
        {
            if (f > 0)
            {
                destination[pos++] = (byte)',';
                destination[pos++] = (byte)' ';
            }

            _keys[f].CopyTo(destination[pos..]);
            pos += _keys[f].Length;
            pos += WriteJsonValue(_fields[f], child, destination[pos..]);
        }

        destination[pos++] = (byte)'}';
        return pos;
    }

    internal static int WriteJsonValue(ValueEncoder encoder, int index, Span<byte> destination)
    {
        if (encoder.IsNull(index))
        {
            "null"u8.CopyTo(destination);
            return 4;
        }

        return encoder.WriteJson(index, destination);
    }

    /// <summary>"name": as UTF-8, computed once per result.</summary>
    private static byte[] JsonKey(string name)
    {
        byte[] raw = Encoding.UTF8.GetBytes(name);
        byte[] buffer = new byte[PgTextEscaping.MaxJsonStringLength(raw.Length) + 2];
        int length = PgTextEscaping.WriteJsonString(raw, buffer);
        buffer[length++] = (byte)':';
        buffer[length++] = (byte)' ';
        return buffer.AsSpan(0, length).ToArray();
    }
}

/// <summary>
/// map as text holding a JSON object: {"k1": v1, "k2": v2}. Keys become JSON strings of their PostgreSQL
/// text form (JSON keys must be strings); values follow the struct rules.
/// </summary>
internal sealed class MapEncoder(ValueEncoder key, ValueEncoder value) : TextLikeEncoder<MapArray>(PgTypeCatalog.Text)
{
    private int _entryOffset;

    public override bool IsPgValue => false;

    protected override void BindCore(IArrowArray array)
    {
        base.BindCore(array);
        StructArray entries = Array.KeyValues;
        _entryOffset = entries.Offset;
        key.Bind(entries.Fields[0]);
        value.Bind(entries.Fields[1]);
    }

    public override int MaxTextLength(int index) => MaxJsonLength(index);

    public override int WriteText(int index, Span<byte> destination) => WriteJson(index, destination);

    public override int MaxJsonLength(int index)
    {
        ReadOnlySpan<int> offsets = Array.ValueOffsets;
        long total = 2;
        for (int e = offsets[index]; e < offsets[index + 1]; e++)
        {
            int i = _entryOffset + e;
            total += 4 + (key.IsNull(i) ? 6 : PgTextEscaping.MaxJsonStringLength(key.MaxTextLength(i)));
            total += value.IsNull(i) ? 4 : value.MaxJsonLength(i);
        }

        return ListEncoder.Bound(total);
    }

    public override int WriteJson(int index, Span<byte> destination)
    {
        ReadOnlySpan<int> offsets = Array.ValueOffsets;
        int pos = 0;
        destination[pos++] = (byte)'{';
        for (int e = offsets[index]; e < offsets[index + 1]; e++)
        {
            if (e > offsets[index])
            {
                destination[pos++] = (byte)',';
                destination[pos++] = (byte)' ';
            }

            int i = _entryOffset + e;
            if (key.IsNull(i))
            {
                // Arrow forbids null keys; keep the output valid JSON anyway.
                "\"null\""u8.CopyTo(destination[pos..]);
                pos += 6;
            }
            else
            {
                Span<byte> slot = destination[pos..];
                pos += PgTextEscaping.QuoteJsonInPlace(slot, key.WriteText(i, slot));
            }

            destination[pos++] = (byte)':';
            destination[pos++] = (byte)' ';
            pos += StructEncoder.WriteJsonValue(value, i, destination[pos..]);
        }

        destination[pos++] = (byte)'}';
        return pos;
    }
}

/// <summary>
/// Dense or sparse union as text: the value of the member the type id selects, in that member's own
/// text form (JSON for nested members); NULL when that member's value is null.
/// </summary>
internal sealed class UnionEncoder : ValueEncoder
{
    private readonly ValueEncoder[] _members;
    private readonly int[] _memberByTypeId = new int[128];
    private UnionArray _array = null!;
    private DenseUnionArray? _denseArray;
    private int _typeIdDelta;
    private int _sparseChildDelta;

    public UnionEncoder(UnionType type, ValueEncoder[] members)
        : base(PgTypeCatalog.Text)
    {
        _members = members;
        System.Array.Fill(_memberByTypeId, -1);
        for (int m = 0; m < type.TypeIds.Length; m++)
        {
            _memberByTypeId[type.TypeIds[m] & 0x7F] = m;
        }
    }

    public override bool IsPgValue => false;

    protected override void BindCore(IArrowArray array)
    {
        _array = array as UnionArray ?? throw new ArgumentException($"expected an Arrow union array, got {array.GetType().Name}", nameof(array));
        _denseArray = _array as DenseUnionArray;
        IReadOnlyList<IArrowArray> children = _array.Fields;
        for (int m = 0; m < _members.Length; m++)
        {
            _members[m].Bind(children[m]);
        }

        // Arrow C# 23 slices type ids, dense offsets and sparse children to the union; older versions
        // did not (row = union offset + row). Tell them apart by length.
        _typeIdDelta = _array.TypeIds.Length == _array.Length ? 0 : _array.Offset;
        _sparseChildDelta = _denseArray is null && children.Count > 0 && children[0].Length != _array.Length ? _array.Offset : 0;
    }

    /// <summary>The selected member and the row to read in it.</summary>
    private ValueEncoder Member(int index, out int memberIndex)
    {
        int row = _typeIdDelta + index;
        int member = _memberByTypeId[_array.TypeIds[row] & 0x7F];
        if (member < 0)
        {
            throw new PgEncodingException("union type id not declared by the union type");
        }

        memberIndex = _denseArray is not null ? _denseArray.ValueOffsets[row] : _sparseChildDelta + index;
        return _members[member];
    }

    public override bool IsNull(int index) => Member(index, out int i).IsNull(i);

    public override int MaxTextLength(int index) => Member(index, out int i).MaxTextLength(i);

    public override int WriteText(int index, Span<byte> destination) => Member(index, out int i).WriteText(i, destination);

    public override int MaxBinaryLength(int index) => MaxTextLength(index);

    public override int WriteBinary(int index, Span<byte> destination) => WriteText(index, destination);

    public override int MaxJsonLength(int index) => Member(index, out int i).MaxJsonLength(i);

    public override int WriteJson(int index, Span<byte> destination) => Member(index, out int i).WriteJson(i, destination);
}

/// <summary>Dictionary-encoded values are sent as the value type; each row reads its index first.</summary>
internal sealed class DictionaryEncoder(ValueEncoder values, ArrowTypeId indexType) : ValueEncoder(values.Type, values.TypeModifier)
{
    private IArrowArray _indices = null!;

    public override bool IsPgValue => values.IsPgValue;

    protected override void BindCore(IArrowArray array)
    {
        DictionaryArray dictionary = array as DictionaryArray
            ?? throw new ArgumentException($"expected an Arrow dictionary array, got {array.GetType().Name}", nameof(array));
        _indices = dictionary.Indices;
        values.Bind(dictionary.Dictionary);
    }

    private int ValueIndex(int index) => indexType switch
    {
        ArrowTypeId.Int8 => ((Int8Array)_indices).Values[index],
        ArrowTypeId.UInt8 => ((UInt8Array)_indices).Values[index],
        ArrowTypeId.Int16 => ((Int16Array)_indices).Values[index],
        ArrowTypeId.UInt16 => ((UInt16Array)_indices).Values[index],
        ArrowTypeId.Int32 => ((Int32Array)_indices).Values[index],
        ArrowTypeId.UInt32 => checked((int)((UInt32Array)_indices).Values[index]),
        ArrowTypeId.Int64 => checked((int)((Int64Array)_indices).Values[index]),
        _ => checked((int)((UInt64Array)_indices).Values[index]),
    };

    public override bool IsNull(int index) => _indices.IsNull(index) || values.IsNull(ValueIndex(index));

    public override int MaxTextLength(int index) => values.MaxTextLength(ValueIndex(index));

    public override int WriteText(int index, Span<byte> destination) => values.WriteText(ValueIndex(index), destination);

    public override int MaxBinaryLength(int index) => values.MaxBinaryLength(ValueIndex(index));

    public override int WriteBinary(int index, Span<byte> destination) => values.WriteBinary(ValueIndex(index), destination);

    public override int MaxJsonLength(int index) => values.MaxJsonLength(ValueIndex(index));

    public override int WriteJson(int index, Span<byte> destination) => values.WriteJson(ValueIndex(index), destination);
}

/// <summary>Run-end encoded values are sent as the value type; each row finds its run.</summary>
internal sealed class RunEndEncodedEncoder(ValueEncoder values) : ValueEncoder(values.Type, values.TypeModifier)
{
    private RunEndEncodedArray _array = null!;

    public override bool IsPgValue => values.IsPgValue;

    protected override void BindCore(IArrowArray array)
    {
        _array = array as RunEndEncodedArray
            ?? throw new ArgumentException($"expected an Arrow run-end encoded array, got {array.GetType().Name}", nameof(array));
        values.Bind(_array.Values);
    }

    private int Physical(int index) => _array.FindPhysicalIndex(index);

    public override bool IsNull(int index) => values.IsNull(Physical(index));

    public override int MaxTextLength(int index) => values.MaxTextLength(Physical(index));

    public override int WriteText(int index, Span<byte> destination) => values.WriteText(Physical(index), destination);

    public override int MaxBinaryLength(int index) => values.MaxBinaryLength(Physical(index));

    public override int WriteBinary(int index, Span<byte> destination) => values.WriteBinary(Physical(index), destination);

    public override int MaxJsonLength(int index) => values.MaxJsonLength(Physical(index));

    public override int WriteJson(int index, Span<byte> destination) => values.WriteJson(Physical(index), destination);
}

/// <summary>Arrow's null type: every value is NULL, typed text.</summary>
internal sealed class NullEncoder() : ValueEncoder(PgTypeCatalog.Text)
{
    protected override void BindCore(IArrowArray array)
    {
    }

    public override bool IsNull(int index) => true;

    public override int MaxTextLength(int index) => 0;

    public override int WriteText(int index, Span<byte> destination) => 0;

    public override int MaxBinaryLength(int index) => 0;

    public override int WriteBinary(int index, Span<byte> destination) => 0;
}

using System.Buffers.Binary;
using Apache.Arrow;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// List / LargeList / FixedSizeList / ListView / LargeListView.
/// <para>
/// When the elements are PostgreSQL values (scalars, or lists of them) the list is a PostgreSQL array:
/// text is array_out ("{1,2,NULL}", nested lists as nested braces, elements quoted by the array_out
/// rule), binary is array_send (ndim, hasnull, element oid, dims with lower bound 1, elements). A
/// nested list is sent in binary as a multi-dimensional array, so it must be rectangular with no NULL
/// sub-lists (PostgreSQL's own rule); otherwise the row fails with 2202E.
/// </para>
/// <para>When the elements are nested data (structs, maps, unions) the list is text: a JSON array.</para>
/// </summary>
internal sealed class ListEncoder : ValueEncoder
{
    /// <summary>PostgreSQL's MAXDIM.</summary>
    public const int MaxDimensions = 6;

    private enum Layout : byte
    {
        List,
        LargeList,
        FixedSize,
        View,
        LargeView,
    }

    private readonly ValueEncoder _element;
    private readonly ListEncoder? _innerList;
    private readonly bool _pgArray;
    private readonly int _depth;
    private readonly int _elementOid;
    private Layout _layout;
    private IArrowArray _array = null!;
    private ListArray? _list;
    private LargeListArray? _largeList;
    private FixedSizeListArray? _fixedList;
    private ListViewArray? _view;
    private LargeListViewArray? _largeView;
    private int _fixedSize;

    private ListEncoder(PgTypeInfo type, ValueEncoder element, bool pgArray, int depth, int elementOid)
        : base(type)
    {
        _element = element;
        _pgArray = pgArray;
        _depth = depth;
        _elementOid = elementOid;
        _innerList = pgArray ? element as ListEncoder : null;
    }

    /// <summary>Builds the encoder for a list whose elements use <paramref name="element"/>.</summary>
    public static ListEncoder Create(ValueEncoder element)
    {
        if (element is ListEncoder { _pgArray: true } inner && inner._depth < MaxDimensions)
        {
            return new ListEncoder(inner.Type, element, pgArray: true, inner._depth + 1, inner._elementOid);
        }

        if (element.IsPgValue && element is not ListEncoder && element.Type.ArrayOid != 0)
        {
            return new ListEncoder(PgTypeCatalog.ArrayOf(element.Type), element, pgArray: true, 1, element.Type.Oid);
        }

        return new ListEncoder(PgTypeCatalog.Text, element, pgArray: false, 0, 0);
    }

    public override bool IsPgValue => _pgArray;

    protected override void BindCore(IArrowArray array)
    {
        _array = array;
        _list = array as ListArray;
        _largeList = array as LargeListArray;
        _fixedList = array as FixedSizeListArray;
        _view = array as ListViewArray;
        _largeView = array as LargeListViewArray;
        IArrowArray values;
        if (_list is not null)
        {
            _layout = Layout.List;
            values = _list.Values;
        }
        else if (_largeList is not null)
        {
            _layout = Layout.LargeList;
            values = _largeList.Values;
        }
        else if (_fixedList is not null)
        {
            _layout = Layout.FixedSize;
            _fixedSize = ((Apache.Arrow.Types.FixedSizeListType)_fixedList.Data.DataType).ListSize;
            values = _fixedList.Values;
        }
        else if (_view is not null)
        {
            _layout = Layout.View;
            values = _view.Values;
        }
        else if (_largeView is not null)
        {
            _layout = Layout.LargeView;
            values = _largeView.Values;
        }
        else
        {
            throw new ArgumentException($"expected an Arrow list array, got {array.GetType().Name}", nameof(array));
        }

        _element.Bind(values);
    }

    public override bool IsNull(int index) => _array.IsNull(index);

    /// <summary>The element range of list <paramref name="index"/> in the bound child array.</summary>
    private void Range(int index, out int start, out int count)
    {
        switch (_layout)
        {
            case Layout.List:
                {
                    ReadOnlySpan<int> offsets = _list!.ValueOffsets;
                    start = offsets[index];
                    count = offsets[index + 1] - start;
                    return;
                }

            case Layout.LargeList:
                {
                    ReadOnlySpan<long> offsets = _largeList!.ValueOffsets;
                    start = checked((int)offsets[index]);
                    count = checked((int)(offsets[index + 1] - offsets[index]));
                    return;
                }

            case Layout.FixedSize:
                start = (_fixedList!.Offset + index) * _fixedSize;
                count = _fixedSize;
                return;

            case Layout.View:
                start = _view!.ValueOffsets[index];
                count = _view.Sizes[index];
                return;

            default:
                start = checked((int)_largeView!.ValueOffsets[index]);
                count = checked((int)_largeView.Sizes[index]);
                return;
        }
    }

    public override int MaxTextLength(int index) => _pgArray ? MaxArrayTextLength(index) : MaxJsonLength(index);

    public override int WriteText(int index, Span<byte> destination) =>
        _pgArray ? WriteArrayText(index, destination) : WriteJson(index, destination);

    public override int MaxBinaryLength(int index) =>
        _pgArray ? 12 + (8 * _depth) + MaxLeafPayload(index) : MaxJsonLength(index);

    public override int WriteBinary(int index, Span<byte> destination) =>
        _pgArray ? WriteArrayBinary(index, destination) : WriteJson(index, destination);

    public override int MaxJsonLength(int index)
    {
        Range(index, out int start, out int count);
        long total = 2 + (2L * count);
        for (int k = 0; k < count; k++)
        {
            int i = start + k;
            total += _element.IsNull(i) ? 4 : _element.MaxJsonLength(i);
        }

        return Bound(total);
    }

    /// <summary>JSON array: [1, "a", null].</summary>
    public override int WriteJson(int index, Span<byte> destination)
    {
        Range(index, out int start, out int count);
        int pos = 0;
        destination[pos++] = (byte)'[';
        for (int k = 0; k < count; k++)
        {
            if (k > 0)
            {
                destination[pos++] = (byte)',';
                destination[pos++] = (byte)' ';
            }

            int i = start + k;
            if (_element.IsNull(i))
            {
                "null"u8.CopyTo(destination[pos..]);
                pos += 4;
            }
            else
            {
                pos += _element.WriteJson(i, destination[pos..]);
            }
        }

        destination[pos++] = (byte)']';
        return pos;
    }

    private int MaxArrayTextLength(int index)
    {
        Range(index, out int start, out int count);
        long total = 2 + (long)count;
        for (int k = 0; k < count; k++)
        {
            int i = start + k;
            total += _element.IsNull(i) ? 4
                : _innerList is not null ? _element.MaxTextLength(i)
                : PgTextEscaping.MaxArrayElementLength(_element.MaxTextLength(i));
        }

        return Bound(total);
    }

    private int WriteArrayText(int index, Span<byte> destination)
    {
        Range(index, out int start, out int count);
        int pos = 0;
        destination[pos++] = (byte)'{';
        for (int k = 0; k < count; k++)
        {
            if (k > 0)
            {
                destination[pos++] = (byte)',';
            }

            int i = start + k;
            if (_element.IsNull(i))
            {
                "NULL"u8.CopyTo(destination[pos..]);
                pos += 4;
            }
            else if (_innerList is not null)
            {
                pos += _element.WriteText(i, destination[pos..]);
            }
            else
            {
                Span<byte> slot = destination[pos..];
                pos += PgTextEscaping.QuoteArrayElementInPlace(slot, _element.WriteText(i, slot));
            }
        }

        destination[pos++] = (byte)'}';
        return pos;
    }

    /// <summary>Bound of the element section: each leaf's int32 length plus its value.</summary>
    private int MaxLeafPayload(int index)
    {
        Range(index, out int start, out int count);
        long total = 0;
        for (int k = 0; k < count; k++)
        {
            int i = start + k;
            if (_innerList is not null)
            {
                total += _innerList.IsNull(i) ? 0 : _innerList.MaxLeafPayload(i);
            }
            else
            {
                total += 4 + (_element.IsNull(i) ? 0 : _element.MaxBinaryLength(i));
            }
        }

        return Bound(total);
    }

    private int WriteArrayBinary(int index, Span<byte> destination)
    {
        Span<int> dims = stackalloc int[_depth];
        dims.Fill(-1);
        if (!TryGetDimensions(index, dims, 0))
        {
            throw new PgEncodingException(
                PgSqlStates.ArraySubscriptError,
                "multidimensional arrays must have sub-arrays with matching dimensions and no NULL sub-arrays");
        }

        int ndim = _depth;
        foreach (int d in dims)
        {
            if (d <= 0)
            {
                // Any empty dimension makes the whole array empty ('{}'), as in PostgreSQL.
                ndim = 0;
            }
        }

        BinaryPrimitives.WriteInt32BigEndian(destination, ndim);
        BinaryPrimitives.WriteInt32BigEndian(destination[8..], _elementOid);
        if (ndim == 0)
        {
            BinaryPrimitives.WriteInt32BigEndian(destination[4..], 0);
            return 12;
        }

        int pos = 12;
        foreach (int d in dims)
        {
            BinaryPrimitives.WriteInt32BigEndian(destination[pos..], d);
            BinaryPrimitives.WriteInt32BigEndian(destination[(pos + 4)..], 1);
            pos += 8;
        }

        bool hasNull = false;
        pos += WriteLeaves(index, destination[pos..], ref hasNull);
        BinaryPrimitives.WriteInt32BigEndian(destination[4..], hasNull ? 1 : 0);
        return pos;
    }

    private bool TryGetDimensions(int index, Span<int> dims, int level)
    {
        Range(index, out int start, out int count);
        if (dims[level] == -1)
        {
            dims[level] = count;
        }
        else if (dims[level] != count)
        {
            return false;
        }

        if (_innerList is null)
        {
            return true;
        }

        for (int k = 0; k < count; k++)
        {
            int i = start + k;
            if (_innerList.IsNull(i) || !_innerList.TryGetDimensions(i, dims, level + 1))
            {
                return false;
            }
        }

        return true;
    }

    private int WriteLeaves(int index, Span<byte> destination, ref bool hasNull)
    {
        Range(index, out int start, out int count);
        int pos = 0;
        for (int k = 0; k < count; k++)
        {
            int i = start + k;
            if (_innerList is not null)
            {
                pos += _innerList.WriteLeaves(i, destination[pos..], ref hasNull);
            }
            else if (_element.IsNull(i))
            {
                BinaryPrimitives.WriteInt32BigEndian(destination[pos..], -1);
                pos += 4;
                hasNull = true;
            }
            else
            {
                int written = _element.WriteBinary(i, destination[(pos + 4)..]);
                BinaryPrimitives.WriteInt32BigEndian(destination[pos..], written);
                pos += 4 + written;
            }
        }

        return pos;
    }

    internal static int Bound(long total) =>
        total <= int.MaxValue / 2 ? (int)total : throw new PgEncodingException(SqlStates.ProgramLimitExceeded, "value too large to send");
}

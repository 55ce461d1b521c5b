using System.Buffers.Binary;

namespace LakeOps.Edge.Protocols.Postgres.Client;

/// <summary>
/// Reads an array in PostgreSQL's binary format (<c>array_send</c>): Int32 dimensions, Int32 has-nulls flag,
/// Int32 element type OID, per dimension Int32 length and Int32 lower bound, then the elements in row-major
/// order, each an Int32 length (-1 for NULL) and its bytes.
/// </summary>
public ref struct PgBinaryArray
{
    /// <summary>PostgreSQL's MAXDIM.</summary>
    public const int MaxDimensions = 6;

    private readonly ReadOnlySpan<byte> _value;
    private int _position;
    private int _remaining;

    public PgBinaryArray(ReadOnlySpan<byte> value)
    {
        if (value.Length < 12)
        {
            throw new PgProtocolException("array value is truncated");
        }

        _value = value;
        Dimensions = BinaryPrimitives.ReadInt32BigEndian(value);
        ElementOid = BinaryPrimitives.ReadInt32BigEndian(value[8..]);
        if (Dimensions is < 0 or > MaxDimensions || value.Length < 12 + (8 * Dimensions))
        {
            throw new PgProtocolException("array value has an invalid dimension header");
        }

        long count = Dimensions == 0 ? 0 : 1;
        for (int i = 0; i < Dimensions; i++)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(value[(12 + (8 * i))..]);
            if (length < 0)
            {
                throw new PgProtocolException("array value has a negative dimension");
            }

            count *= length;
        }

        // Each element takes at least its 4-byte length.
        _position = 12 + (8 * Dimensions);
        if (count > (value.Length - _position) / 4)
        {
            throw new PgProtocolException("array value is shorter than its dimensions say");
        }

        Count = (int)count;
        _remaining = Count;
    }

    public int Dimensions { get; }

    public int ElementOid { get; }

    /// <summary>Number of elements over all dimensions.</summary>
    public int Count { get; }

    /// <summary>The length of dimension <paramref name="index"/>.</summary>
    public readonly int Length(int index) => BinaryPrimitives.ReadInt32BigEndian(_value[(12 + (8 * index))..]);

    /// <summary>The next element; <paramref name="isNull"/> is true for NULL.</summary>
    public ReadOnlySpan<byte> Next(out bool isNull)
    {
        if (_remaining == 0 || _value.Length - _position < 4)
        {
            throw new PgProtocolException("array value is truncated");
        }

        int length = BinaryPrimitives.ReadInt32BigEndian(_value[_position..]);
        _position += 4;
        _remaining--;
        if (length == -1)
        {
            isNull = true;
            return default;
        }

        if (length < 0 || length > _value.Length - _position)
        {
            throw new PgProtocolException("array element length out of range");
        }

        isNull = false;
        ReadOnlySpan<byte> element = _value.Slice(_position, length);
        _position += length;
        return element;
    }
}

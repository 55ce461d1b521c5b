using System.Buffers.Binary;

namespace LakeOps.Edge.Protocols.Postgres.Client;

/// <summary>
/// Walks the values of one DataRow ('D') body without copying: each value is a slice of the body.
/// Bounds are checked; a truncated or inconsistent row throws <see cref="PgProtocolException"/>.
/// </summary>
public ref struct PgDataRowReader
{
    private readonly ReadOnlySpan<byte> _body;
    private int _position;
    private int _remaining;

    public PgDataRowReader(ReadOnlySpan<byte> body)
    {
        if (body.Length < 2)
        {
            PgThrow.Truncated("DataRow");
        }

        _body = body;
        ColumnCount = BinaryPrimitives.ReadUInt16BigEndian(body);
        _remaining = ColumnCount;
        _position = 2;
    }

    public int ColumnCount { get; }

    /// <summary>The next value; <paramref name="isNull"/> is true for SQL NULL (and the span is empty).</summary>
    public ReadOnlySpan<byte> Next(out bool isNull)
    {
        if (_remaining == 0)
        {
            PgThrow.Malformed("DataRow", "more values read than the row holds");
        }

        if (_body.Length - _position < 4)
        {
            PgThrow.Truncated("DataRow");
        }

        int length = BinaryPrimitives.ReadInt32BigEndian(_body[_position..]);
        _position += 4;
        _remaining--;
        if (length == -1)
        {
            isNull = true;
            return default;
        }

        if (length < 0 || length > _body.Length - _position)
        {
            PgThrow.Malformed("DataRow", "value length out of range");
        }

        isNull = false;
        ReadOnlySpan<byte> value = _body.Slice(_position, length);
        _position += length;
        return value;
    }

    /// <summary>Throws unless every value was read and nothing follows the last one.</summary>
    public readonly void End()
    {
        if (_remaining != 0)
        {
            PgThrow.Malformed("DataRow", "fewer values read than the row holds");
        }

        if (_position != _body.Length)
        {
            PgThrow.TrailingBytes("DataRow", _body.Length - _position);
        }
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace LakeOps.Edge.Protocols.Postgres;

/// <summary>
/// Writes one message into a span obtained from <see cref="IBufferWriter{T}.GetSpan"/>. The writers
/// size each message exactly up front, so a message costs one GetSpan and one Advance.
/// </summary>
internal ref struct PgSpanWriter
{
    private readonly Span<byte> _span;
    private int _position;

    private PgSpanWriter(Span<byte> span, int position)
    {
        _span = span;
        _position = position;
    }

    /// <summary>Starts a typed message whose body is <paramref name="bodyLength"/> bytes.</summary>
    public static PgSpanWriter Begin(IBufferWriter<byte> writer, byte messageType, long bodyLength, string messageName)
    {
        long total = PgFrameScanner.HeaderLength + bodyLength;
        if (total > int.MaxValue)
        {
            PgThrow.MessageTooLarge(messageName);
        }

        Span<byte> span = writer.GetSpan((int)total)[..(int)total];
        span[0] = messageType;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], (int)(total - 1));
        return new PgSpanWriter(span, PgFrameScanner.HeaderLength);
    }

    /// <summary>Starts an untyped startup-phase packet whose body (after the length) is <paramref name="bodyLength"/> bytes.</summary>
    public static PgSpanWriter BeginUntyped(IBufferWriter<byte> writer, long bodyLength, string messageName)
    {
        long total = PgFrameScanner.StartupHeaderLength + bodyLength;
        if (total > int.MaxValue)
        {
            PgThrow.MessageTooLarge(messageName);
        }

        Span<byte> span = writer.GetSpan((int)total)[..(int)total];
        BinaryPrimitives.WriteInt32BigEndian(span, (int)total);
        return new PgSpanWriter(span, PgFrameScanner.StartupHeaderLength);
    }

    /// <summary>Commits the message; the size computed at Begin must match what was written.</summary>
    public readonly void Finish(IBufferWriter<byte> writer)
    {
        if (_position != _span.Length)
        {
            throw new InvalidOperationException("PostgreSQL message size was miscomputed");
        }

        writer.Advance(_position);
    }

    public void WriteByte(byte value) => _span[_position++] = value;

    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(_span[_position..], value);
        _position += 2;
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_span[_position..], value);
        _position += 2;
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_span[_position..], value);
        _position += 4;
    }

    public void WriteBytes(scoped ReadOnlySpan<byte> value)
    {
        value.CopyTo(_span[_position..]);
        _position += value.Length;
    }

    /// <summary>UTF-8 plus NUL; the string must not contain NUL (checked, <paramref name="paramName"/> names it).</summary>
    public void WriteCString(string value, string paramName)
    {
        int written = Encoding.UTF8.GetBytes(value, _span[_position..]);
        if (_span.Slice(_position, written).Contains((byte)0))
        {
            PgThrow.NulInString(paramName);
        }

        _position += written;
        _span[_position++] = 0;
    }

    /// <summary>UTF-8 plus NUL; NUL characters become '?' (for error text, which must never fail to send).</summary>
    public void WriteCStringSanitized(string value)
    {
        int written = Encoding.UTF8.GetBytes(value, _span[_position..]);
        _span.Slice(_position, written).Replace((byte)0, (byte)'?');
        _position += written;
        _span[_position++] = 0;
    }

    public void WriteCString(scoped ReadOnlySpan<byte> utf8, string paramName)
    {
        if (utf8.Contains((byte)0))
        {
            PgThrow.NulInString(paramName);
        }

        WriteBytes(utf8);
        _span[_position++] = 0;
    }

    /// <summary>Bytes a string takes as a C string.</summary>
    public static int CStringSize(string value) => Encoding.UTF8.GetByteCount(value) + 1;
}

using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;

namespace LakeOps.Edge.Protocols.Postgres;

/// <summary>
/// Forward-only big-endian reader over one message body. Every read checks bounds and throws
/// <see cref="PgProtocolException"/> naming the message, so parsers never index out of range.
/// </summary>
public ref struct PgReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _messageName;
    private int _position;

    /// <param name="data">The bytes to read (usually a message body).</param>
    /// <param name="messageName">Used in error messages, e.g. "Bind".</param>
    public PgReader(ReadOnlySpan<byte> data, string messageName = "PostgreSQL")
    {
        _data = data;
        _messageName = messageName;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _data.Length - _position;

    public readonly bool IsAtEnd => _position == _data.Length;

    /// <summary>Throws "... message is truncated" unless <paramref name="count"/> more bytes are available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Ensure(int count)
    {
        if ((uint)count > (uint)(_data.Length - _position))
        {
            Underflow(count);
        }
    }

    /// <summary>Throws unless every byte was consumed (trailing garbage is a protocol violation).</summary>
    public readonly void End()
    {
        if (_position != _data.Length)
        {
            PgThrow.TrailingBytes(_messageName, _data.Length - _position);
        }
    }

    public byte ReadByte()
    {
        Ensure(1);
        return _data[_position++];
    }

    public short ReadInt16()
    {
        Ensure(2);
        short value = BinaryPrimitives.ReadInt16BigEndian(_data[_position..]);
        _position += 2;
        return value;
    }

    /// <summary>PostgreSQL reads Int16 counts (parameters, columns, formats) as unsigned: up to 65535.</summary>
    public ushort ReadUInt16()
    {
        Ensure(2);
        ushort value = BinaryPrimitives.ReadUInt16BigEndian(_data[_position..]);
        _position += 2;
        return value;
    }

    public int ReadInt32()
    {
        Ensure(4);
        int value = BinaryPrimitives.ReadInt32BigEndian(_data[_position..]);
        _position += 4;
        return value;
    }

    /// <summary>A NUL-terminated string; returns its bytes without the NUL.</summary>
    public ReadOnlySpan<byte> ReadCString()
    {
        ReadOnlySpan<byte> rest = _data[_position..];
        int nul = rest.IndexOf((byte)0);
        if (nul < 0)
        {
            PgThrow.Malformed(_messageName, "string is not NUL-terminated");
        }

        _position += nul + 1;
        return rest[..nul];
    }

    /// <summary>A NUL-terminated UTF-8 string. Invalid UTF-8 throws (SQLSTATE 22021) rather than being replaced.</summary>
    public string ReadCStringAsString() => DecodeUtf8(ReadCString(), _messageName);

    /// <summary>Exactly <paramref name="count"/> bytes; a negative count is malformed.</summary>
    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0)
        {
            PgThrow.Malformed(_messageName, "negative length");
        }

        Ensure(count);
        ReadOnlySpan<byte> value = _data.Slice(_position, count);
        _position += count;
        return value;
    }

    /// <summary>Everything not read yet.</summary>
    public ReadOnlySpan<byte> ReadRemaining()
    {
        ReadOnlySpan<byte> value = _data[_position..];
        _position = _data.Length;
        return value;
    }

    /// <summary>Strict UTF-8 decoding shared by the message parsers.</summary>
    public static string DecodeUtf8(ReadOnlySpan<byte> utf8, string messageName)
    {
        if (utf8.IsEmpty)
        {
            return string.Empty;
        }

        if (!Utf8.IsValid(utf8))
        {
            PgThrow.InvalidUtf8(messageName);
        }

        return Encoding.UTF8.GetString(utf8);
    }

    private readonly void Underflow(int count)
    {
        if (count < 0)
        {
            PgThrow.Malformed(_messageName, "negative length");
        }

        PgThrow.Truncated(_messageName);
    }
}

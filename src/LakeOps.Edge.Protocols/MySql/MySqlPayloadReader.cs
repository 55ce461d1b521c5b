using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace LakeOps.Edge.Protocols.MySql;

/// <summary>
/// Forward-only little-endian reader over one packet payload. Every read checks bounds and throws
/// <see cref="MySqlProtocolException"/> naming the packet and field, so parsers never index out of range.
/// </summary>
public ref struct MySqlPayloadReader
{
    /// <summary>The length-encoded-integer prefix that means NULL in text rows.</summary>
    public const byte NullMarker = 0xFB;

    private readonly ReadOnlySpan<byte> _data;
    private readonly string _packetName;
    private int _position;

    /// <param name="data">The payload (without the 4-byte header).</param>
    /// <param name="packetName">Used in error messages, e.g. "HandshakeResponse41".</param>
    public MySqlPayloadReader(ReadOnlySpan<byte> data, string packetName = "MySQL")
    {
        _data = data;
        _packetName = packetName;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _data.Length - _position;

    public readonly bool IsAtEnd => _position == _data.Length;

    /// <summary>The unread bytes, without consuming them.</summary>
    public readonly ReadOnlySpan<byte> RemainingSpan => _data[_position..];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Ensure(int count, string field)
    {
        if ((uint)count > (uint)(_data.Length - _position))
        {
            MySqlThrow.Truncated(_packetName, field);
        }
    }

    public readonly byte PeekByte(string field = "byte")
    {
        Ensure(1, field);
        return _data[_position];
    }

    public byte ReadByte(string field = "byte")
    {
        Ensure(1, field);
        return _data[_position++];
    }

    public ushort ReadUInt16(string field = "int<2>")
    {
        Ensure(2, field);
        ushort value = BinaryPrimitives.ReadUInt16LittleEndian(_data[_position..]);
        _position += 2;
        return value;
    }

    public int ReadUInt24(string field = "int<3>")
    {
        Ensure(3, field);
        int value = _data[_position] | (_data[_position + 1] << 8) | (_data[_position + 2] << 16);
        _position += 3;
        return value;
    }

    public uint ReadUInt32(string field = "int<4>")
    {
        Ensure(4, field);
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(_data[_position..]);
        _position += 4;
        return value;
    }

    public ulong ReadUInt64(string field = "int<8>")
    {
        Ensure(8, field);
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(_data[_position..]);
        _position += 8;
        return value;
    }

    /// <summary>int&lt;lenenc&gt;: 0xFB (NULL) and 0xFF (invalid) are rejected; use <see cref="TryReadLengthEncodedInteger"/> for rows.</summary>
    public ulong ReadLengthEncodedInteger(string field = "int<lenenc>")
    {
        if (!TryReadLengthEncodedInteger(out ulong value, field))
        {
            MySqlThrow.Malformed(_packetName, $"{field} is NULL (0xFB) where a number is required");
        }

        return value;
    }

    /// <summary>int&lt;lenenc&gt; that may be NULL (0xFB): false for NULL (consumed), true with the value otherwise.</summary>
    public bool TryReadLengthEncodedInteger(out ulong value, string field = "int<lenenc>")
    {
        byte first = ReadByte(field);
        switch (first)
        {
            case < 0xFB:
                value = first;
                return true;
            case NullMarker:
                value = 0;
                return false;
            case 0xFC:
                value = ReadUInt16(field);
                return true;
            case 0xFD:
                value = (ulong)ReadUInt24(field);
                return true;
            case 0xFE:
                value = ReadUInt64(field);
                return true;
            default:
                MySqlThrow.Malformed(_packetName, $"{field} starts with 0xFF, which is not a length-encoded integer");
                value = 0;
                return false;
        }
    }

    /// <summary>string&lt;lenenc&gt;: a length-encoded integer, then that many bytes.</summary>
    public ReadOnlySpan<byte> ReadLengthEncodedBytes(string field = "string<lenenc>")
    {
        ulong length = ReadLengthEncodedInteger(field);
        if (length > (ulong)Remaining)
        {
            MySqlThrow.Truncated(_packetName, field);
        }

        return ReadBytes((int)length, field);
    }

    /// <summary>string&lt;lenenc&gt; or NULL (0xFB): false for NULL.</summary>
    public bool TryReadLengthEncodedBytes(out ReadOnlySpan<byte> value, string field = "string<lenenc>")
    {
        if (!TryReadLengthEncodedInteger(out ulong length, field))
        {
            value = default;
            return false;
        }

        if (length > (ulong)Remaining)
        {
            MySqlThrow.Truncated(_packetName, field);
        }

        value = ReadBytes((int)length, field);
        return true;
    }

    public string ReadLengthEncodedString(string field = "string<lenenc>") => Encoding.UTF8.GetString(ReadLengthEncodedBytes(field));

    /// <summary>string&lt;NUL&gt;: bytes up to a 0x00 terminator (consumed, not returned).</summary>
    public ReadOnlySpan<byte> ReadNullTerminatedBytes(string field = "string<NUL>")
    {
        int end = _data[_position..].IndexOf((byte)0);
        if (end < 0)
        {
            MySqlThrow.Malformed(_packetName, $"{field} is not NUL-terminated");
        }

        ReadOnlySpan<byte> value = _data.Slice(_position, end);
        _position += end + 1;
        return value;
    }

    public string ReadNullTerminatedString(string field = "string<NUL>") => Encoding.UTF8.GetString(ReadNullTerminatedBytes(field));

    /// <summary>string&lt;fix&gt;: exactly <paramref name="count"/> bytes.</summary>
    public ReadOnlySpan<byte> ReadBytes(int count, string field = "string<fix>")
    {
        Ensure(count, field);
        ReadOnlySpan<byte> value = _data.Slice(_position, count);
        _position += count;
        return value;
    }

    /// <summary>string&lt;EOF&gt;: everything up to the end of the payload.</summary>
    public ReadOnlySpan<byte> ReadRest()
    {
        ReadOnlySpan<byte> value = _data[_position..];
        _position = _data.Length;
        return value;
    }

    public void Skip(int count, string field = "filler")
    {
        Ensure(count, field);
        _position += count;
    }

    /// <summary>Throws unless every byte was consumed.</summary>
    public readonly void End()
    {
        if (_position != _data.Length)
        {
            MySqlThrow.Malformed(_packetName, $"{_data.Length - _position} unexpected bytes after its last field");
        }
    }
}

using System.Buffers.Binary;
using System.Text;

namespace LakeOps.Edge.Protocols.MySql;

/// <summary>
/// Writes the fields of one packet payload into the span reserved by <see cref="MySqlPacketWriter.BeginPacket"/>.
/// Little-endian fixed integers, length-encoded integers and strings. Writes past the reserved size throw
/// (a sizing bug, never input-dependent when callers bound their sizes).
/// </summary>
public ref struct MySqlPayloadWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    internal MySqlPayloadWriter(Span<byte> buffer, bool large)
    {
        _buffer = buffer;
        IsLarge = large;
        _position = MySqlPacketScanner.HeaderLength;
    }

    /// <summary>Payload bytes written so far.</summary>
    public readonly int Length => _position - MySqlPacketScanner.HeaderLength;

    /// <summary>Room left in the reservation.</summary>
    public readonly int Available => _buffer.Length - _position;

    internal readonly bool IsLarge { get; }

    /// <summary>Header plus payload, as reserved.</summary>
    internal readonly Span<byte> Buffer => _buffer;

    /// <summary>The unwritten rest of the reservation, for formatting values in place; follow with <see cref="Advance"/>.</summary>
    public readonly Span<byte> FreeSpan => _buffer[_position..];

    public void Advance(int count)
    {
        if ((uint)count > (uint)Available)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "advanced past the reserved packet size");
        }

        _position += count;
    }

    public void WriteByte(byte value) => _buffer[_position++] = value;

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[_position..], value);
        _position += 2;
    }

    public void WriteUInt24(int value)
    {
        Span<byte> span = _buffer.Slice(_position, 3);
        span[0] = (byte)value;
        span[1] = (byte)(value >> 8);
        span[2] = (byte)(value >> 16);
        _position += 3;
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer[_position..], value);
        _position += 4;
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer[_position..], value);
        _position += 8;
    }

    /// <summary>int&lt;lenenc&gt;.</summary>
    public void WriteLengthEncodedInteger(ulong value) => _position += WriteLengthEncodedInteger(_buffer[_position..], value);

    /// <summary>The NULL marker (0xFB) of text rows.</summary>
    public void WriteNull() => _buffer[_position++] = MySqlPayloadReader.NullMarker;

    public void WriteBytes(scoped ReadOnlySpan<byte> value)
    {
        value.CopyTo(_buffer[_position..]);
        _position += value.Length;
    }

    public void WriteZeros(int count)
    {
        _buffer.Slice(_position, count).Clear();
        _position += count;
    }

    /// <summary>string&lt;lenenc&gt;.</summary>
    public void WriteLengthEncodedBytes(scoped ReadOnlySpan<byte> value)
    {
        WriteLengthEncodedInteger((ulong)value.Length);
        WriteBytes(value);
    }

    /// <summary>string&lt;lenenc&gt; of UTF-8 text.</summary>
    public void WriteLengthEncodedString(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        WriteLengthEncodedInteger((ulong)length);
        _position += Encoding.UTF8.GetBytes(value, _buffer[_position..]);
    }

    /// <summary>string&lt;NUL&gt;.</summary>
    public void WriteNullTerminated(scoped ReadOnlySpan<byte> value)
    {
        WriteBytes(value);
        _buffer[_position++] = 0;
    }

    /// <summary>string&lt;NUL&gt; of UTF-8 text.</summary>
    public void WriteNullTerminatedString(string value)
    {
        _position += Encoding.UTF8.GetBytes(value, _buffer[_position..]);
        _buffer[_position++] = 0;
    }

    /// <summary>UTF-8 text without any length or terminator (string&lt;EOF&gt;).</summary>
    public void WriteString(string value) => _position += Encoding.UTF8.GetBytes(value, _buffer[_position..]);

    /// <summary>Bytes int&lt;lenenc&gt; takes for <paramref name="value"/>: 1, 3, 4 or 9.</summary>
    public static int LengthEncodedIntegerSize(ulong value) => value switch
    {
        < 0xFB => 1,
        <= 0xFFFF => 3,
        <= 0xFFFFFF => 4,
        _ => 9,
    };

    /// <summary>Bytes string&lt;lenenc&gt; takes for UTF-8 <paramref name="value"/>.</summary>
    public static int LengthEncodedStringSize(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        return LengthEncodedIntegerSize((ulong)length) + length;
    }

    /// <summary>Writes int&lt;lenenc&gt; into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int WriteLengthEncodedInteger(Span<byte> destination, ulong value)
    {
        switch (value)
        {
            case < 0xFB:
                destination[0] = (byte)value;
                return 1;
            case <= 0xFFFF:
                destination[0] = 0xFC;
                BinaryPrimitives.WriteUInt16LittleEndian(destination[1..], (ushort)value);
                return 3;
            case <= 0xFFFFFF:
                destination[0] = 0xFD;
                destination[1] = (byte)value;
                destination[2] = (byte)(value >> 8);
                destination[3] = (byte)(value >> 16);
                return 4;
            default:
                destination[0] = 0xFE;
                BinaryPrimitives.WriteUInt64LittleEndian(destination[1..], value);
                return 9;
        }
    }
}

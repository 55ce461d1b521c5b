using System.Buffers;

namespace LakeOps.Edge.Protocols.MySql;

public enum MySqlPacketStatus
{
    /// <summary>More bytes are needed; nothing was consumed (call again with the same start and more data).</summary>
    Incomplete,

    /// <summary>A whole logical packet starts the buffer; see <see cref="MySqlPacketScanner.Frame"/>.</summary>
    Complete,

    /// <summary>The logical payload is larger than the caller's limit (known as soon as the headers say so).</summary>
    TooLarge,

    /// <summary>A continuation packet's sequence id does not follow the previous one.</summary>
    OutOfOrder,
}

/// <summary>Where one logical packet (possibly several physical packets) lies in the buffer.</summary>
/// <param name="PayloadLength">Logical payload size: the sum of the physical payloads.</param>
/// <param name="FrameLength">Bytes the packet takes in the buffer, headers included (what to consume).</param>
/// <param name="SequenceId">Sequence id of the first physical packet.</param>
/// <param name="LastSequenceId">Sequence id of the last physical packet (the next packet continues from it).</param>
/// <param name="PacketCount">Physical packets: 1 unless the payload is 16 MiB - 1 or longer.</param>
public readonly record struct MySqlFrame(int PayloadLength, long FrameLength, byte SequenceId, byte LastSequenceId, int PacketCount)
{
    /// <summary>True when the payload is one contiguous run after a single 4-byte header.</summary>
    public bool IsSinglePacket => PacketCount == 1;
}

/// <summary>
/// Finds complete MySQL packets (3-byte little-endian payload length, 1-byte sequence id, payload) in a
/// <see cref="ReadOnlySequence{T}"/> without decoding payloads. Physical packets of exactly 0xFFFFFF bytes
/// are continued by the next one; the scanner joins them into one logical frame. Resumable: it remembers
/// the headers it already checked, so a large frame arriving in many reads is not rescanned from the start.
/// Call <see cref="TryRead"/> with the buffer starting at the frame's first byte each time; the state resets
/// itself after any result other than <see cref="MySqlPacketStatus.Incomplete"/>.
/// </summary>
public struct MySqlPacketScanner
{
    public const int HeaderLength = 4;

    /// <summary>Largest physical payload; a packet this long is continued by the next.</summary>
    public const int MaxPacketPayload = 0xFFFFFF;

    // Progress inside the current frame: bytes of complete physical packets seen, their payload sum.
    private long _scanned;
    private long _payload;
    private int _packets;
    private byte _firstSequence;
    private byte _lastSequence;

    /// <summary>The frame found by the last <see cref="TryRead"/> that returned <see cref="MySqlPacketStatus.Complete"/>.</summary>
    public MySqlFrame Frame { get; private set; }

    /// <summary>Forgets any partial progress (e.g. after the caller dropped buffered bytes).</summary>
    public void Reset()
    {
        _scanned = 0;
        _payload = 0;
        _packets = 0;
    }

    /// <summary>
    /// Scans for a complete logical packet at the start of <paramref name="buffer"/>. A payload longer than
    /// <paramref name="maxPayloadLength"/> gives <see cref="MySqlPacketStatus.TooLarge"/> as soon as the headers
    /// prove it, before the bytes arrive.
    /// </summary>
    public MySqlPacketStatus TryRead(in ReadOnlySequence<byte> buffer, int maxPayloadLength)
    {
        long available = buffer.Length;
        Span<byte> header = stackalloc byte[HeaderLength];
        while (true)
        {
            if (available < _scanned + HeaderLength)
            {
                return MySqlPacketStatus.Incomplete;
            }

            ReadOnlySpan<byte> first = buffer.FirstSpan;
            if (_scanned == 0 && first.Length >= HeaderLength)
            {
                first[..HeaderLength].CopyTo(header);
            }
            else
            {
                buffer.Slice(_scanned, HeaderLength).CopyTo(header);
            }

            int length = header[0] | (header[1] << 8) | (header[2] << 16);
            byte sequence = header[3];
            if (_packets == 0)
            {
                _firstSequence = sequence;
            }
            else if (sequence != (byte)(_lastSequence + 1))
            {
                Reset();
                return MySqlPacketStatus.OutOfOrder;
            }

            long payload = _payload + length;
            if (payload > maxPayloadLength)
            {
                Frame = new MySqlFrame((int)Math.Min(payload, int.MaxValue), _scanned + HeaderLength + length, _firstSequence, sequence, _packets + 1);
                Reset();
                return MySqlPacketStatus.TooLarge;
            }

            long end = _scanned + HeaderLength + length;
            if (available < end)
            {
                // Remember nothing about this packet yet: its header is re-read (cheaply) when more data arrives.
                return MySqlPacketStatus.Incomplete;
            }

            _scanned = end;
            _payload = payload;
            _packets++;
            _lastSequence = sequence;
            if (length < MaxPacketPayload)
            {
                Frame = new MySqlFrame((int)payload, end, _firstSequence, sequence, _packets);
                Reset();
                return MySqlPacketStatus.Complete;
            }
        }
    }

    /// <summary>
    /// Copies the logical payload of <paramref name="frame"/> (at the start of <paramref name="buffer"/>) into
    /// <paramref name="destination"/>, skipping the headers; destination must hold <see cref="MySqlFrame.PayloadLength"/> bytes.
    /// </summary>
    public static void CopyPayload(in ReadOnlySequence<byte> buffer, in MySqlFrame frame, Span<byte> destination)
    {
        if (destination.Length < frame.PayloadLength)
        {
            throw new ArgumentException("destination is shorter than the payload", nameof(destination));
        }

        long offset = 0;
        int written = 0;
        for (int i = 0; i < frame.PacketCount; i++)
        {
            int length = i < frame.PacketCount - 1 ? MaxPacketPayload : frame.PayloadLength - written;
            buffer.Slice(offset + HeaderLength, length).CopyTo(destination[written..]);
            written += length;
            offset += HeaderLength + length;
        }
    }

    /// <summary>The payload of a single-packet frame as a slice of <paramref name="buffer"/> (no copy).</summary>
    public static ReadOnlySequence<byte> SinglePayload(in ReadOnlySequence<byte> buffer, in MySqlFrame frame)
    {
        if (!frame.IsSinglePacket)
        {
            throw new InvalidOperationException("the frame spans several packets; use CopyPayload");
        }

        return buffer.Slice(HeaderLength, frame.PayloadLength);
    }
}

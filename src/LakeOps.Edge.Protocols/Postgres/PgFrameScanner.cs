using System.Buffers;
using System.Buffers.Binary;

namespace LakeOps.Edge.Protocols.Postgres;

public enum PgFrameStatus
{
    /// <summary>More bytes are needed; nothing was consumed.</summary>
    Incomplete,

    /// <summary>A whole frame of <c>frameLength</c> bytes starts the buffer.</summary>
    Complete,

    /// <summary>The declared length is above the caller's limit (<c>frameLength</c> is the declared size).</summary>
    TooLarge,

    /// <summary>The declared length is impossible; the stream cannot be resynchronised.</summary>
    Malformed,
}

/// <summary>
/// Finds message boundaries without decoding bodies, so a session can wait for a whole frame (or
/// forward frames it never decodes). Only the header is inspected; it may span buffer segments.
/// </summary>
public static class PgFrameScanner
{
    /// <summary>Startup-phase packets (StartupMessage, SSLRequest, ...) carry no type byte.</summary>
    public const int StartupHeaderLength = 4;

    /// <summary>Type byte plus Int32 length.</summary>
    public const int HeaderLength = 5;

    /// <summary>Int32 length plus Int32 protocol/request code.</summary>
    public const int MinStartupLength = 8;

    /// <summary>
    /// Scans an untyped startup-phase packet: Int32 length (including itself), then the body.
    /// <paramref name="frameLength"/> is the total packet size whenever the length field was read
    /// (also for <see cref="PgFrameStatus.Incomplete"/> and <see cref="PgFrameStatus.TooLarge"/>), else 0.
    /// </summary>
    public static PgFrameStatus TryReadStartupFrame(in ReadOnlySequence<byte> buffer, int maxLength, out int frameLength)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length >= StartupHeaderLength)
        {
            return CheckStartup(BinaryPrimitives.ReadInt32BigEndian(first), buffer.Length, maxLength, out frameLength);
        }

        if (buffer.Length < StartupHeaderLength)
        {
            frameLength = 0;
            return PgFrameStatus.Incomplete;
        }

        Span<byte> header = stackalloc byte[StartupHeaderLength];
        buffer.Slice(0, StartupHeaderLength).CopyTo(header);
        return CheckStartup(BinaryPrimitives.ReadInt32BigEndian(header), buffer.Length, maxLength, out frameLength);
    }

    /// <inheritdoc cref="TryReadStartupFrame(in ReadOnlySequence{byte}, int, out int)"/>
    public static PgFrameStatus TryReadStartupFrame(ReadOnlySpan<byte> buffer, int maxLength, out int frameLength)
    {
        if (buffer.Length < StartupHeaderLength)
        {
            frameLength = 0;
            return PgFrameStatus.Incomplete;
        }

        return CheckStartup(BinaryPrimitives.ReadInt32BigEndian(buffer), buffer.Length, maxLength, out frameLength);
    }

    /// <summary>
    /// Scans a regular message: Byte1 type, Int32 length (including itself, excluding the type), body.
    /// <paramref name="frameLength"/> is 1 + length whenever the header was read, else 0;
    /// <paramref name="messageType"/> is set as soon as one byte is available.
    /// </summary>
    public static PgFrameStatus TryReadFrame(in ReadOnlySequence<byte> buffer, int maxLength, out byte messageType, out int frameLength)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length >= HeaderLength)
        {
            messageType = first[0];
            return CheckFrame(BinaryPrimitives.ReadInt32BigEndian(first[1..]), buffer.Length, maxLength, out frameLength);
        }

        return TryReadFrameSlow(buffer, maxLength, out messageType, out frameLength);
    }

    /// <inheritdoc cref="TryReadFrame(in ReadOnlySequence{byte}, int, out byte, out int)"/>
    public static PgFrameStatus TryReadFrame(ReadOnlySpan<byte> buffer, int maxLength, out byte messageType, out int frameLength)
    {
        if (buffer.Length < HeaderLength)
        {
            messageType = buffer.IsEmpty ? (byte)0 : buffer[0];
            frameLength = 0;
            return PgFrameStatus.Incomplete;
        }

        messageType = buffer[0];
        return CheckFrame(BinaryPrimitives.ReadInt32BigEndian(buffer[1..]), buffer.Length, maxLength, out frameLength);
    }

    // The header straddles segments (or the first segment is empty): copy the five bytes out.
    private static PgFrameStatus TryReadFrameSlow(in ReadOnlySequence<byte> buffer, int maxLength, out byte messageType, out int frameLength)
    {
        long available = buffer.Length;
        if (available < HeaderLength)
        {
            messageType = available == 0 ? (byte)0 : FirstByte(buffer);
            frameLength = 0;
            return PgFrameStatus.Incomplete;
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        messageType = header[0];
        return CheckFrame(BinaryPrimitives.ReadInt32BigEndian(header[1..]), available, maxLength, out frameLength);
    }

    private static byte FirstByte(in ReadOnlySequence<byte> buffer)
    {
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            if (!segment.IsEmpty)
            {
                return segment.Span[0];
            }
        }

        return 0;
    }

    private static PgFrameStatus CheckStartup(int length, long available, int maxLength, out int frameLength)
    {
        if (length < MinStartupLength)
        {
            frameLength = 0;
            return PgFrameStatus.Malformed;
        }

        frameLength = length;
        if (length > maxLength)
        {
            return PgFrameStatus.TooLarge;
        }

        return available >= length ? PgFrameStatus.Complete : PgFrameStatus.Incomplete;
    }

    private static PgFrameStatus CheckFrame(int length, long available, int maxLength, out int frameLength)
    {
        if (length < 4)
        {
            frameLength = 0;
            return PgFrameStatus.Malformed;
        }

        // length is at most int.MaxValue, so 1 + length only overflows int for that single value.
        long total = 1L + length;
        frameLength = (int)Math.Min(total, int.MaxValue);
        if (total > maxLength)
        {
            return PgFrameStatus.TooLarge;
        }

        return available >= total ? PgFrameStatus.Complete : PgFrameStatus.Incomplete;
    }
}

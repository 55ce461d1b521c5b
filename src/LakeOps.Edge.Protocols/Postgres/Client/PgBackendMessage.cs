using System.Buffers;

namespace LakeOps.Edge.Protocols.Postgres.Client;

/// <summary>
/// Cuts whole backend messages off the front of a byte stream, the way a client reads a server. The
/// header may straddle segments; the body is a slice of the input (no copy).
/// </summary>
public static class PgBackendMessage
{
    /// <summary>
    /// True when <paramref name="buffer"/> starts with a whole message: <paramref name="type"/> and
    /// <paramref name="body"/> are set and <paramref name="buffer"/> is advanced past it. False when more
    /// bytes are needed (nothing consumed). Throws <see cref="PgProtocolException"/> for a length above
    /// <paramref name="maxLength"/> or an impossible length.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxLength, out byte type, out ReadOnlySequence<byte> body)
    {
        PgFrameStatus status = PgFrameScanner.TryReadFrame(buffer, maxLength, out type, out int frameLength);
        switch (status)
        {
            case PgFrameStatus.Complete:
                body = buffer.Slice(PgFrameScanner.HeaderLength, frameLength - PgFrameScanner.HeaderLength);
                buffer = buffer.Slice(frameLength);
                return true;
            case PgFrameStatus.Incomplete:
                body = default;
                return false;
            case PgFrameStatus.TooLarge:
                throw new PgProtocolException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"the server sent a {PgMessageTypes.DescribeBackend(type)} message of {frameLength} bytes, above the limit of {maxLength}"));
            default:
                throw new PgProtocolException($"the server sent a malformed {PgMessageTypes.DescribeBackend(type)} message header");
        }
    }

    /// <summary>The body as one span: the first segment when it holds it all, else a copy into <paramref name="scratch"/> (grown as needed).</summary>
    public static ReadOnlySpan<byte> Contiguous(in ReadOnlySequence<byte> body, ref byte[] scratch)
    {
        if (body.IsSingleSegment)
        {
            return body.FirstSpan;
        }

        int length = checked((int)body.Length);
        if (scratch.Length < length)
        {
            scratch = new byte[Math.Max(length, scratch.Length * 2)];
        }

        body.CopyTo(scratch);
        return scratch.AsSpan(0, length);
    }
}

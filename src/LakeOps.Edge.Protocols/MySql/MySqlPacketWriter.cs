using System.Buffers;

namespace LakeOps.Edge.Protocols.MySql;

/// <summary>
/// Writes MySQL packets into an <see cref="IBufferWriter{T}"/> and numbers them. A packet is built with
/// <see cref="BeginPacket"/> (which reserves the 4-byte header and room for up to the stated payload),
/// written through the returned <see cref="MySqlPayloadWriter"/>, and committed by <see cref="EndPacket"/>,
/// which fills the header in. Payloads of 16 MiB - 1 or more are split into continuation packets
/// (each full one followed by the next, an exact multiple ended by an empty packet).
/// Small packets cost one GetSpan and one Advance and allocate nothing; large ones are built in a
/// pooled scratch buffer and copied out in pieces. Not thread-safe: one per connection direction.
/// </summary>
public sealed class MySqlPacketWriter
{
    private byte[]? _scratch;
    private bool _open;

    public MySqlPacketWriter(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Output = output;
    }

    /// <summary>Where packets go; replaceable (e.g. after a TLS upgrade).</summary>
    public IBufferWriter<byte> Output { get; set; }

    /// <summary>The sequence id of the next packet written (wraps at 256).</summary>
    public byte SequenceId { get; set; }

    /// <summary>Payload bytes written since construction or the last <see cref="ResetCounters"/>.</summary>
    public long PayloadBytesWritten { get; private set; }

    /// <summary>Starts a new command exchange: the next packet gets <paramref name="next"/> (0 for a server reply to a fresh command is 1).</summary>
    public void ResetSequence(byte next = 0) => SequenceId = next;

    public void ResetCounters() => PayloadBytesWritten = 0;

    /// <summary>
    /// Reserves a packet for a payload of at most <paramref name="maxPayloadLength"/> bytes. Exactly one
    /// <see cref="EndPacket"/> must follow before the next packet.
    /// </summary>
    public MySqlPayloadWriter BeginPacket(int maxPayloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxPayloadLength);
        if (_open)
        {
            throw new InvalidOperationException("the previous packet was not ended");
        }

        _open = true;
        int total = checked(MySqlPacketScanner.HeaderLength + maxPayloadLength);
        if (maxPayloadLength < MySqlPacketScanner.MaxPacketPayload)
        {
            return new MySqlPayloadWriter(Output.GetSpan(total)[..total], large: false);
        }

        // May need splitting: build it aside, copy out in 16 MiB pieces at EndPacket.
        if (_scratch is null || _scratch.Length < total)
        {
            ReturnScratch();
            _scratch = ArrayPool<byte>.Shared.Rent(total);
        }

        return new MySqlPayloadWriter(_scratch.AsSpan(0, total), large: true);
    }

    /// <summary>Commits the packet built in <paramref name="payload"/>: fills its header(s) and advances the output.</summary>
    public void EndPacket(scoped in MySqlPayloadWriter payload)
    {
        if (!_open)
        {
            throw new InvalidOperationException("no packet was begun");
        }

        _open = false;
        int length = payload.Length;
        PayloadBytesWritten += length;
        if (!payload.IsLarge)
        {
            WriteHeader(payload.Buffer, length, SequenceId++);
            Output.Advance(MySqlPacketScanner.HeaderLength + length);
            return;
        }

        try
        {
            WriteSplit(payload.Buffer.Slice(MySqlPacketScanner.HeaderLength, length));
        }
        finally
        {
            // Large scratch buffers are not kept between packets: one huge packet should not pin memory.
            ReturnScratch();
        }
    }

    /// <summary>Writes a whole payload as one packet (or continuation packets when it is 16 MiB - 1 or longer).</summary>
    public void WritePacket(scoped ReadOnlySpan<byte> payload)
    {
        if (_open)
        {
            throw new InvalidOperationException("the previous packet was not ended");
        }

        PayloadBytesWritten += payload.Length;
        if (payload.Length < MySqlPacketScanner.MaxPacketPayload)
        {
            int total = MySqlPacketScanner.HeaderLength + payload.Length;
            Span<byte> span = Output.GetSpan(total);
            WriteHeader(span, payload.Length, SequenceId++);
            payload.CopyTo(span[MySqlPacketScanner.HeaderLength..]);
            Output.Advance(total);
            return;
        }

        WriteSplit(payload);
    }

    private void WriteSplit(scoped ReadOnlySpan<byte> payload)
    {
        int offset = 0;
        while (true)
        {
            int chunk = Math.Min(MySqlPacketScanner.MaxPacketPayload, payload.Length - offset);
            int total = MySqlPacketScanner.HeaderLength + chunk;
            Span<byte> span = Output.GetSpan(total);
            WriteHeader(span, chunk, SequenceId++);
            payload.Slice(offset, chunk).CopyTo(span[MySqlPacketScanner.HeaderLength..]);
            Output.Advance(total);
            offset += chunk;

            // A packet shorter than the maximum (possibly empty) ends the logical packet.
            if (chunk < MySqlPacketScanner.MaxPacketPayload)
            {
                return;
            }
        }
    }

    private static void WriteHeader(Span<byte> destination, int length, byte sequenceId)
    {
        destination[0] = (byte)length;
        destination[1] = (byte)(length >> 8);
        destination[2] = (byte)(length >> 16);
        destination[3] = sequenceId;
    }

    private void ReturnScratch()
    {
        if (_scratch is not null)
        {
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = null;
        }
    }
}

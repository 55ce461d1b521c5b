using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.Engines.MySql;

/// <summary>
/// Reads whole logical MySQL packets from a <see cref="PipeReader"/>. A packet stays valid until the next
/// read or <see cref="Release"/>: a single physical packet is handed out as a slice of the pipe's buffer,
/// a packet joined from 16 MiB pieces is copied into a scratch buffer. The raw bytes (headers included)
/// are available too, for forwarding a packet unchanged.
/// </summary>
public sealed class MySqlPacketReader
{
    private MySqlPacketScanner _scanner;
    private ReadOnlySequence<byte> _buffer;
    private long _consume;
    private bool _holding;
    private byte[]? _scratch;

    public MySqlPacketReader(PipeReader reader) => Reader = reader;

    /// <summary>The pipe; replaceable (e.g. after a TLS upgrade) while no packet is held.</summary>
    public PipeReader Reader { get; set; }

    /// <summary>The frame of the packet held now.</summary>
    public MySqlFrame Frame { get; private set; }

    /// <summary>Sequence id of the held packet's last physical packet.</summary>
    public byte LastSequenceId => Frame.LastSequenceId;

    /// <summary>The held packet as it arrived, headers included.</summary>
    public ReadOnlySequence<byte> RawFrame => _buffer.Slice(0, Frame.FrameLength);

    /// <summary>
    /// The next packet's payload, or null when the peer closed the connection between packets. Throws
    /// <see cref="MySqlProtocolException"/> for a packet over <paramref name="maxPayloadLength"/>, out-of-order
    /// continuation packets, or a connection closed in the middle of a packet.
    /// </summary>
    public ValueTask<ReadOnlyMemory<byte>?> ReadAsync(int maxPayloadLength, CancellationToken cancellationToken)
    {
        Release();
        if (Reader.TryRead(out ReadResult result) && TryTake(result, maxPayloadLength, out ReadOnlyMemory<byte>? payload))
        {
            return new ValueTask<ReadOnlyMemory<byte>?>(payload);
        }

        return ReadSlowAsync(maxPayloadLength, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadOnlyMemory<byte>?> ReadSlowAsync(int maxPayloadLength, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (TryTake(result, maxPayloadLength, out ReadOnlyMemory<byte>? payload))
            {
                return payload;
            }
        }
    }

    /// <summary>Takes a complete packet (or the end of the stream) from a read result; otherwise examines everything and returns false.</summary>
    private bool TryTake(in ReadResult result, int maxPayloadLength, out ReadOnlyMemory<byte>? payload)
    {
        ReadOnlySequence<byte> buffer = result.Buffer;
        MySqlPacketStatus status = _scanner.TryRead(buffer, maxPayloadLength);
        switch (status)
        {
            case MySqlPacketStatus.Complete:
                MySqlFrame frame = _scanner.Frame;
                Frame = frame;
                _buffer = buffer;
                _consume = frame.FrameLength;
                _holding = true;
                if (frame.IsSinglePacket)
                {
                    ReadOnlySequence<byte> single = buffer.Slice(MySqlPacketScanner.HeaderLength, frame.PayloadLength);
                    if (single.IsSingleSegment)
                    {
                        payload = single.First;
                        return true;
                    }
                }

                if (_scratch is null || _scratch.Length < frame.PayloadLength)
                {
                    ReturnScratch();
                    _scratch = ArrayPool<byte>.Shared.Rent(Math.Max(frame.PayloadLength, 4096));
                }

                MySqlPacketScanner.CopyPayload(buffer, frame, _scratch);
                payload = _scratch.AsMemory(0, frame.PayloadLength);
                return true;
            case MySqlPacketStatus.Incomplete:
                Reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    if (buffer.IsEmpty)
                    {
                        payload = null;
                        return true;
                    }

                    throw new MySqlProtocolException("the connection closed in the middle of a packet");
                }

                payload = default;
                return false;
            case MySqlPacketStatus.TooLarge:
                Reader.AdvanceTo(buffer.Start, buffer.End);
                MySqlThrow.TooLarge(_scanner.Frame.PayloadLength, maxPayloadLength);
                payload = default;
                return false;
            default:
                Reader.AdvanceTo(buffer.Start, buffer.End);
                throw new MySqlProtocolException("Got packets out of order");
        }
    }

    /// <summary>Consumes the held packet (idempotent).</summary>
    public void Release()
    {
        if (_holding)
        {
            _holding = false;
            Reader.AdvanceTo(_buffer.GetPosition(_consume));
            _buffer = default;

            // Big scratch buffers are not kept: one huge packet should not pin memory for the connection's life.
            if (_scratch is not null && _scratch.Length > 1 << 20)
            {
                ReturnScratch();
            }
        }
    }

    /// <summary>Returns pooled memory; call once the reader is no longer used.</summary>
    public void ReturnScratch()
    {
        if (_scratch is not null)
        {
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = null;
        }
    }
}

using System.Buffers;
using System.IO.Pipelines;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Engines.Postgres;

/// <summary>
/// Reads whole backend messages from a server connection's pipe, one at a time. A message body is
/// handed out straight from the pipe's buffer when it lies in one segment (the usual case), else it is
/// copied into a reused scratch array; either way it stays valid until the next <see cref="ReadAsync"/>
/// or <see cref="Release"/>. Messages already buffered are returned synchronously.
/// </summary>
public sealed class PgMessageReader
{
    /// <summary>Largest backend message accepted (PostgreSQL's own limit on a field value is 1 GB).</summary>
    public const int MaxMessageSize = (1024 * 1024 * 1024) + (64 * 1024);

    private const int ScratchKeepLimit = 1024 * 1024;

    private readonly PipeReader _pipe;
    private ReadOnlySequence<byte> _buffer;
    private bool _holding;
    private byte[] _scratch = [];

    public PgMessageReader(PipeReader pipe)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        _pipe = pipe;
    }

    /// <summary>Type byte of the message last read.</summary>
    public byte Type { get; private set; }

    /// <summary>Body (after the 5-byte header) of the message last read.</summary>
    public ReadOnlyMemory<byte> Body { get; private set; }

    /// <summary>
    /// The next message's type; its body is in <see cref="Body"/>. Throws <see cref="IOException"/> when the
    /// server closed the connection and <see cref="PgProtocolException"/> on a malformed frame.
    /// </summary>
    public ValueTask<byte> ReadAsync(CancellationToken cancellationToken)
    {
        if (_holding && TryTake())
        {
            return new ValueTask<byte>(Type);
        }

        return ReadSlowAsync(cancellationToken);
    }

    /// <summary>Gives the pipe back (consumed up to the end of the last message read), so others may read it directly.</summary>
    public void Release()
    {
        if (_holding)
        {
            _holding = false;
            _pipe.AdvanceTo(_buffer.Start);
            _buffer = default;
        }

        Body = default;

        // A one-off huge message should not pin its copy for the connection's lifetime.
        if (_scratch.Length > ScratchKeepLimit)
        {
            _scratch = [];
        }
    }

    private async ValueTask<byte> ReadSlowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_holding)
            {
                _holding = false;
                _pipe.AdvanceTo(_buffer.Start, _buffer.End);
            }

            ReadResult result = await _pipe.ReadAsync(cancellationToken).ConfigureAwait(false);
            _buffer = result.Buffer;
            _holding = true;
            if (TryTake())
            {
                return Type;
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                Release();
                throw new IOException(result.IsCanceled ? "the read was cancelled" : "the server closed the connection");
            }
        }
    }

    private bool TryTake()
    {
        PgFrameStatus status = PgFrameScanner.TryReadFrame(_buffer, MaxMessageSize, out byte type, out int frameLength);
        switch (status)
        {
            case PgFrameStatus.Complete:
                ReadOnlySequence<byte> body = _buffer.Slice(PgFrameScanner.HeaderLength, frameLength - PgFrameScanner.HeaderLength);
                Body = body.IsSingleSegment ? body.First : Copy(body);
                Type = type;
                _buffer = _buffer.Slice(frameLength);
                return true;
            case PgFrameStatus.Incomplete:
                return false;
            case PgFrameStatus.TooLarge:
                throw new PgProtocolException($"the server sent a {PgMessageTypes.DescribeBackend(type)} message larger than {MaxMessageSize} bytes");
            default:
                throw new PgProtocolException($"the server sent a malformed {PgMessageTypes.DescribeBackend(type)} message header");
        }
    }

    private ReadOnlyMemory<byte> Copy(in ReadOnlySequence<byte> body)
    {
        int length = (int)body.Length;
        if (_scratch.Length < length)
        {
            _scratch = new byte[Math.Max(length, Math.Min(_scratch.Length * 2, MaxMessageSize))];
        }

        body.CopyTo(_scratch);
        return _scratch.AsMemory(0, length);
    }
}

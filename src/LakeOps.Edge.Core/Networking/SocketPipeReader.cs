using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Tasks.Sources;

namespace LakeOps.Edge.Core.Networking;

/// <summary>
/// A <see cref="PipeReader"/> straight on a <see cref="PolledSocket"/>, for plain TCP: one contiguous
/// buffer, rented when data arrives and returned as soon as everything in it was consumed, so an idle
/// connection holds no buffer and every read hands its caller a single-segment sequence. Compared with
/// a stream pipe this skips the stream layer, the segment chain and the per-read cancellation
/// registration, which is most of what a forwarded frame costs in user space.
/// </summary>
public sealed class SocketPipeReader : PipeReader, IValueTaskSource<ReadResult>
{
    private readonly PolledSocket _socket;
    private readonly int _bufferSize;
    private byte[]? _buffer;
    private int _start;
    private int _end;

    // The caller examined everything it was given: the next read must wait for new bytes.
    private bool _examinedAll = true;
    private bool _endOfStream;
    private bool _completed;

    // A read waiting for the socket: completed by OnReceived, without an async state machine per read.
    private readonly Action _onReceived;
    private ManualResetValueTaskSourceCore<ReadResult> _pending;
    private ValueTask<int> _receiving;
    private CancellationToken _cancellationToken;
    private bool _waitingForData;

    /// <param name="socket">The connected socket (plain TCP).</param>
    /// <param name="bufferSize">Size of the buffer rented when data arrives; it grows for larger messages.</param>
    public SocketPipeReader(PolledSocket socket, int bufferSize)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 256);
        _socket = socket;
        _bufferSize = bufferSize;
        _onReceived = OnReceived;
    }

    /// <summary>Bytes received and not yet consumed (for tests and diagnostics).</summary>
    public int Buffered => _end - _start;

    /// <summary>Whether a buffer is held now (an idle reader holds none).</summary>
    public bool HoldsBuffer => _buffer is not null;

    private ReadOnlySequence<byte> Unconsumed =>
        _buffer is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(_buffer, _start, _end - _start);

    public override bool TryRead(out ReadResult result)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_socket.TakeReceiveInterrupt())
        {
            result = new ReadResult(Unconsumed, isCanceled: true, _endOfStream);
            return true;
        }

        if ((_end > _start && !_examinedAll) || _endOfStream)
        {
            result = new ReadResult(Unconsumed, isCanceled: false, _endOfStream);
            return true;
        }

        result = default;
        return false;
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (TryRead(out ReadResult result))
        {
            return new ValueTask<ReadResult>(result);
        }

        try
        {
            if (Receive(cancellationToken, newRead: true, out result))
            {
                return new ValueTask<ReadResult>(result);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            return ValueTask.FromException<ReadResult>(ex);
        }

        return new ValueTask<ReadResult>(this, _pending.Version);
    }

    /// <summary>
    /// Receives until a read result is ready (true) or the socket must wait (false: the result comes
    /// through <see cref="_pending"/> when the socket completes). An idle reader first waits for data
    /// without a buffer, and rents one only when data is there.
    /// </summary>
    /// <param name="cancellationToken">The read's token.</param>
    /// <param name="newRead">
    /// True when a caller starts a read (the completion source is reset for it); false when a completion
    /// continues the same read, whose caller already holds the source's current version.
    /// </param>
    /// <param name="result">The read result when ready.</param>
    private bool Receive(CancellationToken cancellationToken, bool newRead, out ReadResult result)
    {
        while (true)
        {
            ValueTask<int> receiving;
            if (_buffer is null)
            {
                _waitingForData = true;
                receiving = _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
            }
            else
            {
                _waitingForData = false;
                MakeRoom();
                receiving = _socket.ReceiveAsync(_buffer.AsMemory(_end), cancellationToken);
            }

            if (!receiving.IsCompleted)
            {
                // Reset once per read: resetting again would orphan the continuation the caller registered.
                if (newRead)
                {
                    _pending.Reset();
                }

                _cancellationToken = cancellationToken;
                _receiving = receiving;
                receiving.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onReceived);
                result = default;
                return false;
            }

            if (Received(receiving.GetAwaiter().GetResult(), out result))
            {
                return true;
            }
        }
    }

    /// <summary>Applies one socket receive; false when it was the wait for data and the receive itself comes next.</summary>
    private bool Received(int received, out ReadResult result)
    {
        if (received < 0)
        {
            ReleaseIfEmpty();
            result = new ReadResult(Unconsumed, isCanceled: true, isCompleted: false);
            return true;
        }

        if (_waitingForData)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
            result = default;
            return false;
        }

        if (received == 0)
        {
            _endOfStream = true;
            ReleaseIfEmpty();
        }
        else
        {
            _end += received;
        }

        _examinedAll = false;
        result = new ReadResult(Unconsumed, isCanceled: false, _endOfStream);
        return true;
    }

    /// <summary>The socket completed a receive the reader was waiting on (on the loop thread for inline sockets).</summary>
    private void OnReceived()
    {
        ValueTask<int> receiving = _receiving;
        _receiving = default;
        try
        {
            if (Received(receiving.GetAwaiter().GetResult(), out ReadResult result) || Receive(_cancellationToken, newRead: false, out result))
            {
                _pending.SetResult(result);
            }
        }
        catch (Exception ex)
        {
            _pending.SetException(ex);
        }
    }

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token) => _pending.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _pending.GetStatus(token);

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _pending.OnCompleted(continuation, state, token, flags);

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_buffer is null)
        {
            _examinedAll = true;
            return;
        }

        int consumedAt = Position(consumed);
        int examinedAt = Position(examined);
        if (consumedAt < _start || consumedAt > _end || examinedAt < consumedAt || examinedAt > _end)
        {
            throw new InvalidOperationException("AdvanceTo was given a position outside the last read's buffer");
        }

        _start = consumedAt;
        _examinedAll = examinedAt == _end;
        ReleaseIfEmpty();
    }

    public override void CancelPendingRead() => _socket.InterruptReceive();

    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        Release();
    }

    private int Position(SequencePosition position)
    {
        object? owner = position.GetObject();
        return owner is null || ReferenceEquals(owner, _buffer)
            ? position.GetInteger()
            : throw new InvalidOperationException("AdvanceTo was given a position of another buffer");
    }

    /// <summary>Frees space at the end: moves a partial message to the front, or grows for a large one.</summary>
    private void MakeRoom()
    {
        byte[] buffer = _buffer!;
        int pending = _end - _start;
        if (_end < buffer.Length && (_start == 0 || buffer.Length - _end >= _bufferSize / 4))
        {
            return;
        }

        byte[] target = pending * 2 > buffer.Length ? ArrayPool<byte>.Shared.Rent(buffer.Length * 2) : buffer;
        buffer.AsSpan(_start, pending).CopyTo(target);
        if (!ReferenceEquals(target, buffer))
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _buffer = target;
        }

        _start = 0;
        _end = pending;
    }

    private void ReleaseIfEmpty()
    {
        if (_start == _end)
        {
            Release();
        }
    }

    private void Release()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        _start = _end = 0;
        _examinedAll = true;
    }
}

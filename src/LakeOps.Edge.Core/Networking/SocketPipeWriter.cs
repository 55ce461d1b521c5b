using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace LakeOps.Edge.Core.Networking;

/// <summary>
/// A <see cref="PipeWriter"/> straight on a <see cref="PolledSocket"/>, for plain TCP: writes gather in
/// one contiguous buffer (rented on first write, grown for large messages) and a flush is one send,
/// which the socket usually completes at once. The buffer goes back to the pool after each flush, so an
/// idle connection holds none.
/// </summary>
public sealed class SocketPipeWriter : PipeWriter
{
    private readonly PolledSocket _socket;
    private readonly int _bufferSize;
    private byte[]? _buffer;
    private int _written;
    private bool _completed;
    private volatile bool _flushCanceled;

    /// <param name="socket">The connected socket (plain TCP).</param>
    /// <param name="bufferSize">Size of the buffer rented by the first write after a flush.</param>
    public SocketPipeWriter(PolledSocket socket, int bufferSize)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 256);
        _socket = socket;
        _bufferSize = bufferSize;
    }

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _written;

    /// <summary>Whether a buffer is held now (an idle writer holds none).</summary>
    public bool HoldsBuffer => _buffer is not null;

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public override void Advance(int bytes)
    {
        if ((uint)bytes > (uint)((_buffer?.Length ?? 0) - _written))
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), "advanced past the memory handed out");
        }

        _written += bytes;
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _flushCanceled = false;
        if (_written == 0)
        {
            return default;
        }

        ValueTask sending = _socket.SendAsync(_buffer.AsMemory(0, _written), cancellationToken);
        if (sending.IsCompletedSuccessfully)
        {
            sending.GetAwaiter().GetResult();
            Release();
            return default;
        }

        return FlushSlowAsync(sending);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FlushResult> FlushSlowAsync(ValueTask sending)
    {
        try
        {
            await sending.ConfigureAwait(false);
            return default;
        }
        catch (OperationCanceledException) when (_flushCanceled)
        {
            _flushCanceled = false;
            return new FlushResult(isCanceled: true, isCompleted: false);
        }
        finally
        {
            Release();
        }
    }

    /// <summary>
    /// Interrupts a flush waiting for a peer that does not read (the connection is unusable after). Unlike
    /// a stream pipe, a cancel with no flush pending is not remembered: a session that stops a stuck pump
    /// may still flush its farewell error afterwards.
    /// </summary>
    public override void CancelPendingFlush()
    {
        _flushCanceled = true;
        _socket.InterruptSend();
    }

    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        Release();
    }

    private void Reserve(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        int needed = Math.Max(sizeHint, 1);
        if (_buffer is null)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _bufferSize));
        }
        else if (_buffer.Length - _written < needed)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _written + needed));
            _buffer.AsSpan(0, _written).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
    }

    private void Release()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        _written = 0;
    }
}

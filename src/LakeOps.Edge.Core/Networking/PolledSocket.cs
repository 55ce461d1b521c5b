using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace LakeOps.Edge.Core.Networking;

/// <summary>
/// A connected TCP socket driven by a <see cref="SocketEventLoop"/> instead of .NET's socket engine.
/// One receive and one send may be outstanding at a time (a stream's contract). Readiness is
/// tracked here: a receive calls recv only when the loop said data arrived or the last read filled
/// its buffer, and a short read marks the socket drained (epoll reports the next arrival), so the
/// request/response rhythm of a SQL protocol costs one recv and one send per message, no EAGAIN.
/// A zero-byte receive waits for data without a buffer. It owns the file descriptor: the .NET
/// <see cref="Socket"/> that accepted or connected it is let go at once (idle connections are many, and
/// that object with its handle and cached endpoints is a quarter of an idle session's memory).
/// </summary>
public sealed class PolledSocket : IDisposable
{
    private readonly int _fd;

    // The peer's address as bytes, not an IPEndPoint: it is only formatted for log lines and audit records.
    private readonly UInt128 _peerAddress;
    private readonly ushort _peerPort;
    private readonly AddressFamily _peerFamily;

    private readonly SocketEventLoop _loop;
    private readonly Lock _gate = new();
    private readonly ReceiveOperation _receive;
    private readonly SendOperation _send;

    // Guarded by _gate.
    private bool _readable = true;
    private bool _writable = true;
    private bool _peerClosed;
    private bool _closed;
    private bool _receivePending;
    private bool _sendPending;
    private bool _receiveInterrupted;
    private Memory<byte> _receiveBuffer;
    private ReadOnlyMemory<byte> _sendRemaining;

    private PolledSocket(int fd, IPEndPoint? peer, SocketEventLoop loop, bool writable)
    {
        _fd = fd;
        if (peer is not null)
        {
            Span<byte> bytes = stackalloc byte[16];
            bytes.Clear();
            peer.Address.TryWriteBytes(bytes[(peer.AddressFamily == AddressFamily.InterNetworkV6 ? 0 : 12)..], out _);
            _peerAddress = BinaryPrimitives.ReadUInt128BigEndian(bytes);
            _peerPort = (ushort)peer.Port;
            _peerFamily = peer.AddressFamily;
        }

        _loop = loop;
        _writable = writable;
        _receive = new ReceiveOperation(this);
        _send = new SendOperation(this);
        try
        {
            LinuxSockets.SetNonBlocking(fd);
            loop.Register(this, fd);
        }
        catch
        {
            LinuxSockets.close(fd);
            throw;
        }
    }

    /// <summary>
    /// Takes over an accepted or connected socket (it must not have been used asynchronously by .NET): from
    /// here on this object owns its descriptor, and <paramref name="socket"/> must not be used again.
    /// </summary>
    public static PolledSocket Attach(Socket socket, SocketEventLoop? loop = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        IPEndPoint? peer = socket.RemoteEndPoint as IPEndPoint;
        return new PolledSocket(TakeDescriptor(socket), peer, loop ?? SocketEventLoop.NextShared(), writable: true);
    }

    /// <summary>
    /// The socket's descriptor, which the caller now owns: the .NET socket no longer closes it (not when
    /// disposed, not when finalized), so it can be dropped.
    /// </summary>
    private static int TakeDescriptor(Socket socket)
    {
        int fd = (int)socket.Handle;
        socket.SafeHandle.SetHandleAsInvalid();
        GC.SuppressFinalize(socket);
        return fd;
    }

    /// <summary>Connects to the first address of <paramref name="host"/> that accepts, without .NET's socket engine.</summary>
    public static async ValueTask<PolledSocket> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        IPAddress[] addresses = IPAddress.TryParse(host, out IPAddress? literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        SocketException? last = null;
        foreach (IPAddress address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            PolledSocket? polled = null;
            try
            {
                // connect(2) first, then register: epoll then reports exactly the connection's completion.
                var endPoint = new IPEndPoint(address, port);
                bool connected = Connect(socket, endPoint);
                polled = new PolledSocket(TakeDescriptor(socket), endPoint, SocketEventLoop.NextShared(), writable: connected);
                if (!connected)
                {
                    await polled.SendAsync(ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                    int error = LinuxSockets.PendingError(polled._fd);
                    if (error != 0)
                    {
                        throw LinuxSockets.Error(error);
                    }
                }

                return polled;
            }
            catch (Exception ex)
            {
                if (polled is null)
                {
                    socket.Dispose();
                }
                else
                {
                    polled.Dispose();
                }

                if (ex is not SocketException socketError)
                {
                    throw;
                }

                last = socketError;
            }
        }

        throw last!;
    }

    /// <summary>Non-blocking connect(2): true when already connected, false when in progress.</summary>
    private static unsafe bool Connect(Socket socket, IPEndPoint endPoint)
    {
        LinuxSockets.SetNonBlocking((int)socket.Handle);
        SocketAddress address = endPoint.Serialize();
        int rc;
        fixed (byte* p = address.Buffer.Span)
        {
            rc = LinuxSockets.connect((int)socket.Handle, p, (uint)address.Size);
        }

        if (rc == 0)
        {
            return true;
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno == LinuxSockets.EINPROGRESS ? false : throw LinuxSockets.Error(errno);
    }

    /// <summary>The loop's registration (slot and generation), set by <see cref="SocketEventLoop.Register"/>.</summary>
    internal ulong Token { get; set; }

    /// <summary>The peer as text (for logs and audit records), e.g. <c>127.0.0.1:50432</c>; <c>?</c> when unknown.</summary>
    public string RemoteEndPoint
    {
        get
        {
            if (_peerFamily == AddressFamily.Unspecified)
            {
                return "?";
            }

            Span<byte> bytes = stackalloc byte[16];
            BinaryPrimitives.WriteUInt128BigEndian(bytes, _peerAddress);
            var address = new IPAddress(_peerFamily == AddressFamily.InterNetworkV6 ? bytes : bytes[12..]);
            return new IPEndPoint(address, _peerPort).ToString();
        }
    }

    /// <summary>
    /// Whether the work that follows a completed receive or send runs on the loop thread (true: no
    /// thread hop, for code that never blocks) or on the thread pool (false, the default: code that
    /// may call a blocking engine such as embedded DuckDB).
    /// </summary>
    public bool InlineCompletions { get; set; }

    public bool IsClosed
    {
        get
        {
            lock (_gate)
            {
                return _closed;
            }
        }
    }

    /// <summary>
    /// Receives up to buffer.Length bytes; 0 means the peer closed (or, for an empty buffer, that data is
    /// waiting), -1 that <see cref="InterruptReceive"/> interrupted it.
    /// </summary>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (_receivePending)
            {
                throw new InvalidOperationException("a receive is already pending on this socket");
            }

            if (_receiveInterrupted)
            {
                _receiveInterrupted = false;
                return new ValueTask<int>(-1);
            }

            if (_readable)
            {
                if (buffer.IsEmpty)
                {
                    return new ValueTask<int>(0);
                }

                int received = TryReceive(buffer.Span, out SocketException? error);
                if (error is not null)
                {
                    return ValueTask.FromException<int>(new IOException(error.Message, error));
                }

                if (received >= 0)
                {
                    return new ValueTask<int>(received);
                }
            }

            _receive.Reset(InlineCompletions);
            _receiveBuffer = buffer;
            _receivePending = true;
        }

        _receive.WatchCancellation(cancellationToken);
        return new ValueTask<int>(_receive, _receive.Version);
    }

    /// <summary>
    /// Ends the pending receive with -1, or, when none is pending, the next one (a pipe's CancelPendingRead).
    /// </summary>
    public void InterruptReceive()
    {
        lock (_gate)
        {
            if (!_receivePending)
            {
                _receiveInterrupted = true;
                return;
            }

            _receivePending = false;
            _receiveBuffer = default;
        }

        _receive.Succeed(-1);
    }

    /// <summary>Consumes an interrupt owed to the next receive; true when there was one.</summary>
    public bool TakeReceiveInterrupt()
    {
        if (!Volatile.Read(ref _receiveInterrupted))
        {
            return false;
        }

        lock (_gate)
        {
            bool owed = _receiveInterrupted;
            _receiveInterrupted = false;
            return owed;
        }
    }

    /// <summary>Ends the pending send with an <see cref="OperationCanceledException"/> (a pipe's CancelPendingFlush); the stream is unusable after.</summary>
    public void InterruptSend() => CancelSend(CancellationToken.None);

    /// <summary>Sends all of <paramref name="data"/>; completes when the kernel has taken the last byte.</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (_sendPending)
            {
                throw new InvalidOperationException("a send is already pending on this socket");
            }

            if (_writable)
            {
                SocketException? error = TrySend(ref data);
                if (error is not null)
                {
                    return ValueTask.FromException(new IOException(error.Message, error));
                }

                if (data.IsEmpty)
                {
                    return ValueTask.CompletedTask;
                }
            }

            _send.Reset(InlineCompletions);
            _sendRemaining = data;
            _sendPending = true;
        }

        _send.WatchCancellation(cancellationToken);
        return new ValueTask(_send, _send.Version);
    }

    /// <summary>Blocking receive for callers that insist on synchronous streams (poll(2), never the loop).</summary>
    public int Receive(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_closed, this);
                int received = TryReceive(buffer, out SocketException? error);
                if (error is not null)
                {
                    throw new IOException(error.Message, error);
                }

                if (received >= 0)
                {
                    return received;
                }
            }

            WaitFor(LinuxSockets.POLLIN);
        }
    }

    /// <summary>Blocking send, as <see cref="Receive"/>.</summary>
    public unsafe void Send(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_closed, this);
                fixed (byte* p = data)
                {
                    nint sent = LinuxSockets.send(_fd, p, (nuint)data.Length, LinuxSockets.MSG_NOSIGNAL);
                    if (sent >= 0)
                    {
                        data = data[(int)sent..];
                        continue;
                    }
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != LinuxSockets.EAGAIN && errno != LinuxSockets.EINTR)
                {
                    throw new IOException(LinuxSockets.Error(errno).Message, LinuxSockets.Error(errno));
                }
            }

            WaitFor(LinuxSockets.POLLOUT);
        }
    }

    private unsafe void WaitFor(short events)
    {
        var poll = new LinuxSockets.PollFd { Fd = _fd, Events = events };
        LinuxSockets.poll(&poll, 1, 1000);
    }

    /// <summary>Called on the loop thread with the epoll event mask.</summary>
    internal void OnEvents(uint events)
    {
        const uint Closed = LinuxSockets.EPOLLRDHUP | LinuxSockets.EPOLLHUP | LinuxSockets.EPOLLERR;
        if ((events & (LinuxSockets.EPOLLIN | Closed)) != 0)
        {
            OnReadable((events & Closed) != 0);
        }

        if ((events & (LinuxSockets.EPOLLOUT | LinuxSockets.EPOLLHUP | LinuxSockets.EPOLLERR)) != 0)
        {
            OnWritable();
        }
    }

    private void OnReadable(bool peerClosed)
    {
        int received;
        SocketException? error = null;
        lock (_gate)
        {
            _readable = true;
            _peerClosed |= peerClosed;
            if (!_receivePending)
            {
                return;
            }

            if (_receiveBuffer.IsEmpty)
            {
                received = 0;
            }
            else
            {
                received = TryReceive(_receiveBuffer.Span, out error);
                if (received < 0 && error is null)
                {
                    return; // Spurious: nothing to read after all; the next edge brings it.
                }
            }

            _receivePending = false;
            _receiveBuffer = default;
        }

        if (error is not null)
        {
            _receive.Fail(new IOException(error.Message, error));
        }
        else
        {
            _receive.Succeed(received);
        }
    }

    private void OnWritable()
    {
        SocketException? error;
        lock (_gate)
        {
            _writable = true;
            if (!_sendPending)
            {
                return;
            }

            error = TrySend(ref _sendRemaining);
            if (error is null && !_sendRemaining.IsEmpty)
            {
                return;
            }

            _sendPending = false;
            _sendRemaining = default;
        }

        if (error is not null)
        {
            _send.Fail(new IOException(error.Message, error));
        }
        else
        {
            _send.Succeed(0);
        }
    }

    /// <summary>recv under the gate: bytes received (0 = end of stream), or -1 when nothing is there yet.</summary>
    private unsafe int TryReceive(Span<byte> buffer, out SocketException? error)
    {
        error = null;
        while (true)
        {
            nint received;
            fixed (byte* p = buffer)
            {
                received = LinuxSockets.recv(_fd, p, (nuint)buffer.Length, 0);
            }

            if (received >= 0)
            {
                // A short read drained the socket (TCP returns what is queued, up to the buffer);
                // edge-triggered epoll reports the next arrival, so skip the recv that would say EAGAIN.
                // Not once the peer has closed: its FIN came with the same edge as the last data, and
                // the next recv must see the end of the stream rather than wait for an edge that never comes.
                if (received < buffer.Length && received > 0 && !_peerClosed)
                {
                    _readable = false;
                }

                return (int)received;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == LinuxSockets.EINTR)
            {
                continue;
            }

            if (errno == LinuxSockets.EAGAIN)
            {
                _readable = false;
                return -1;
            }

            error = LinuxSockets.Error(errno);
            return -1;
        }
    }

    /// <summary>send under the gate until done or the kernel buffer is full (then the loop reports EPOLLOUT).</summary>
    private unsafe SocketException? TrySend(ref ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            nint sent;
            fixed (byte* p = data.Span)
            {
                sent = LinuxSockets.send(_fd, p, (nuint)data.Length, LinuxSockets.MSG_NOSIGNAL);
            }

            if (sent >= 0)
            {
                data = data[(int)sent..];
                continue;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == LinuxSockets.EINTR)
            {
                continue;
            }

            if (errno == LinuxSockets.EAGAIN)
            {
                _writable = false;
                return null;
            }

            return LinuxSockets.Error(errno);
        }

        return null;
    }

    private void CancelReceive(CancellationToken token)
    {
        lock (_gate)
        {
            if (!_receivePending)
            {
                return;
            }

            _receivePending = false;
            _receiveBuffer = default;
        }

        _receive.Fail(new OperationCanceledException(token));
    }

    private void CancelSend(CancellationToken token)
    {
        lock (_gate)
        {
            if (!_sendPending)
            {
                return;
            }

            // Part of the data may be in the kernel already: the stream is no longer usable after this.
            _sendPending = false;
            _sendRemaining = default;
        }

        _send.Fail(new OperationCanceledException(token));
    }

    /// <summary>Sends FIN (shutdown of the sending side): the peer reads to the end and sees the close; receiving goes on.</summary>
    public void ShutdownSend()
    {
        const int SHUT_WR = 1;
        lock (_gate)
        {
            if (!_closed)
            {
                LinuxSockets.shutdown(_fd, SHUT_WR);
            }
        }
    }

    public void Dispose()
    {
        bool failReceive;
        bool failSend;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            failReceive = _receivePending;
            failSend = _sendPending;
            _receivePending = _sendPending = false;
            _receiveBuffer = default;
            _sendRemaining = default;
        }

        _loop.Unregister(Token, _fd);
        LinuxSockets.close(_fd);
        if (failReceive)
        {
            _receive.Fail(new ObjectDisposedException(nameof(PolledSocket)));
        }

        if (failSend)
        {
            _send.Fail(new ObjectDisposedException(nameof(PolledSocket)));
        }
    }

    /// <summary>The reusable completion of the one outstanding receive or send.</summary>
    private abstract class Operation(PolledSocket owner)
    {
        private ManualResetValueTaskSourceCore<int> _core;
        private CancellationTokenRegistration _cancellation;

        protected PolledSocket Owner { get; } = owner;

        public short Version => _core.Version;

        public void Reset(bool inline)
        {
            _core.Reset();
            _core.RunContinuationsAsynchronously = !inline;
        }

        public void WatchCancellation(CancellationToken cancellationToken)
        {
            if (cancellationToken.CanBeCanceled)
            {
                _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((Operation)state!).Cancel(token), this);
            }
        }

        protected abstract void Cancel(CancellationToken token);

        public void Succeed(int result) => _core.SetResult(result);

        public void Fail(Exception error) => _core.SetException(error);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        protected int Complete(short token)
        {
            // Unregister, not Dispose: this may run inside the cancellation callback itself.
            _cancellation.Unregister();
            _cancellation = default;
            return _core.GetResult(token);
        }
    }

    private sealed class ReceiveOperation(PolledSocket owner) : Operation(owner), IValueTaskSource<int>
    {
        public int GetResult(short token) => Complete(token);

        protected override void Cancel(CancellationToken token) => Owner.CancelReceive(token);
    }

    private sealed class SendOperation(PolledSocket owner) : Operation(owner), IValueTaskSource
    {
        public void GetResult(short token) => Complete(token);

        protected override void Cancel(CancellationToken token) => Owner.CancelSend(token);
    }
}

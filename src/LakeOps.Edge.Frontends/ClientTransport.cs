using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using LakeOps.Edge.Core.Networking;

namespace LakeOps.Edge.Frontends;

/// <summary>
/// The byte pipes of one client connection (PostgreSQL or MySQL): plain TCP at first, TLS after the
/// protocol's SSL request. The socket runs on a <see cref="SocketEventLoop"/>; plain connections use
/// pipes straight on the socket (<see cref="SocketPipeReader"/>, <see cref="SocketPipeWriter"/>), and
/// an idle client holds no buffer. A MySQL client does not wait for an answer to its SSLRequest:
/// its TLS ClientHello may already sit in the read buffer, so the upgrade hands those bytes to the
/// TLS stream first.
/// </summary>
internal sealed class ClientTransport : IAsyncDisposable
{
    private readonly PolledSocket _socket;

    // Only a TLS connection has a stream (the SslStream over the socket); plain ones use the socket pipes.
    private Stream? _stream;

    public ClientTransport(Socket socket)
    {
        socket.NoDelay = true;
        _socket = PolledSocket.Attach(socket);
        Reader = new SocketPipeReader(_socket, ReadBufferSize);
        Writer = new SocketPipeWriter(_socket, WriteBufferSize);
    }

    /// <summary>Read buffer rented when a client's bytes arrive: a typical query fits.</summary>
    private const int ReadBufferSize = 8 * 1024;

    /// <summary>Write buffer: result rows are gathered into 16 KB before a send.</summary>
    private const int WriteBufferSize = 16 * 1024;

    /// <summary>
    /// Set by sessions whose work between reads never blocks (same-protocol passthrough): they then
    /// resume on the event loop thread instead of hopping to the thread pool.
    /// </summary>
    public bool InlineCompletions
    {
        get => _socket.InlineCompletions;
        set => _socket.InlineCompletions = value;
    }

    public PipeReader Reader { get; private set; }

    public PipeWriter Writer { get; private set; }

    public bool IsTls { get; private set; }

    public string RemoteEndPoint => _socket.RemoteEndPoint;

    /// <summary>Switches to TLS after the SSL request was consumed (and, for PostgreSQL, answered); bytes already read belong to the TLS handshake.</summary>
    public async ValueTask UpgradeToTlsAsync(X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        byte[] early = [];
        if (Reader.TryRead(out ReadResult buffered))
        {
            early = buffered.Buffer.ToArray();
            Reader.AdvanceTo(buffered.Buffer.End);
        }

        await Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        await Reader.CompleteAsync().ConfigureAwait(false);
        await Writer.CompleteAsync().ConfigureAwait(false);
        var plain = new PolledStream(_socket, ownsSocket: false);
        var tls = new SslStream(early.Length == 0 ? plain : new PrefixedStream(early, plain), leaveInnerStreamOpen: false);
        await tls.AuthenticateAsServerAsync(
            new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificateRequired = false,
            },
            cancellationToken).ConfigureAwait(false);
        _stream = tls;
        Reader = PipeReader.Create(_stream, PolledStream.IdleFriendlyReader);
        Writer = PipeWriter.Create(_stream, PolledStream.Writer);
        IsTls = true;
    }

    /// <summary>
    /// A lingering close, after a fatal error was flushed. The client may still be sending (the rest of an
    /// oversized packet); closing now would answer that with a reset, which can reach the client before it
    /// read the error. So: FIN, then read and discard until the client closes, for at most
    /// <paramref name="limit"/> or 64 MiB. TLS connections close at once (their close_notify suffices).
    /// </summary>
    public async ValueTask LingerAsync(TimeSpan limit)
    {
        if (_stream is not null)
        {
            return;
        }

        try
        {
            await Writer.FlushAsync().ConfigureAwait(false);
            _socket.ShutdownSend();
            using var timeout = new CancellationTokenSource(limit);
            long discarded = 0;
            while (discarded < MaxLingerBytes)
            {
                ReadResult read = await Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                discarded += read.Buffer.Length;
                Reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Timed out, or the client is gone: close now.
        }
    }

    private const long MaxLingerBytes = 64L * 1024 * 1024;

    /// <summary>How long a session waits for the client to close after a fatal protocol error.</summary>
    public static readonly TimeSpan FatalErrorLinger = TimeSpan.FromSeconds(2);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Writer.CompleteAsync().ConfigureAwait(false);
            await Reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The client is gone; nothing left to flush.
        }
        catch (ObjectDisposedException)
        {
        }

        if (_stream is not null)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }

        _socket.Dispose();
    }

    /// <summary>A stream that reads some bytes already received before reading the inner stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _offset;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_offset < prefix.Length)
            {
                return TakePrefix(buffer);
            }

            return inner.Read(buffer);
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            _offset < prefix.Length ? ValueTask.FromResult(TakePrefix(buffer.Span)) : inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }

        private int TakePrefix(Span<byte> buffer)
        {
            int count = Math.Min(buffer.Length, prefix.Length - _offset);
            prefix.AsSpan(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }
    }
}

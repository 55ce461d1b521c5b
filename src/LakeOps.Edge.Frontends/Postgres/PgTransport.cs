using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>
/// The byte pipes of one client connection: plain TCP at first, TLS after an accepted SSLRequest.
/// </summary>
internal sealed class PgTransport : IAsyncDisposable
{
    private static readonly StreamPipeReaderOptions ReaderOptions = new(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true);
    private static readonly StreamPipeWriterOptions WriterOptions = new(minimumBufferSize: 16 * 1024, leaveOpen: true);

    private readonly Socket _socket;
    private Stream _stream;

    public PgTransport(Socket socket)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: false);
        Reader = PipeReader.Create(_stream, ReaderOptions);
        Writer = PipeWriter.Create(_stream, WriterOptions);
    }

    public PipeReader Reader { get; private set; }

    public PipeWriter Writer { get; private set; }

    public bool IsTls { get; private set; }

    public string RemoteEndPoint => _socket.RemoteEndPoint?.ToString() ?? "?";

    /// <summary>Switches the connection to TLS after the 'S' answer to SSLRequest has been flushed.</summary>
    public async ValueTask UpgradeToTlsAsync(X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        await tls.AuthenticateAsServerAsync(
            new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificateRequired = false,
            },
            cancellationToken).ConfigureAwait(false);
        await Reader.CompleteAsync().ConfigureAwait(false);
        await Writer.CompleteAsync().ConfigureAwait(false);
        _stream = tls;
        Reader = PipeReader.Create(_stream, ReaderOptions);
        Writer = PipeWriter.Create(_stream, WriterOptions);
        IsTls = true;
    }

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

        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }
}

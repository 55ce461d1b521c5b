using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Core.Networking;
using LakeOps.Edge.Engines.Pooling;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Postgres.Client;

namespace LakeOps.Edge.Engines.Postgres;

/// <summary>
/// One logged-in connection from Edge to a PostgreSQL server: TCP (optionally TLS), the startup
/// exchange and authentication (cleartext, md5, SCRAM-SHA-256) done, positioned after the first
/// ReadyForQuery. Afterwards it is just two pipes plus the facts learned at login; whoever borrows it
/// from the pool drives the protocol and keeps <see cref="TransactionStatus"/>, <see cref="SettingsKey"/>
/// and <see cref="PreparedStatements"/> truthful, or calls <see cref="MarkBroken"/>.
/// </summary>
/// <remarks>Used by one borrower at a time; <see cref="SendCancelRequestAsync"/> and <see cref="MarkBroken"/> may come from any thread.</remarks>
public sealed class PgServerConnection : IPooledConnection
{
    private static readonly StreamPipeReaderOptions ReaderOptions = new(bufferSize: 32 * 1024, minimumReadSize: 8 * 1024, leaveOpen: true);
    private static readonly StreamPipeWriterOptions WriterOptions = new(minimumBufferSize: 16 * 1024, leaveOpen: true);
    private static readonly TimeSpan CancelTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan TerminateTimeout = TimeSpan.FromSeconds(2);

    private readonly PolledSocket _socket;
    private readonly Stream _stream;
    private readonly RemoteEngineOptions _remote;
    private readonly Dictionary<string, string> _parameters = new(StringComparer.Ordinal);
    private int _broken;
    private int _disposed;

    private PgServerConnection(string clusterName, RemoteEngineOptions remote, PolledSocket socket, Stream stream, bool isTls)
    {
        ClusterName = clusterName;
        _remote = remote;
        _socket = socket;
        _stream = stream;
        IsTls = isTls;
        Input = isTls ? PipeReader.Create(stream, ReaderOptions) : new SocketPipeReader(socket, ReaderOptions.BufferSize);
        Output = isTls ? PipeWriter.Create(stream, WriterOptions) : new SocketPipeWriter(socket, WriterOptions.MinimumBufferSize);
        Messages = new PgMessageReader(Input);
        CreatedTimestamp = Stopwatch.GetTimestamp();
    }

    public string ClusterName { get; }

    /// <summary>"host:port", for messages.</summary>
    public string Endpoint => Format(_remote);

    public bool IsTls { get; }

    /// <summary>Server to Edge bytes; after login, positioned just after the login's ReadyForQuery.</summary>
    public PipeReader Input { get; }

    /// <summary>Edge to server bytes.</summary>
    public PipeWriter Output { get; }

    /// <summary>
    /// A message-at-a-time reader over <see cref="Input"/>. Call <see cref="PgMessageReader.Release"/> before
    /// reading <see cref="Input"/> directly or handing the connection back.
    /// </summary>
    public PgMessageReader Messages { get; }

    /// <summary>ParameterStatus values from login (server_version, server_encoding, TimeZone, ...).</summary>
    public IReadOnlyDictionary<string, string> ServerParameters => _parameters;

    public int ProcessId { get; private set; }

    public int SecretKey { get; private set; }

    /// <summary>The status byte of the last ReadyForQuery ('I', 'T' or 'E'); whoever drives the connection updates it.</summary>
    public byte TransactionStatus { get; set; } = PgTransactionStatus.Idle;

    /// <summary>
    /// Which session settings (SETs beyond the startup parameters) are in force on this connection: "" for
    /// none (a fresh connection, or after RESET ALL), <c>null</c> when unknown (the next borrower must
    /// RESET ALL). Anyone who runs SET/RESET on the connection updates it.
    /// </summary>
    public string? SettingsKey { get; set; } = "";

    /// <summary>What the front door that forwards frames over this connection tracks about it (its own type, created on first borrow).</summary>
    public object? ForwardingState { get; set; }

    /// <summary>
    /// Names of the named prepared statements that exist on this server connection. The pool's connections
    /// are shared, so names must be unique across borrowers (e.g. a prefix plus a global counter).
    /// </summary>
    public HashSet<string> PreparedStatements { get; } = new(StringComparer.Ordinal);

    public bool IsBroken => Volatile.Read(ref _broken) != 0;

    /// <summary><see cref="Stopwatch"/> ticks when the connection was opened.</summary>
    public long CreatedTimestamp { get; }

    /// <summary>The socket failed or the protocol state is unknown: the pool closes the connection when it comes back.</summary>
    public void MarkBroken() => Volatile.Write(ref _broken, 1);

    /// <summary>
    /// Opens and logs in. Network trouble and timeouts throw <see cref="EngineException"/> 08006
    /// "cluster 'X': cannot connect to HOST:PORT: reason"; a refused login throws the server's SQLSTATE and
    /// message prefixed with the cluster name. Cancelling <paramref name="cancellationToken"/> throws
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async ValueTask<PgServerConnection> ConnectAsync(
        string clusterName,
        RemoteEngineOptions remote,
        IReadOnlyList<KeyValuePair<string, string>> startupParameters,
        TimeSpan connectTimeout,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clusterName);
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(startupParameters);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (connectTimeout > TimeSpan.Zero && connectTimeout != Timeout.InfiniteTimeSpan)
        {
            timeout.CancelAfter(connectTimeout);
        }

        PolledSocket? socket = null;
        Stream? stream = null;
        PgServerConnection? connection = null;
        try
        {
            socket = await PolledSocket.ConnectAsync(remote.Host, remote.Port, timeout.Token).ConfigureAwait(false);

            // Whoever reads this connection only decodes or forwards frames: resume on the event loop.
            socket.InlineCompletions = true;
            stream = new PolledStream(socket, ownsSocket: false);
            bool isTls = false;
            if (remote.Tls != EngineTlsMode.Disable)
            {
                (stream, isTls) = await NegotiateTlsAsync(clusterName, stream, remote, timeout.Token).ConfigureAwait(false);
            }

            connection = new PgServerConnection(clusterName, remote, socket, stream, isTls);
            await connection.LoginAsync(startupParameters, timeout.Token).ConfigureAwait(false);
            return connection;
        }
        catch (Exception ex)
        {
            if (connection is not null)
            {
                connection.MarkBroken();
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                if (stream is not null)
                {
                    await stream.DisposeAsync().ConfigureAwait(false);
                }

                socket?.Dispose();
            }

            switch (ex)
            {
                case OperationCanceledException when cancellationToken.IsCancellationRequested:
                    throw;
                case OperationCanceledException:
                    throw ConnectFailure(clusterName, remote, string.Create(CultureInfo.InvariantCulture, $"timed out after {connectTimeout.TotalSeconds:0.###} s"), ex);
                case EngineException:
                    throw;
                case PgProtocolException protocol when protocol.SqlState != SqlStates.ProtocolViolation:
                    throw new EngineException($"cluster '{clusterName}': {protocol.Message}", protocol.SqlState, protocol);
                case SocketException or IOException or AuthenticationException or PgProtocolException or ObjectDisposedException:
                    throw ConnectFailure(clusterName, remote, ex.Message, ex);
                default:
                    throw;
            }
        }
    }

    /// <summary>
    /// Asks the server (over a new socket) to cancel what this connection runs now. Harmless when it runs
    /// nothing. Throws <see cref="EngineException"/> 08006 when the server cannot be reached.
    /// </summary>
    public async Task SendCancelRequestAsync()
    {
        using var timeout = new CancellationTokenSource(CancelTimeout);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_remote.Host, _remote.Port, timeout.Token).ConfigureAwait(false);
            var request = new ArrayBufferWriter<byte>(16);
            PgFrontendWriter.WriteCancelRequest(request, ProcessId, SecretKey);
            await socket.SendAsync(request.WrittenMemory, SocketFlags.None, timeout.Token).ConfigureAwait(false);

            // The server closes the socket once it has acted on the request; waiting for that makes
            // "sent" mean "delivered" without depending on timing.
            byte[] sink = new byte[16];
            while (await socket.ReceiveAsync(sink, SocketFlags.None, timeout.Token).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            throw new EngineException($"cluster '{ClusterName}': could not send a cancel request to {Endpoint}: {ex.Message}", SqlStates.ConnectionFailure, ex);
        }
    }

    /// <summary>An empty simple Query: EmptyQueryResponse and ReadyForQuery come back when the server is alive.</summary>
    public async ValueTask<bool> PingAsync(CancellationToken cancellationToken)
    {
        if (IsBroken || Volatile.Read(ref _disposed) != 0)
        {
            return false;
        }

        try
        {
            PgFrontendWriter.WriteQuery(Output, string.Empty);
            await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            while (true)
            {
                byte type = await Messages.ReadAsync(cancellationToken).ConfigureAwait(false);
                switch (type)
                {
                    case PgMessageTypes.ReadyForQuery:
                        TransactionStatus = ReadyForQueryMessage.Parse(Messages.Body.Span);
                        Messages.Release();
                        return true;
                    case PgMessageTypes.EmptyQueryResponse or PgMessageTypes.NoticeResponse or PgMessageTypes.ParameterStatus
                        or PgMessageTypes.NotificationResponse:
                        break;
                    default:
                        // An error (e.g. FATAL during shutdown) or anything unexpected: do not trust it.
                        Messages.Release();
                        MarkBroken();
                        return false;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or PgProtocolException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            MarkBroken();
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            return false;
        }
    }

    /// <summary>Sends Terminate (unless broken) and closes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (!IsBroken)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TerminateTimeout);
                PgFrontendWriter.WriteTerminate(Output);
                await Output.FlushAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
            {
                // The server is gone already; closing is all that is left.
            }
        }

        MarkBroken();
        try
        {
            await Output.CompleteAsync().ConfigureAwait(false);
            await Input.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }

        try
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or AuthenticationException)
        {
        }

        _socket.Dispose();
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"cluster '{ClusterName}' {Endpoint} pid {ProcessId}");

    /// <summary>Updates <see cref="ServerParameters"/> from a ParameterStatus the server sent after login.</summary>
    internal void SetServerParameter(string name, string value) => _parameters[name] = value;

    internal static EngineException ConnectFailure(string clusterName, RemoteEngineOptions remote, string reason, Exception? inner = null) =>
        new($"cluster '{clusterName}': cannot connect to {Format(remote)}: {reason}", SqlStates.ConnectionFailure, inner);

    private static string Format(RemoteEngineOptions remote) =>
        remote.Host.Contains(':', StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"[{remote.Host}]:{remote.Port}")
            : string.Create(CultureInfo.InvariantCulture, $"{remote.Host}:{remote.Port}");

    private async ValueTask LoginAsync(IReadOnlyList<KeyValuePair<string, string>> startupParameters, CancellationToken cancellationToken)
    {
        var parameters = new List<KeyValuePair<string, string>>(startupParameters.Count + 2)
        {
            new("user", _remote.User),
        };
        if (_remote.Database.Length > 0)
        {
            parameters.Add(new("database", _remote.Database));
        }

        foreach (KeyValuePair<string, string> parameter in startupParameters)
        {
            // The cluster's credentials decide who Edge is on the server, not the caller.
            if (!parameter.Key.Equals("user", StringComparison.Ordinal) && !parameter.Key.Equals("database", StringComparison.Ordinal))
            {
                parameters.Add(parameter);
            }
        }

        PgFrontendWriter.WriteStartup(Output, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(parameters));
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);

        ScramClient? scram = null;
        while (true)
        {
            byte type = await Messages.ReadAsync(cancellationToken).ConfigureAwait(false);
            switch (type)
            {
                case PgMessageTypes.Authentication:
                    scram = Authenticate(AuthenticationMessage.Parse(Messages.Body.Span), scram);
                    await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case PgMessageTypes.ParameterStatus:
                    var status = ParameterStatusMessage.Parse(Messages.Body.Span);
                    _parameters[status.Name] = status.Value;
                    break;
                case PgMessageTypes.BackendKeyData:
                    var key = BackendKeyDataMessage.Parse(Messages.Body.Span);
                    ProcessId = key.ProcessId;
                    SecretKey = key.SecretKey;
                    break;
                case PgMessageTypes.ErrorResponse:
                    PgError error = ErrorResponseMessage.Parse(Messages.Body.Span);
                    throw new EngineException($"cluster '{ClusterName}': {error.Message}", error.SqlState);
                case PgMessageTypes.ReadyForQuery:
                    TransactionStatus = ReadyForQueryMessage.Parse(Messages.Body.Span);
                    Messages.Release();
                    return;
                case PgMessageTypes.NoticeResponse or PgMessageTypes.NegotiateProtocolVersion:
                    // Notices carry nothing Edge needs; we ask for 3.0, so a negotiation only lists ignored options.
                    break;
                default:
                    throw new PgProtocolException($"unexpected {PgMessageTypes.DescribeBackend(type)} during login");
            }
        }
    }

    /// <summary>Answers one authentication request (written to <see cref="Output"/>, not flushed).</summary>
    private ScramClient? Authenticate(AuthenticationMessage request, ScramClient? scram)
    {
        switch (request.Kind)
        {
            case AuthenticationKind.Ok:
                return scram;
            case AuthenticationKind.CleartextPassword:
                PgFrontendWriter.WritePassword(Output, _remote.Password);
                return scram;
            case AuthenticationKind.Md5Password:
                PgFrontendWriter.WritePassword(Output, Md5Response.Compute(_remote.User, _remote.Password, request.Payload));
                return scram;
            case AuthenticationKind.Sasl:
                if (!Contains(request.SaslMechanisms, ScramClient.Mechanism))
                {
                    throw new EngineException(
                        $"cluster '{ClusterName}': the server offers SASL mechanisms [{string.Join(", ", request.SaslMechanisms)}], none of which Edge supports (it speaks {ScramClient.Mechanism})",
                        SqlStates.FeatureNotSupported);
                }

                scram = new ScramClient(_remote.Password);
                PgFrontendWriter.WriteSaslInitialResponse(Output, ScramClient.Mechanism, scram.CreateClientFirst());
                return scram;
            case AuthenticationKind.SaslContinue when scram is not null:
                PgFrontendWriter.WriteSaslResponse(Output, scram.HandleServerFirst(request.Payload));
                return scram;
            case AuthenticationKind.SaslFinal when scram is not null:
                scram.VerifyServerFinal(request.Payload);
                return scram;
            case AuthenticationKind.SaslContinue or AuthenticationKind.SaslFinal:
                throw new PgProtocolException("SASL continuation without a SASL exchange");
            default:
                throw new EngineException(
                    $"cluster '{ClusterName}': the server asks for {request.Kind} authentication, which Edge does not support (use scram-sha-256, md5 or password)",
                    SqlStates.FeatureNotSupported);
        }
    }

    private static bool Contains(IReadOnlyList<string> values, string value)
    {
        for (int i = 0; i < values.Count; i++)
        {
            if (values[i].Equals(value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>SSLRequest; then TLS when the server answers 'S', plain when it answers 'N' and the mode allows it.</summary>
    private static async ValueTask<(Stream Stream, bool IsTls)> NegotiateTlsAsync(string clusterName, Stream plain, RemoteEngineOptions remote, CancellationToken cancellationToken)
    {
        var request = new ArrayBufferWriter<byte>(8);
        PgFrontendWriter.WriteSslRequest(request);
        await plain.WriteAsync(request.WrittenMemory, cancellationToken).ConfigureAwait(false);
        await plain.FlushAsync(cancellationToken).ConfigureAwait(false);

        // Exactly one byte: anything the server might send after 'S' belongs to the TLS handshake.
        byte[] answer = new byte[1];
        if (await plain.ReadAsync(answer, cancellationToken).ConfigureAwait(false) == 0)
        {
            throw new IOException("the server closed the connection after SSLRequest");
        }

        switch (answer[0])
        {
            case (byte)'S':
                var tls = new SslStream(plain, leaveInnerStreamOpen: false, EngineTls.CertificateValidator(remote));
                await tls.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions { TargetHost = remote.Host },
                    cancellationToken).ConfigureAwait(false);
                return (tls, true);
            case (byte)'N' when remote.Tls == EngineTlsMode.Prefer:
                return (plain, false);
            case (byte)'N':
                throw ConnectFailure(clusterName, remote, $"the server does not accept TLS, and tls is {remote.Tls}");
            default:
                throw new PgProtocolException("unexpected answer to SSLRequest");
        }
    }
}

using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography.X509Certificates;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Routing.Balancing;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>
/// One PostgreSQL client connection: startup and authentication (PgSession.Startup.cs), then the
/// message loop that serves simple queries (PgSession.Simple.cs) and the extended protocol
/// (PgSession.Extended.cs) against one engine session.
/// </summary>
internal sealed partial class PgSession
{
    private readonly ClientTransport _transport;
    private readonly ListenerConfig _listener;
    private readonly EdgeConfig _config;

    // The live store: per-statement routing reads the current snapshot's routes.
    private readonly ConfigStore _configs;
    private readonly IEngineProvider _engines;
    private readonly ClusterPicker _picker;
    private readonly PgSessionRegistry _registry;
    private readonly X509Certificate2? _certificate;
    private readonly bool _overConnectionLimit;

    private IEngineSession? _engine;
    private SqlDialect _engineDialect;
    private string _clusterName = "";
    private TimeSpan _groupStatementTimeout;
    private PgSessionParameters _parameters = null!;
    private string _user = "";
    private string _database = "";
    private byte _transactionStatus = PgTransactionStatus.Idle;
    private int _processId;
    private volatile bool _statementRunning;

    public PgSession(
        ClientTransport transport,
        ListenerConfig listener,
        EdgeConfig config,
        ConfigStore configs,
        IEngineProvider engines,
        ClusterPicker picker,
        PgSessionRegistry registry,
        X509Certificate2? certificate,
        bool overConnectionLimit)
    {
        _transport = transport;
        _listener = listener;
        _config = config;
        _configs = configs;
        _engines = engines;
        _picker = picker;
        _registry = registry;
        _certificate = certificate;
        _overConnectionLimit = overConnectionLimit;
    }

    public int SecretKey { get; private set; }

    private PipeWriter Output => _transport.Writer;

    /// <summary>Runs the connection to its end. Never throws for client-caused problems.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            if (!await StartupAsync(stopping).ConfigureAwait(false))
            {
                return;
            }

            if (_passthrough is not null)
            {
                await _passthrough.RunAsync(stopping).ConfigureAwait(false);
            }
            else
            {
                await MessageLoopAsync(stopping).ConfigureAwait(false);
            }
        }
        catch (PgProtocolException ex)
        {
            Log.Warn(EventId.SessionProtocolError, $"protocol error from {_transport.RemoteEndPoint} (user '{_user}'): {ex.Message}");
            await TrySendFatalAsync(ex.SqlState, ex.Message).ConfigureAwait(false);
            await _transport.LingerAsync(ClientTransport.FatalErrorLinger).ConfigureAwait(false);
        }
        finally
        {
            await ReleaseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The listener is stopping (its stopping token is cancelled already).</summary>
    internal void OnListenerStopping() => _passthrough?.OnStopping();

    /// <summary>Called from the cancel path (another connection): interrupts the running statement.</summary>
    public void CancelRunningStatement()
    {
        _passthrough?.Cancel();
        if (_statementRunning)
        {
            _engine?.Cancel();
            CancelAdmittedWork();
        }
    }

    private async Task MessageLoopAsync(CancellationToken stopping)
    {
        PipeReader input = _transport.Reader;
        int maxMessage = _listener.Limits.MaxMessageSize;

        // Made at the first read with an idle limit (idle in a transaction, or idle_timeout set): by default
        // an idle session waits on the stopping token alone, with no token source of its own.
        CancellationTokenSource? readTimeout = null;
        try
        {
            while (true)
            {
                TimeSpan idleLimit = IdleLimit();
                CancellationToken readToken = stopping;
                if (idleLimit > TimeSpan.Zero)
                {
                    readTimeout ??= CancellationTokenSource.CreateLinkedTokenSource(stopping);
                    readTimeout.CancelAfter(idleLimit);
                    readToken = readTimeout.Token;
                }

                ReadResult read;
                try
                {
                    read = await input.ReadAsync(readToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    await OnReadTimeoutAsync(stopping).ConfigureAwait(false);
                    return;
                }

                if (idleLimit > TimeSpan.Zero)
                {
                    readTimeout!.CancelAfter(Timeout.InfiniteTimeSpan);
                }

                ReadOnlySequence<byte> buffer = read.Buffer;
                bool keepGoing = true;
                while (keepGoing)
                {
                    if (!PgClientFrames.TryRead(buffer, maxMessage, _listener.Name, out byte type, out int length))
                    {
                        break;
                    }

                    FrontendMessage message = FrontendMessage.Parse(type, buffer.Slice(0, length));
                    buffer = buffer.Slice(length);

                    // A shutdown stops waiting for new messages, but a statement that started runs to its end (drain).
                    keepGoing = await HandleAsync(message, CancellationToken.None).ConfigureAwait(false);
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (!keepGoing)
                {
                    return;
                }

                if (read.IsCompleted)
                {
                    if (!buffer.IsEmpty)
                    {
                        Log.Warn(EventId.SessionProtocolError, $"client {_transport.RemoteEndPoint} closed the connection in the middle of a message");
                    }

                    return;
                }
            }
        }
        finally
        {
            readTimeout?.Dispose();
        }
    }

    private TimeSpan IdleLimit()
    {
        if (_transactionStatus != PgTransactionStatus.Idle && _listener.Limits.IdleInTransactionTimeout > TimeSpan.Zero)
        {
            return _listener.Limits.IdleInTransactionTimeout;
        }

        return _listener.Limits.IdleTimeout;
    }

    private async ValueTask OnReadTimeoutAsync(CancellationToken stopping)
    {
        if (stopping.IsCancellationRequested)
        {
            await TrySendFatalAsync(SqlStates.AdminShutdown, "terminating connection due to administrator command: LakeOps Edge is shutting down").ConfigureAwait(false);
        }
        else if (_transactionStatus != PgTransactionStatus.Idle)
        {
            Log.Info(EventId.SessionTimeout, $"closing session of '{_user}' from {_transport.RemoteEndPoint}: idle in transaction");
            await TrySendFatalAsync(
                SqlStates.IdleInTransactionSessionTimeout,
                $"terminating connection due to idle-in-transaction timeout ({_listener.Limits.IdleInTransactionTimeout.TotalSeconds:0.###} s, listeners.{_listener.Name}.limits.idle_in_transaction_timeout)").ConfigureAwait(false);
        }
        else
        {
            await TrySendFatalAsync(
                "57P05",
                $"terminating connection due to idle-session timeout ({_listener.Limits.IdleTimeout.TotalSeconds:0.###} s, listeners.{_listener.Name}.limits.idle_timeout)").ConfigureAwait(false);
        }
    }

    /// <summary>Handles one message; false ends the session.</summary>
    private ValueTask<bool> HandleAsync(FrontendMessage message, CancellationToken cancellationToken)
    {
        switch (message.Type)
        {
            case PgMessageTypes.Query:
                return HandleSimpleQueryAsync((string)message.Payload!, cancellationToken);
            case PgMessageTypes.Terminate:
                return ValueTask.FromResult(false);
            case PgMessageTypes.Parse:
            case PgMessageTypes.Bind:
            case PgMessageTypes.DescribeMessage:
            case PgMessageTypes.Execute:
            case PgMessageTypes.Close:
            case PgMessageTypes.Sync:
            case PgMessageTypes.Flush:
                return HandleExtendedAsync(message, cancellationToken);
            case PgMessageTypes.PasswordMessage:
                throw new PgProtocolException("unexpected password message: the session is already authenticated");
            default:
                throw new PgProtocolException($"unsupported frontend message {PgMessageTypes.Describe(message.Type)}", SqlStates.ProtocolViolation);
        }
    }

    private async ValueTask TrySendFatalAsync(string sqlState, string message)
    {
        try
        {
            PgBackendWriter.WriteErrorResponse(Output, new PgError("FATAL", sqlState, message));
            await Output.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            // The client is already gone.
        }
    }

    /// <summary>Releases everything the session holds on the engine and in the registry.</summary>
    private async ValueTask ReleaseAsync()
    {
        await CloseAllStatementsAsync().ConfigureAwait(false);
        await ReleaseAdmissionAsync().ConfigureAwait(false);
        if (_retiredEngines is not null)
        {
            await _retiredEngines.DisposeAsync().ConfigureAwait(false);
        }
        if (_processId != 0)
        {
            _registry.Unregister(_processId);
        }

        if (_router is not null)
        {
            // The router owns every engine session the routed session opened (_engine is one of them).
            await _router.DisposeAsync().ConfigureAwait(false);
            _engine = null;
        }

        if (_engine is not null)
        {
            try
            {
                await _engine.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is EngineException or InvalidOperationException or ObjectDisposedException)
            {
                Log.Warn(EventId.SessionFailed, $"closing the engine session on '{_clusterName}' failed: {ex.Message}");
            }

            _engine = null;
        }
    }
}

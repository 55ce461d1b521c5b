using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

/// <summary>
/// The same-protocol fast path: a PostgreSQL client whose database routes to a PostgreSQL cluster has
/// its frames forwarded to a pooled server connection, and the server's frames forwarded back, without
/// decoding rows. Transaction pooling: a server connection is borrowed when the client sends work and
/// returned when every Sync/Query has its ReadyForQuery with status 'I', no extended-protocol batch is
/// half sent, and nothing pins the session (temp tables, LISTEN, session advisory locks, WITH HOLD
/// cursors, SQL PREPARE). Prepared statements and session settings follow the client to whatever
/// connection it gets (see <see cref="ClientMessageForwarder"/> and <see cref="SessionSettings"/>).
/// </summary>
/// <remarks>
/// Two loops per session. The client loop (the session's task) reads client frames and writes them to
/// the attached server connection; the response pump (one long-lived task per session) reads the
/// server and writes the client, and is the only writer to the client once the session runs. They share
/// a few fields under <see cref="_gate"/> (never held across an await): the attached connection, the
/// responses published by the client loop for the pump (<see cref="_inbox"/>), the count of sync points
/// still owed, and whether the client is mid-batch. Only the pump returns a connection to the pool; it
/// never does while the client loop is mid-batch, and it reads the server only while something is owed,
/// so a connection that can be returned is never being read.
/// </remarks>
internal sealed partial class PgPassthroughSession
{
    /// <summary>Prepared statements kept per server connection; the least recently used beyond it are closed when it is next borrowed.</summary>
    public const int MaxPreparedPerConnection = 1000;

    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(5);

    private readonly ClientTransport _transport;
    private readonly ListenerConfig _listener;
    // Change only when routing moves the session (PgPassthroughSession.Routing.cs), between transactions.
    private volatile PostgresEngine _engine;
    private volatile GroupConfig _group;
    private readonly string _user;

    // Owned by the client loop.
    private readonly ClientMessageForwarder _client;
    private PgServerConnection? _clientServer;
    private PgServerConnection? _lastServer;
    private ServerConnectionState? _lastState;
    private bool _terminated;

    // Owned by the pump.
    private readonly ServerResponseForwarder _responses = new();
    private SessionSettings _settings = new("");

    // Shared, under _gate.
    private readonly Lock _gate = new();
    private readonly ResponseQueue _inbox = new();
    // Made by the pump before its first wait (under the lock): sessions that never ran a statement have none.
    private PumpSignal? _signal;
    private PgServerConnection? _attached;
    private int _pendingSyncs;
    private bool _halfBatch;
    private bool _clientBusy;
    private bool _pinned;
    private byte _status = PgTransactionStatus.Idle;
    private bool _pumpWaiting;
    private bool _stopping;
    private bool _pumpEnded;
    private bool _clientStreamBroken;

    // Incremented (under the lock) whenever the client loop publishes; lets the pump skip the lock when nothing is new.
    private volatile int _published;
    private int _pulled;

    // Requests from the pump to the client loop, applied when it next starts a batch.
    private List<ParseTicket>? _failedClientParses;
    private bool _clearClientStatements;
    private bool _skipRequested;
    private byte[]? _lossError;
    private bool _emulateFailedTransaction;

    // Deadlines (statement timeout while work is owed; idle timeouts otherwise), one timer per session.
    private ITimer? _deadline;
    private DeadlineKind _deadlineKind;
    private long _deadlineAt;
    private DeadlineKind _timedOut;

    private Task? _pump;

    public PgPassthroughSession(ClientTransport transport, ListenerConfig listener, PostgresEngine engine, GroupConfig group, string user,
        Func<string, string?>? explainRoute = null, Func<SessionSettings, string, PassthroughRoute>? reroute = null)
    {
        _transport = transport;

        // A passthrough session only forwards frames and never blocks: it resumes on the event loop.
        _transport.InlineCompletions = true;
        _listener = listener;
        _engine = engine;
        _group = group;
        _user = user;
        _reroute = reroute;
        _client = new ClientMessageForwarder(engine.ClusterName) { ExplainRoute = explainRoute };
    }

    private enum DeadlineKind : byte
    {
        None,
        Statement,
        Idle,
        IdleInTransaction,
    }

    public string ClusterName => _engine.ClusterName;

    /// <summary>
    /// Runs the session after login until the client leaves (or a limit ends it). Client-caused protocol
    /// errors surface as <see cref="PgProtocolException"/> for the caller to report; by then the pump has
    /// stopped and the server connection is back in the pool.
    /// </summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        // The client loop runs in this frame: an idle session is one suspended state machine, not two.
        try
        {
            PipeReader input = _transport.Reader;
            int maxMessage = _listener.Limits.MaxMessageSize;
            // The listener tells passthrough sessions about a stop through its session registry (OnStopping), not
            // with a registration on the token, which would cost each idle client 80 bytes. A stop that came
            // before this session was registered is seen here.
            if (stopping.IsCancellationRequested)
            {
                OnStopping();
            }

            lock (_gate)
            {
                ArmIdleLocked();
            }

            while (true)
            {
                ReadResult read = await input.ReadAsync(CancellationToken.None).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = read.Buffer;
                if (!buffer.IsEmpty)
                {
                    SequencePosition rest = await HandleBatchAsync(buffer, maxMessage).ConfigureAwait(false);
                    buffer = buffer.Slice(rest);
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (_terminated)
                {
                    return;
                }

                if (read.IsCanceled && await EndedByEdgeAsync(stopping).ConfigureAwait(false))
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
            await StopPumpAsync().ConfigureAwait(false);
            await ReleaseServerAsync().ConfigureAwait(false);
            if (_deadline is not null)
            {
                await _deadline.DisposeAsync().ConfigureAwait(false);
            }

            _queueWait?.Dispose();
        }
    }

    /// <summary>A CancelRequest for this session: cancels what its server connection runs now, if anything.</summary>
    public void Cancel()
    {
        CancelQueueWait();
        PgServerConnection? server;
        lock (_gate)
        {
            server = _pendingSyncs > 0 || _halfBatch ? _attached : null;
        }

        if (server is not null)
        {
            _ = SendCancelAsync(server, "cancel request from the client");
        }
    }

    /// <summary>
    /// Forwards the complete frames of one read and returns where the unconsumed rest (a partial frame)
    /// starts. Sets <see cref="_terminated"/> when the client sent Terminate.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<SequencePosition> HandleBatchAsync(ReadOnlySequence<byte> buffer, int maxMessage)
    {
        BeginBatch();
        while (true)
        {
            if (!PgClientFrames.TryRead(buffer, maxMessage, _listener.Name, out byte type, out int length))
            {
                break;
            }

            ReadOnlySequence<byte> frame = buffer.Slice(0, length);
            _audit?.OnClientFrame(type, frame);
            ClientStep step = _client.Process(type, frame);
            if (step == ClientStep.NeedServer)
            {
                step = await AttachAsync(type, frame).ConfigureAwait(false) ? _client.Process(type, frame) : ClientStep.Continue;
            }

            buffer = buffer.Slice(length);
            if (step == ClientStep.Terminate)
            {
                _terminated = true;
                break;
            }
        }

        await PublishAsync().ConfigureAwait(false);
        return buffer.Start;
    }

    /// <summary>Marks the client mid-batch (the pump keeps the connection) and applies what the pump asked for.</summary>
    private void BeginBatch()
    {
        lock (_gate)
        {
            _clientBusy = true;
            if (_attached is null && _clientServer is not null)
            {
                _client.Detach();
                _clientServer = null;
            }

            if (_failedClientParses is not null)
            {
                foreach (ParseTicket ticket in _failedClientParses)
                {
                    _client.ForgetFailedParse(ticket);
                }

                _failedClientParses = null;
            }

            if (_clearClientStatements)
            {
                _client.ClearStatements();
                _audit?.ClearStatements();
                _clearClientStatements = false;
            }

            if (_skipRequested)
            {
                _client.SkipUntilSync = true;
                _skipRequested = false;
            }

            if (_lossError is not null)
            {
                _client.PendingError = _lossError;
                _lossError = null;
            }

            if (_emulateFailedTransaction)
            {
                _client.EmulatingFailedTransaction = true;
                _emulateFailedTransaction = false;
            }
        }
    }

    /// <summary>Borrows a server connection for the client's work; false when none could be had (the client got an error).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AttachAsync(byte type, ReadOnlySequence<byte> frame)
    {
        if (_reroute is not null && !FollowRoute(type, frame))
        {
            return false;
        }

        // Health (PgPassthroughSession.Health.cs): while the session's cluster can take work this is two reads.
        bool trial = false;
        string? failure = null;
        if (_picker is not null && !IsClusterEligible() && !ChooseCluster(null, out trial, out failure))
        {
            _client.Reject(type, ClientMessageForwarder.ErrorFrame(SqlStates.ConnectionFailure, failure!));
            return false;
        }

        PgServerConnection server;
        StatementLease lease;
        bool retried = false;
        while (true)
        {
            lease = default;
            if (_admission is { IsActive: true })
            {
                (bool admitted, lease) = await AdmitAsync(type).ConfigureAwait(false);
                if (!admitted)
                {
                    if (trial)
                    {
                        _health?.AbandonTrial();
                    }

                    return false;
                }
            }

            long start = _picker is null ? 0 : Stopwatch.GetTimestamp();
            try
            {
                server = await _engine.Pool.RentAsync(CancellationToken.None).ConfigureAwait(false);
                OnBorrowed(trial, start, ref lease);
                break;
            }
            catch (EngineException ex)
            {
                lease.Dispose();
                Log.Warn(EventId.SessionFailed, $"no server connection for '{_user}' on cluster '{ClusterName}': {ex.Message}");
                bool mayRetry = ClusterFailover.ReportFailure(_health, trial, ex);

                // Nothing reached the server or the client yet: one more try on another member of the group.
                if (mayRetry && !retried && _picker is not null && ChooseCluster(ClusterName, out trial, out failure))
                {
                    retried = true;
                    continue;
                }

                _client.Reject(type, ClientMessageForwarder.ErrorFrame(ex.SqlState, failure is null ? ex.Message : $"{ex.Message} (no other cluster to retry on: {failure})"));
                return false;
            }
        }

        // The pool hands out its most recently returned connection first, so this is usually the last one.
        if (!ReferenceEquals(server, _lastServer))
        {
            _lastServer = server;
            _lastState = ServerConnectionState.For(server);
        }

        ServerConnectionState state = _lastState!;
        List<ServerStatement>? evicted = state.Borrowed(MaxPreparedPerConnection);
        _client.Attach(server.Output, state);
        _clientServer = server;

        // Pipelined in front of the client's messages; their responses are swallowed.
        string key = _settings.Key;
        if (!string.Equals(server.SettingsKey, key, StringComparison.Ordinal))
        {
            _client.StageHiddenQuery(_settings.ReplayScript(server.SettingsKey));
            server.SettingsKey = key;
        }

        if (evicted is not null)
        {
            _client.StageEvictions(evicted);
        }

        lock (_gate)
        {
            _attached = server;
            _lease = lease;
            _status = server.TransactionStatus;
        }

        return true;
    }

    /// <summary>Hands the batch's owed responses to the pump, then flushes what was written to the server.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PublishAsync()
    {
        // Started on first use, so a client that logs in and idles costs no pump.
        _pump ??= PumpAsync();
        PgServerConnection? server = _clientServer;
        bool flush = server is not null && _client.Wrote;
        bool wake = false;
        bool tailIsEdges;
        string? pinReason = _client.PinReason;
        lock (_gate)
        {
            int before = _pendingSyncs;
            _inbox.TakeAll(_client.Staged);
            _published++;
            _pendingSyncs += _client.SyncPoints;
            _halfBatch = _client.HalfBatch;
            if (pinReason is not null && !_pinned && _attached is not null)
            {
                _pinned = true;
            }
            else
            {
                pinReason = null;
            }

            if (before == 0 && _pendingSyncs > 0)
            {
                ArmLocked(DeadlineKind.Statement, _group.StatementTimeout);
            }
            else if (_pendingSyncs == 0)
            {
                ArmIdleLocked();
            }

            // The client may now wait for answers Edge gives itself (e.g. ParseComplete before a Flush) while
            // the pump waits for the server. Such a batch is half sent, so the connection cannot be returned
            // meanwhile, and interrupting the pump's read cannot hit another borrower.
            tailIsEdges = _attached is not null && _halfBatch && _inbox.Count > 0 && _inbox[_inbox.Count - 1].IsSynthetic;
            if (!flush)
            {
                _clientBusy = false;
                wake = _pumpWaiting;
                _pumpWaiting = false;
            }
        }

        _client.EndBatch();
        if (pinReason is not null)
        {
            Log.Info(EventId.SessionFailed, $"session of '{_user}' keeps its server connection on cluster '{ClusterName}' until it disconnects: it created {pinReason}");
        }

        bool failed = false;
        if (flush)
        {
            // Still "busy" while flushing: the reply can arrive before FlushAsync returns, and the pump must not
            // hand the connection to another session while this one still touches its writer.
            try
            {
                await server!.Output.FlushAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
            {
                server!.MarkBroken();
                failed = true;
            }

            lock (_gate)
            {
                _clientBusy = false;
                wake = _pumpWaiting;
                _pumpWaiting = false;
            }
        }

        if (wake)
        {
            _signal!.Set();
        }
        else if ((tailIsEdges || failed) && server is not null)
        {
            // The pump is reading this connection (it owes something): make it look again.
            server.Input.CancelPendingRead();
        }
    }

    /// <summary>The client's read was interrupted by Edge (timeout, shutdown, pump failure): true when the session ends.</summary>
    private async ValueTask<bool> EndedByEdgeAsync(CancellationToken stopping)
    {
        DeadlineKind timedOut;
        bool broken;
        lock (_gate)
        {
            timedOut = _timedOut;
            broken = _clientStreamBroken || _pumpEnded;
        }

        if (stopping.IsCancellationRequested)
        {
            // Shutdown drains: what the client already sent runs to its end first.
            while (true)
            {
                lock (_gate)
                {
                    if ((_pendingSyncs == 0 && !_halfBatch) || _pumpEnded)
                    {
                        break;
                    }
                }

                await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
            }

            await StopPumpAsync().ConfigureAwait(false);
            await TrySendFatalAsync(SqlStates.AdminShutdown, "terminating connection due to administrator command: LakeOps Edge is shutting down").ConfigureAwait(false);
            return true;
        }

        if (timedOut == DeadlineKind.IdleInTransaction)
        {
            Log.Info(EventId.SessionTimeout, $"closing session of '{_user}' from {_transport.RemoteEndPoint}: idle in transaction");
            await StopPumpAsync().ConfigureAwait(false);
            await TrySendFatalAsync(
                SqlStates.IdleInTransactionSessionTimeout,
                $"terminating connection due to idle-in-transaction timeout ({_listener.Limits.IdleInTransactionTimeout.TotalSeconds:0.###} s, listeners.{_listener.Name}.limits.idle_in_transaction_timeout)").ConfigureAwait(false);
            return true;
        }

        if (timedOut == DeadlineKind.Idle)
        {
            await StopPumpAsync().ConfigureAwait(false);
            await TrySendFatalAsync(
                "57P05",
                $"terminating connection due to idle-session timeout ({_listener.Limits.IdleTimeout.TotalSeconds:0.###} s, listeners.{_listener.Name}.limits.idle_timeout)").ConfigureAwait(false);
            return true;
        }

        return broken;
    }

    /// <summary>The listener is stopping (from <see cref="PgSessionRegistry.StopIdleSessions"/> or at start).</summary>
    internal void OnStopping()
    {
        // Idle sessions end at shutdown; a session with work in flight drains (its read is interrupted later).
        _transport.Reader.CancelPendingRead();
    }

    private async ValueTask TrySendFatalAsync(string sqlState, string message)
    {
        try
        {
            PgBackendWriter.WriteErrorResponse(_transport.Writer, new PgError(PgSeverity.Fatal, sqlState, message));
            await _transport.Writer.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            // The client is already gone.
        }
    }

    private async Task SendCancelAsync(PgServerConnection server, string why)
    {
        try
        {
            await server.SendCancelRequestAsync().ConfigureAwait(false);
            Log.Info(EventId.CancelRequested, $"cancel sent to {server} ({why})");
        }
        catch (EngineException ex)
        {
            Log.Warn(EventId.CancelRequested, $"cancel to {server} failed ({why}): {ex.Message}");
        }
    }

    private static bool IsIoFailure(Exception ex) =>
        ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException or PgProtocolException;

    private static long Deadline(TimeSpan after) => Stopwatch.GetTimestamp() + (long)(after.TotalSeconds * Stopwatch.Frequency);
}

using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography.X509Certificates;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Routing.Balancing;

namespace LakeOps.Edge.Frontends.MySql;

/// <summary>
/// One MySQL client connection: handshake and authentication (MySqlSession.Handshake.cs), then the command
/// loop: COM_QUERY with text results (MySqlSession.Query.cs), the prepared-statement commands with the binary
/// protocol (MySqlSession.Statements.cs) and the small commands below, against one engine session.
/// </summary>
internal sealed partial class MySqlSession
{
    /// <summary>Flush to the socket every this many buffered bytes while streaming a result.</summary>
    private const int FlushThresholdBytes = 64 * 1024;

    /// <summary>Payload buffers above this size are returned to the pool after the command.</summary>
    private const int KeptBufferBytes = 1024 * 1024;

    private readonly ClientTransport _transport;
    private readonly ListenerConfig _listener;
    private readonly EdgeConfig _config;

    // The live store: per-statement routing reads the current snapshot's routes.
    private readonly ConfigStore _configs;
    private readonly IEngineProvider _engines;
    private readonly ClusterPicker _picker;
    private readonly MySqlSessionRegistry _registry;
    private readonly X509Certificate2? _certificate;
    private readonly MySqlListenerStatistics _statistics;
    private readonly bool _overConnectionLimit;
    private readonly MySqlPacketWriter _writer;
    private readonly CancellationTokenSource _killed = new();

    private MySqlPacketScanner _scanner;
    private byte[] _payload = [];
    private byte _packetSequence;
    private byte _lastSequence;

    private MySqlCapabilities _capabilities;
    private ushort _textCharset = MySqlCharacterSet.Utf8Mb4;
    private string _user = "";
    private string? _database;
    private GroupConfig? _group;
    private string _clusterName = "";
    private string _applicationName = "";
    private IEngineSession? _engine;

    /// <summary>The engine the session was routed to (the passthrough checks whether it is a MySQL-wire engine).</summary>
    private IEngine? _engineInstance;
    private SqlDialect _dialect;
    private MySqlSessionVariables _variables = null!;
    private MySqlServerStatus _status = MySqlServerStatus.AutoCommit;
    private volatile bool _statementRunning;
    private volatile bool _timedOut;
    private volatile CancellationTokenSource? _gatewayWait;

    public MySqlSession(
        ClientTransport transport,
        ListenerConfig listener,
        EdgeConfig config,
        ConfigStore configs,
        IEngineProvider engines,
        ClusterPicker picker,
        MySqlSessionRegistry registry,
        X509Certificate2? certificate,
        MySqlListenerStatistics statistics,
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
        _statistics = statistics;
        _overConnectionLimit = overConnectionLimit;
        _writer = new MySqlPacketWriter(transport.Writer);
    }

    /// <summary>The connection id announced in the handshake (0 until registered).</summary>
    public uint ConnectionId { get; private set; }

    public string User => _user;

    private PipeWriter Output => _transport.Writer;

    /// <summary>Runs the connection to its end. Never throws for client-caused problems.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            if (!await HandshakeAsync(stopping).ConfigureAwait(false))
            {
                return;
            }

            // HOOK (mysql passthrough, Passthrough/MySqlSession.Passthrough.cs): when the engine is a MySQL-wire engine
            // whose passthrough accepts this client's capabilities, it serves the connection byte for byte.
            if (await RunPassthroughAsync(stopping).ConfigureAwait(false))
            {
                return;
            }

            StartRoutingAfterLogin();
            await CommandLoopAsync(stopping).ConfigureAwait(false);
        }
        catch (MySqlProtocolException ex)
        {
            Log.Warn(EventId.SessionProtocolError, $"mysql protocol error from {_transport.RemoteEndPoint} (user '{_user}'): {ex.Message}");
            await TrySendErrorAsync(new MySqlError(ex.ErrorCode, ex.SqlState, ex.Message)).ConfigureAwait(false);
            await _transport.LingerAsync(ClientTransport.FatalErrorLinger).ConfigureAwait(false);
        }
        finally
        {
            await ReleaseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>KILL QUERY from another connection: interrupts the running statement, if any.</summary>
    public void CancelRunningStatement()
    {
        // HOOK (mysql passthrough): the passthrough sends KILL QUERY to the server connection in use.
        _passthrough?.CancelQuery();
        CancelQueueWait();
        if (_statementRunning)
        {
            _engine?.Cancel();
            _spilledEngine?.Cancel();
            CancelGatewayWait();
        }
    }

    /// <summary>KILL [CONNECTION] from another connection: interrupts the statement and ends the session.</summary>
    public void Kill()
    {
        CancelRunningStatement();
        try
        {
            _killed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session already ended.
        }
    }

    private async Task CommandLoopAsync(CancellationToken stopping)
    {
        using var read = CancellationTokenSource.CreateLinkedTokenSource(stopping, _killed.Token);
        while (true)
        {
            TimeSpan idleLimit = (_status & MySqlServerStatus.InTransaction) != 0 && _listener.Limits.IdleInTransactionTimeout > TimeSpan.Zero
                ? _listener.Limits.IdleInTransactionTimeout
                : _listener.Limits.IdleTimeout;
            if (idleLimit > TimeSpan.Zero)
            {
                read.CancelAfter(idleLimit);
            }

            ReadOnlyMemory<byte>? packet;
            try
            {
                packet = await ReadPacketAsync(_listener.Limits.MaxMessageSize, read.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await OnReadInterruptedAsync(stopping, idleLimit).ConfigureAwait(false);
                return;
            }

            if (idleLimit > TimeSpan.Zero)
            {
                read.CancelAfter(Timeout.InfiniteTimeSpan);
            }

            if (packet is null)
            {
                return;
            }

            if (_packetSequence != 0)
            {
                throw new MySqlProtocolException($"Got packets out of order: a command must start with sequence id 0, got {_packetSequence}");
            }

            _writer.ResetSequence((byte)(_lastSequence + 1));
            Interlocked.Increment(ref _statistics.Questions);

            // A shutdown or KILL stops waiting for commands; a command that started runs to its end.
            bool keepGoing;
            try
            {
                keepGoing = await HandleCommandAsync(packet.Value).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not (MySqlProtocolException or IOException or OperationCanceledException or ObjectDisposedException
                or System.Net.Sockets.SocketException))
            {
                // A bug must not take the connection down silently: the client gets an ERR and the session goes on.
                Log.Error(EventId.SessionFailed, $"internal error in mysql session of '{_user}': {ex}");
                WriteError(MySqlError.Of(MySqlErrorCode.UnknownError, $"internal error: {ex.Message}"));
                keepGoing = true;
            }

            ShrinkPayloadBuffer();
            await Output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            if (!keepGoing || _killed.IsCancellationRequested)
            {
                if (_killed.IsCancellationRequested)
                {
                    await SendKilledAsync().ConfigureAwait(false);
                }

                return;
            }
        }
    }

    private async ValueTask OnReadInterruptedAsync(CancellationToken stopping, TimeSpan idleLimit)
    {
        _writer.ResetSequence(0);
        if (_killed.IsCancellationRequested)
        {
            await SendKilledAsync().ConfigureAwait(false);
        }
        else if (stopping.IsCancellationRequested)
        {
            await TrySendErrorAsync(new MySqlError(1053, "08S01", "Server shutdown in progress: LakeOps Edge is stopping")).ConfigureAwait(false);
        }
        else
        {
            Log.Info(EventId.SessionTimeout, $"closing mysql session of '{_user}' from {_transport.RemoteEndPoint}: idle for {idleLimit.TotalSeconds:0.###} s");
            // 4031 ER_CLIENT_INTERACTION_TIMEOUT, as MySQL 8 reports wait_timeout.
            await TrySendErrorAsync(new MySqlError(4031, "HY000",
                $"The client was disconnected by the server because of inactivity: no command for {idleLimit.TotalSeconds:0.###} s (listeners.{_listener.Name}.limits.{((_status & MySqlServerStatus.InTransaction) != 0 ? "idle_in_transaction_timeout" : "idle_timeout")})")).ConfigureAwait(false);
        }
    }

    private ValueTask SendKilledAsync()
    {
        _writer.ResetSequence(0);
        return TrySendErrorAsync(MySqlError.Of(MySqlErrorCode.ConnectionKilled, "Connection was killed"));
    }

    /// <summary>Handles one command; false ends the session.</summary>
    private async ValueTask<bool> HandleCommandAsync(ReadOnlyMemory<byte> payload)
    {
        MySqlCommand command = MySqlCommandPackets.ReadCommand(payload.Span);
        switch (command)
        {
            case MySqlCommand.Query:
                await HandleQueryAsync(payload).ConfigureAwait(false);
                return true;
            case MySqlCommand.StmtPrepare:
                await HandlePrepareAsync(payload).ConfigureAwait(false);
                return true;
            case MySqlCommand.StmtExecute:
                await HandleExecuteAsync(payload).ConfigureAwait(false);
                return true;
            case MySqlCommand.StmtSendLongData:
                HandleSendLongData(payload.Span);
                return true;
            case MySqlCommand.StmtClose:
                CloseStatement(MySqlCommandPackets.ParseStatementId(payload.Span, MySqlCommand.StmtClose));
                return true;
            case MySqlCommand.StmtReset:
                HandleStatementReset(payload.Span);
                return true;
            case MySqlCommand.Quit:
                return false;
            case MySqlCommand.Ping:
                WriteOk();
                return true;
            case MySqlCommand.InitDb:
                {
                    string name = System.Text.Encoding.UTF8.GetString(MySqlCommandPackets.ParseInitDb(payload.Span));
                    MySqlError? error = await UseDatabaseAsync(name).ConfigureAwait(false);
                    if (error is { } e)
                    {
                        WriteError(e);
                    }
                    else
                    {
                        WriteOk();
                    }

                    return true;
                }

            case MySqlCommand.FieldList:
                await HandleFieldListAsync(payload).ConfigureAwait(false);
                return true;
            case MySqlCommand.ResetConnection:
                await ResetConnectionAsync().ConfigureAwait(false);
                WriteOk();
                return true;
            case MySqlCommand.Statistics:
                WriteStatistics();
                return true;
            case MySqlCommand.SetOption:
                {
                    ushort option = MySqlCommandPackets.ParseSetOption(payload.Span);
                    if (option > 1)
                    {
                        WriteError(MySqlError.Of(MySqlErrorCode.UnknownCommand, $"Unknown COM_SET_OPTION option {option}"));
                        return true;
                    }

                    _capabilities = option == 0 ? _capabilities | MySqlCapabilities.MultiStatements : _capabilities & ~MySqlCapabilities.MultiStatements;
                    MySqlEofPacket.WriteEndMarker(_writer, _capabilities, _status, afterColumns: false);
                    return true;
                }

            case MySqlCommand.ProcessKill:
                WriteKillResult(MySqlCommandPackets.ParseProcessKill(payload.Span), connection: true, MySqlServerStatus.None);
                return true;
            default:
                WriteError(MySqlError.Of(MySqlErrorCode.UnknownCommand, $"Unknown command {MySqlCommandPackets.CommandName(command)}"));
                return true;
        }
    }

    /// <summary>
    /// Reads the next logical packet (continuations joined) into the session's payload buffer. Null when the
    /// client closed the connection. Oversized or out-of-order packets throw <see cref="MySqlProtocolException"/>.
    /// </summary>
    private async ValueTask<ReadOnlyMemory<byte>?> ReadPacketAsync(int maxPayload, CancellationToken cancellationToken)
    {
        PipeReader input = _transport.Reader;
        while (true)
        {
            ReadResult read = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = read.Buffer;
            MySqlPacketStatus status = _scanner.TryRead(buffer, maxPayload);
            switch (status)
            {
                case MySqlPacketStatus.Complete:
                    {
                        MySqlFrame frame = _scanner.Frame;
                        if (_payload.Length < frame.PayloadLength)
                        {
                            ReturnPayloadBuffer();
                            _payload = ArrayPool<byte>.Shared.Rent(Math.Max(frame.PayloadLength, 4096));
                        }

                        MySqlPacketScanner.CopyPayload(buffer, frame, _payload);
                        input.AdvanceTo(buffer.GetPosition(frame.FrameLength));
                        _packetSequence = frame.SequenceId;
                        _lastSequence = frame.LastSequenceId;
                        return _payload.AsMemory(0, frame.PayloadLength);
                    }

                case MySqlPacketStatus.TooLarge:
                    input.AdvanceTo(buffer.Start);
                    throw new MySqlProtocolException(
                        $"Got a packet bigger than 'max_allowed_packet' bytes: {_scanner.Frame.PayloadLength} bytes, the limit is {maxPayload} (listeners.{_listener.Name}.limits.max_message_size)",
                        MySqlErrorCode.NetPacketTooLarge, MySqlErrorCode.SqlStateOf(MySqlErrorCode.NetPacketTooLarge));
                case MySqlPacketStatus.OutOfOrder:
                    input.AdvanceTo(buffer.Start);
                    throw new MySqlProtocolException("Got packets out of order: a continuation packet has the wrong sequence id");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                if (!buffer.IsEmpty)
                {
                    Log.Warn(EventId.SessionProtocolError, $"mysql client {_transport.RemoteEndPoint} closed the connection in the middle of a packet");
                }

                return null;
            }
        }
    }

    private void ShrinkPayloadBuffer()
    {
        if (_payload.Length > KeptBufferBytes)
        {
            ReturnPayloadBuffer();
        }
    }

    private void ReturnPayloadBuffer()
    {
        if (_payload.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_payload);
            _payload = [];
        }
    }

    private void WriteOk(ulong affectedRows = 0, MySqlServerStatus extra = MySqlServerStatus.None)
    {
        _auditRows = (long)Math.Min(affectedRows, long.MaxValue);
        MySqlOkPacket.Write(_writer, _capabilities, affectedRows, 0, _status | extra, 0);
    }

    private void WriteError(MySqlError error)
    {
        _auditSqlState = error.SqlState;
        MySqlErrPacket.Write(_writer, error.Code, error.SqlState, error.Message);
    }

    private async ValueTask TrySendErrorAsync(MySqlError error)
    {
        try
        {
            WriteError(error);
            await Output.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            // The client is already gone.
        }
    }

    private void WriteStatistics()
    {
        TimeSpan uptime = DateTime.UtcNow - _statistics.StartedUtc;
        long questions = Interlocked.Read(ref _statistics.Questions);
        double perSecond = uptime.TotalSeconds > 0 ? questions / uptime.TotalSeconds : 0;
        string text = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Uptime: {(long)uptime.TotalSeconds}  Threads: {_registry.Count}  Questions: {questions}  Slow queries: 0  Opens: 0  Flush tables: 0  Open tables: 0  Queries per second avg: {perSecond:0.000}");
        _writer.WritePacket(System.Text.Encoding.UTF8.GetBytes(text));
    }

    /// <summary>KILL QUERY / KILL CONNECTION: only the user's own sessions may be killed.</summary>
    private void WriteKillResult(uint connectionId, bool connection, MySqlServerStatus more)
    {
        MySqlSession? target = _registry.Find(connectionId);
        if (target is null)
        {
            WriteError(MySqlError.Of(MySqlErrorCode.NoSuchThread, $"Unknown thread id: {connectionId}"));
            return;
        }

        if (!string.Equals(target.User, _user, StringComparison.Ordinal))
        {
            WriteError(MySqlError.Of(MySqlErrorCode.KillDenied, $"You are not owner of thread {connectionId}"));
            return;
        }

        Log.Info(EventId.CancelRequested, $"KILL {(connection ? "CONNECTION" : "QUERY")} {connectionId} by '{_user}' from {_transport.RemoteEndPoint}");
        if (connection)
        {
            target.Kill();
        }
        else
        {
            target.CancelRunningStatement();
        }

        WriteOk(0, more);
    }

    /// <summary>Releases everything the session holds on the engine and in the registry.</summary>
    private async ValueTask ReleaseAsync()
    {
        CloseAllStatements();
        if (ConnectionId != 0)
        {
            _registry.Unregister(ConnectionId);
        }

        if (_router is not null)
        {
            // The router owns every engine session the routed session opened (_engine is one of them).
            await _router.DisposeAsync().ConfigureAwait(false);
            _engine = null;
        }

        await ReleaseSpillRouterAsync().ConfigureAwait(false);
        await CloseEngineAsync().ConfigureAwait(false);
        await _retiredEngines.DisposeAsync().ConfigureAwait(false);
        ReturnPayloadBuffer();
        _killed.Dispose();
    }

    private async ValueTask CloseEngineAsync()
    {
        if (_engine is null)
        {
            return;
        }

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

    /// <summary>Starts the statement timer (group statement_timeout, cluster query_timeout) and marks a statement as running.</summary>
    private StatementTimer BeginStatement()
    {
        _timedOut = false;
        _statementRunning = true;
        TimeSpan clusterLimit = _config.Clusters.TryGetValue(_clusterName, out ClusterConfig? cluster) ? cluster.Limits.QueryTimeout : TimeSpan.Zero;
        return new StatementTimer(this, StatementLimits.Tightest(_group?.StatementTimeout ?? TimeSpan.Zero, clusterLimit));
    }

    private void OnStatementTimeout()
    {
        if (_statementRunning)
        {
            _timedOut = true;
            _engine?.Cancel();
            _spilledEngine?.Cancel();
            CancelGatewayWait();
        }
    }

    private void CancelGatewayWait()
    {
        try
        {
            _gatewayWait?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The wait already ended.
        }
    }

    /// <summary>Cancels the running statement when its time limit passes.</summary>
    private readonly struct StatementTimer : IDisposable
    {
        private readonly MySqlSession _session;
        private readonly Timer? _timer;

        public StatementTimer(MySqlSession session, TimeSpan limit)
        {
            _session = session;
            _timer = limit > TimeSpan.Zero ? new Timer(static s => ((MySqlSession)s!).OnStatementTimeout(), session, limit, Timeout.InfiniteTimeSpan) : null;
        }

        public void Dispose()
        {
            _timer?.Dispose();
            _session._statementRunning = false;
        }
    }
}

/// <summary>Counters a listener shares with its sessions (COM_STATISTICS).</summary>
internal sealed class MySqlListenerStatistics
{
    public DateTime StartedUtc { get; } = DateTime.UtcNow;

    public long Questions;
}

using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Engines.Pooling;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Protocols.MySql.Client;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.MySql.Passthrough;

/// <summary>What the passthrough needs to know about the authenticated client.</summary>
/// <param name="Capabilities">The capabilities the client and the front door agreed on.</param>
/// <param name="CharacterSet">The collation id from the client's handshake response.</param>
/// <param name="MaxMessageSize">Largest command packet accepted from the client.</param>
/// <param name="User">For log lines.</param>
/// <param name="StatementTimeout">The group's statement timeout (zero: none); a statement running longer gets KILL QUERY.</param>
/// <param name="Kill">
/// Handles <c>KILL [QUERY|CONNECTION] id</c> against Edge's own connection ids (the front door's session
/// registry): returns null on success or the ERR to send.
/// </param>
/// <param name="ExplainRoute">
/// Answers <c>EXPLAIN ROUTE</c>: given the statement text, the SELECT the server runs in its place, or null
/// when the text is something else.
/// </param>
/// <param name="SetEdgeTags">
/// With routing rules: takes <c>SET @edge_tags = '...'</c> (the tags, null for NULL), which Edge answers
/// itself (a user variable on the server would pin the session); null without rules.
/// </param>
internal sealed record MySqlPassthroughClient(
    MySqlCapabilities Capabilities,
    byte CharacterSet,
    int MaxMessageSize,
    string User,
    TimeSpan StatementTimeout,
    Func<uint, bool, MySqlErrPacket?> Kill,
    Func<string, string?>? ExplainRoute = null,
    Action<string?>? SetEdgeTags = null);

/// <summary>
/// The same-protocol fast path for a MySQL client on a <see cref="MySqlEngine"/> cluster. After the front door
/// authenticated the client, <see cref="RunAsync"/> serves the rest of the connection: command packets go to a
/// pooled server connection and the responses come back byte for byte (rows are never decoded; see
/// <see cref="MySqlResponseRelay"/>).
/// </summary>
/// <remarks>
/// <para>Transaction pooling: a server connection is borrowed per command and kept while the server reports
/// a transaction or autocommit off, after SET TRANSACTION (for the next statement), while long data is
/// pending, or for good when the session is pinned. SET, SET NAMES, USE and COM_INIT_DB are replayed on the
/// next connection (<see cref="MySqlSessionState"/>). Temporary tables, GET_LOCK, LOCK TABLES, user variables
/// (SET @x, SELECT ... INTO @x, :=), SQL-level PREPARE, HANDLER and XA pin the session to its connection.</para>
/// <para>Prepared statements: the client sees Edge's statement ids; each server connection prepares a statement
/// (once, cached by text) when the client's execution lands on it, and parameter types are resent when that
/// connection has others bound.</para>
/// <para>Not forwarded: COM_QUIT (ends the session), COM_PING (answered here), COM_SET_OPTION (acknowledged,
/// multi-statements stay on), COM_RESET_CONNECTION (done here), KILL (handled by Edge's registry). Cursors
/// (COM_STMT_EXECUTE with a cursor flag, COM_STMT_FETCH), COM_CHANGE_USER and replication commands are refused.
/// LAST_INSERT_ID(), FOUND_ROWS() and ROW_COUNT() in a separate autocommit statement may read another
/// connection's value (as with any transaction pooler): the OK packet carries the insert id.</para>
/// </remarks>
internal sealed partial class MySqlPassthrough
{
    /// <summary>
    /// ER_CONNECT_TO_FOREIGN_DATA_SOURCE: the engine cannot be reached. A server-range code: client libraries
    /// treat 2000-2999 (CR_CONN_HOST_ERROR 2003, ...) in an ERR packet as a malformed reply.
    /// </summary>
    private const ushort CantConnect = 1429;

    /// <summary>ER_NET_READ_ERROR: the engine connection broke during the command (2013 is client-range, see above).</summary>
    private const ushort ServerLost = 1158;

    /// <summary>ER_UNKNOWN_STMT_HANDLER.</summary>
    private const ushort UnknownStatement = 1243;

    /// <summary>ER_NOT_SUPPORTED_YET.</summary>
    private const ushort NotSupported = 1235;

    private MySqlEngine _engine;
    private readonly MySqlPassthroughClient _client;
    private ConnectionPool<MySqlServerConnection> _pool;
    private readonly MySqlSessionState _state = new();
    private readonly Dictionary<uint, ClientStatement> _statements = [];
    private readonly MySqlResponseRelay _relay = new();
    private readonly bool _queryAttributes;

    private MySqlServerConnection? _held;
    private MySqlServerConnection? _active;
    private ClientStatement? _longData;
    private uint _lastStatementId;
    private MySqlServerStatus _status = MySqlServerStatus.AutoCommit;
    private ITimer? _timeout;

    public MySqlPassthrough(MySqlEngine engine, MySqlPassthroughClient client)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(client);
        _engine = engine;
        _client = client;
        _pool = engine.PoolFor(client.Capabilities & MySqlEngine.FormatFlagMask);
        _queryAttributes = (client.Capabilities & MySqlCapabilities.QueryAttributes) != 0;
        ApplyClientCharacterSet();
    }

    /// <summary>
    /// True when <paramref name="engine"/> is a MySQL-wire engine whose connections can carry this client's
    /// wire format unchanged (learning the server's capabilities with one connection if needed). False sends
    /// the client to the Arrow path.
    /// </summary>
    public static async ValueTask<bool> CanServeAsync(IEngine engine, MySqlCapabilities client, CancellationToken cancellationToken)
    {
        if (engine is not MySqlEngine mysql
            || (client & MySqlCapabilities.Protocol41) == 0
            || (client & (MySqlCapabilities.Compress | MySqlCapabilities.ZstdCompressionAlgorithm | MySqlCapabilities.OptionalResultsetMetadata)) != 0)
        {
            return false;
        }

        if (mysql.ServerCapabilities is null)
        {
            try
            {
                MySqlServerConnection probe = await mysql.Pool.RentAsync(cancellationToken).ConfigureAwait(false);
                mysql.Pool.Return(probe);
            }
            catch (EngineException)
            {
                // The engine is down: the passthrough reports that per command (ERR 1429 naming the cluster).
                return true;
            }
        }

        return mysql.ServerCapabilities is not { } server || (client & MySqlEngine.FormatFlagMask & ~server) == 0;
    }

    /// <summary>KILL QUERY from another connection: KILL QUERY on the server connection running this client's command.</summary>
    public void CancelQuery()
    {
        CancelQueueWait();
        MySqlServerConnection? connection = Volatile.Read(ref _active);
        if (connection is not null)
        {
            _ = _engine.KillQueryAsync(connection.ConnectionId, () => ReferenceEquals(Volatile.Read(ref _active), connection));
        }
    }

    /// <summary>
    /// Serves the client until COM_QUIT, its disconnect or <paramref name="cancellationToken"/>. <paramref name="stopping"/>
    /// (Edge shuts down) only ends the wait for the next command: a running command finishes, then the client gets
    /// ER_SERVER_SHUTDOWN instead of its next command.
    /// </summary>
    public async Task RunAsync(PipeReader input, PipeWriter output, CancellationToken cancellationToken, CancellationToken stopping = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        var reader = new MySqlPacketReader(input);
        var writer = new MySqlPacketWriter(output);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        try
        {
            while (true)
            {
                ReadOnlyMemory<byte>? read;
                try
                {
                    read = await reader.ReadAsync(_client.MaxMessageSize, idle.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    await ReplyErrorAsync(writer, output, 0, ServerShutdown, "08S01", "Server shutdown in progress: LakeOps Edge is stopping", CancellationToken.None).ConfigureAwait(false);
                    return;
                }

                if (read is not { } packet)
                {
                    return;
                }

                if (packet.IsEmpty)
                {
                    throw new MySqlProtocolException("malformed command packet: empty");
                }

                var command = new Command(reader, packet, (byte)(reader.LastSequenceId + 1));
                if (!await HandleAsync(command, writer, output, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        finally
        {
            reader.Release();
            reader.ReturnScratch();
            _timeout?.Dispose();
            await ReleaseAllAsync().ConfigureAwait(false);
            _queueWait.Dispose();
        }
    }

    /// <summary>One client command: its packet (valid until released) and the sequence id a reply starts with.</summary>
    private readonly record struct Command(MySqlPacketReader Reader, ReadOnlyMemory<byte> Payload, byte ReplySequence)
    {
        public MySqlCommand Kind => (MySqlCommand)Payload.Span[0];
    }

    /// <summary>Serves one command; false ends the session.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> HandleAsync(Command command, MySqlPacketWriter writer, PipeWriter output, CancellationToken cancellationToken)
    {
        switch (command.Kind)
        {
            case MySqlCommand.Quit:
                return false;
            case MySqlCommand.Query or MySqlCommand.StmtExecute when Audit is not null:
                await AuditedAsync(command, writer, output, cancellationToken).ConfigureAwait(false);
                break;
            case MySqlCommand.Query:
                await QueryAsync(command, writer, output, cancellationToken).ConfigureAwait(false);
                break;
            case MySqlCommand.StmtExecute:
                await ExecuteAsync(command, writer, output, cancellationToken).ConfigureAwait(false);
                break;
            case MySqlCommand.StmtPrepare:
                await PrepareAsync(command, writer, output, cancellationToken).ConfigureAwait(false);
                break;
            case MySqlCommand.StmtSendLongData:
                await SendLongDataAsync(command, cancellationToken).ConfigureAwait(false);
                break;
            case MySqlCommand.StmtClose:
                await CloseStatementAsync(command, cancellationToken).ConfigureAwait(false);
                break;
            case MySqlCommand.StmtReset:
                await ResetStatementAsync(command, writer, output, cancellationToken).ConfigureAwait(false);
                break;
            case MySqlCommand.Ping:
                await ReplyOkAsync(writer, output, command.ReplySequence, cancellationToken).ConfigureAwait(false);
                break;
            case MySqlCommand.InitDb:
                string database = Encoding.UTF8.GetString(MySqlCommandPackets.ParseInitDb(command.Payload.Span));
                await ForwardAsync(command, writer, output, MySqlResponseKind.Status, stateSql: null, database, cancellationToken).ConfigureAwait(false);
                break;
            case MySqlCommand.FieldList:
                await ForwardAsync(command, writer, output, MySqlResponseKind.FieldList, null, null, cancellationToken).ConfigureAwait(false);
                break;
            case MySqlCommand.Statistics:
                await ForwardAsync(command, writer, output, MySqlResponseKind.Single, null, null, cancellationToken).ConfigureAwait(false);
                break;
            case MySqlCommand.ResetConnection:
                await ResetConnectionAsync(cancellationToken).ConfigureAwait(false);
                await ReplyOkAsync(writer, output, command.ReplySequence, cancellationToken).ConfigureAwait(false);
                break;
            case MySqlCommand.SetOption:
                // Server connections always allow multi-statements; the client's choice is acknowledged.
                MySqlCommandPackets.ParseSetOption(command.Payload.Span);
                writer.SequenceId = command.ReplySequence;
                MySqlEofPacket.WriteEndMarker(writer, _client.Capabilities, _status, afterColumns: false);
                await FlushAsync(output, cancellationToken).ConfigureAwait(false);
                break;
            case MySqlCommand.ProcessKill:
                uint target = MySqlCommandPackets.ParseProcessKill(command.Payload.Span);
                await ReplyKillAsync(target, connection: true, writer, output, command.ReplySequence, cancellationToken).ConfigureAwait(false);
                break;
            case MySqlCommand.StmtFetch:
                await ReplyErrorAsync(writer, output, command.ReplySequence, NotSupported, "42000", "cursors are not supported through Edge's MySQL passthrough", cancellationToken).ConfigureAwait(false);
                break;
            default:
                await ReplyErrorAsync(writer, output, command.ReplySequence, MySqlErrorCode.UnknownCommand, "08S01",
                    $"Unknown command {MySqlCommandPackets.CommandName(command.Kind)}", cancellationToken).ConfigureAwait(false);
                break;
        }

        return true;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask QueryAsync(Command command, MySqlPacketWriter writer, PipeWriter output, CancellationToken cancellationToken)
    {
        ReadOnlySpan<byte> sql = MySqlCommandPackets.ParseQuery(command.Payload.Span, _client.Capabilities);
        if (TryParseKill(sql, out uint target, out bool connectionKill, out bool unsupportedKill))
        {
            await ReplyKillAsync(target, connectionKill, writer, output, command.ReplySequence, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (unsupportedKill)
        {
            await ReplyErrorAsync(writer, output, command.ReplySequence, NotSupported, "42000",
                "only KILL [QUERY | CONNECTION] <connection id> is supported through Edge", cancellationToken).ConfigureAwait(false);
            return;
        }

        // EXPLAIN ROUTE is Edge's own: the server runs a SELECT of the answer in its place.
        byte[]? rewritten = ExplainRouteSelect(sql);

        // Only statements that change session state are copied (for replay once they succeed).
        byte[]? stateSql = rewritten is null && ChangesState(sql) ? sql.ToArray() : null;
        if (stateSql is not null && _client.SetEdgeTags is { } setTags && RouteAttributes.TryParseEdgeTagsSet(Encoding.UTF8.GetString(sql), out string? tags))
        {
            setTags(tags);
            await ReplyOkAsync(writer, output, command.ReplySequence, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!_queryAttributes && rewritten is null)
        {
            await ForwardAsync(command, writer, output, MySqlResponseKind.Results, stateSql, null, cancellationToken).ConfigureAwait(false);
            return;
        }

        // Query attributes are a MySQL 8 extension: the engine gets the plain statement.
        MySqlServerConnection? connection = await AcquireAsync(writer, output, command.ReplySequence, cancellationToken).ConfigureAwait(false);
        if (connection is null)
        {
            return;
        }

        Begin(connection);
        MySqlCommandWriter.WriteText(connection.Writer, MySqlCommand.Query, rewritten ?? MySqlCommandPackets.ParseQuery(command.Payload.Span, _client.Capabilities));
        byte delta = (byte)(command.Reader.LastSequenceId - (byte)(connection.Writer.SequenceId - 1));
        command.Reader.Release();
        await ExchangeAsync(connection, writer, output, MySqlResponseKind.Results, 0, delta, command.ReplySequence, stateSql, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends the client's packet unchanged and relays the response.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ForwardAsync(Command command, MySqlPacketWriter writer, PipeWriter output, MySqlResponseKind kind, byte[]? stateSql, string? database, CancellationToken cancellationToken)
    {
        MySqlServerConnection? connection = await AcquireAsync(writer, output, command.ReplySequence, cancellationToken).ConfigureAwait(false);
        if (connection is null)
        {
            return;
        }

        Begin(connection);
        foreach (ReadOnlyMemory<byte> segment in command.Reader.RawFrame)
        {
            connection.Output.Write(segment.Span);
        }

        command.Reader.Release();
        await ExchangeAsync(connection, writer, output, kind, 0, 0, command.ReplySequence, stateSql, database, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Flushes the command written to <paramref name="connection"/>, relays the response and finishes the
    /// command (state recording, keep or return the connection). A lost server connection becomes an ERR for
    /// the client when no partial packet reached it; otherwise the client connection is closed.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ExchangeAsync(MySqlServerConnection connection, MySqlPacketWriter writer, PipeWriter output, MySqlResponseKind kind,
        uint clientStatementId, byte sequenceDelta, byte replySequence, byte[]? stateSql, string? database, CancellationToken cancellationToken)
    {
        bool succeeded = false;
        try
        {
            await connection.FlushAsync(cancellationToken).ConfigureAwait(false);
            _relay.Capabilities = connection.Capabilities;
            try
            {
                await _relay.RelayAsync(connection.Input, output, kind, connection.DeprecateEof, connection.Status, clientStatementId, sequenceDelta, cancellationToken).ConfigureAwait(false);
            }
            catch (MySqlServerLostException ex)
            {
                throw connection.LostConnection(ex.InnerException, ex.Message);
            }

            connection.Status = _relay.Status;
            succeeded = !_relay.SawError;
            if (_relay.ConnectionEnded)
            {
                connection.MarkBroken();
            }
        }
        catch (EngineException ex) when (connection.IsBroken)
        {
            Finish(connection, succeeded: false, stateSql, database);
            _status = MySqlServerStatus.AutoCommit;
            Health?.ReportFailure(FailureKind.Server, ex.Message);
            if (_relay.InsidePacket)
            {
                throw new IOException("the server connection was lost in the middle of a packet to the client", ex);
            }

            Log.Warn(EventId.SessionFailed, $"mysql passthrough of '{_client.User}': {ex.Message}");
            byte sequence = _relay.CopiedAny ? (byte)(_relay.LastSequenceId + 1) : replySequence;
            await ReplyErrorAsync(writer, output, sequence, ServerLost, "08S01", "Lost connection to the engine during the query: " + ex.Message, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch
        {
            connection.MarkBroken();
            Finish(connection, succeeded: false, stateSql, database);
            throw;
        }

        Finish(connection, succeeded, stateSql, database);
    }

    private async ValueTask PrepareAsync(Command command, MySqlPacketWriter writer, PipeWriter output, CancellationToken cancellationToken)
    {
        ReadOnlySpan<byte> text = MySqlCommandPackets.ParsePrepare(command.Payload.Span);
        byte[]? rewritten = ExplainRouteSelect(text);
        string sql = Encoding.UTF8.GetString(rewritten ?? text);
        byte[]? stateSql = ChangesState(text) ? text.ToArray() : null;
        MySqlServerConnection? connection = await AcquireAsync(writer, output, command.ReplySequence, cancellationToken).ConfigureAwait(false);
        if (connection is null)
        {
            return;
        }

        uint id = NextStatementId();
        Begin(connection);
        byte delta = 0;
        if (rewritten is not null)
        {
            // Prepared as the SELECT of the answer, here and wherever it is executed later.
            MySqlCommandWriter.WriteText(connection.Writer, MySqlCommand.StmtPrepare, rewritten);
            delta = (byte)(command.Reader.LastSequenceId - (byte)(connection.Writer.SequenceId - 1));
        }
        else
        {
            foreach (ReadOnlyMemory<byte> segment in command.Reader.RawFrame)
            {
                connection.Output.Write(segment.Span);
            }
        }

        command.Reader.Release();
        await ExchangeAsync(connection, writer, output, MySqlResponseKind.Prepare, id, delta, command.ReplySequence, null, null, cancellationToken).ConfigureAwait(false);
        if (!_relay.SawError && !connection.IsBroken)
        {
            MySqlPrepareOk prepared = _relay.Prepared;
            if (connection.Statements.Find(sql) is { } previous)
            {
                connection.Statements.Remove(sql);
                MySqlCommandWriter.WriteStatementCommand(connection.Writer, MySqlCommand.StmtClose, previous.Id);
            }

            connection.Statements.Add(new MySqlServerStatement(sql, prepared.StatementId, prepared.ParameterCount, prepared.ColumnCount), connection.Writer);
            _statements[id] = new ClientStatement(sql, prepared.ParameterCount, stateSql);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ExecuteAsync(Command command, MySqlPacketWriter writer, PipeWriter output, CancellationToken cancellationToken)
    {
        if (command.Payload.Length < 5)
        {
            throw new MySqlProtocolException("malformed COM_STMT_EXECUTE packet: truncated");
        }

        uint id = BinaryPrimitives.ReadUInt32LittleEndian(command.Payload.Span[1..]);
        if (!_statements.TryGetValue(id, out ClientStatement? statement))
        {
            await ReplyErrorAsync(writer, output, command.ReplySequence, UnknownStatement, "HY000",
                string.Create(CultureInfo.InvariantCulture, $"Unknown prepared statement handler ({id}) given to mysqld_stmt_execute"), cancellationToken).ConfigureAwait(false);
            return;
        }

        MySqlServerConnection? connection = await AcquireAsync(writer, output, command.ReplySequence, cancellationToken).ConfigureAwait(false);
        if (connection is null)
        {
            return;
        }

        Begin(connection);
        MySqlServerStatement server;
        try
        {
            server = connection.Statements.Find(statement.Sql) ?? await connection.PrepareAsync(statement.Sql, null, cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException ex)
        {
            Finish(connection, succeeded: false, null, null);
            await ReplyErrorAsync(writer, output, command.ReplySequence, ErrorCodeOf(ex), ex.SqlState, ex.Message, cancellationToken).ConfigureAwait(false);
            return;
        }

        MySqlExecutePacket execute = MySqlExecutePacket.Parse(command.Payload.Span, _queryAttributes, statement.ParameterCount, statement.LastTypes, statement.LongDataParameters);
        if (execute.OpensCursor)
        {
            Finish(connection, succeeded: true, null, null);
            await ReplyErrorAsync(writer, output, command.ReplySequence, NotSupported, "42000", "cursors are not supported through Edge's MySQL passthrough", cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!execute.Types.IsEmpty && (statement.LastTypes is null || !execute.Types.SequenceEqual(statement.LastTypes)))
        {
            statement.LastTypes = execute.Types.ToArray();
        }

        byte[]? types = statement.ParameterCount == 0 ? null : statement.LastTypes;
        bool unchanged = !_queryAttributes
            && (statement.ParameterCount == 0 || !execute.Types.IsEmpty || (types is not null && server.BoundTypes is not null && types.AsSpan().SequenceEqual(server.BoundTypes)));
        byte delta = 0;
        if (unchanged)
        {
            // The client's packet as it is, with the server's statement id.
            WriteWithStatementId(connection.Writer, command.Payload.Span, server.Id);
        }
        else
        {
            execute.Write(connection.Writer, server.Id, types);
        }

        delta = (byte)(command.Reader.LastSequenceId - (byte)(connection.Writer.SequenceId - 1));
        server.BoundTypes = types;
        command.Reader.Release();
        await ExchangeAsync(connection, writer, output, MySqlResponseKind.Results, 0, delta, command.ReplySequence, statement.StateSql, null, cancellationToken).ConfigureAwait(false);
        if (ReferenceEquals(_longData, statement))
        {
            _longData = null;
            statement.LongDataParameters = 0;
            ReleaseHeldIfIdle();
        }
    }

    /// <summary>COM_STMT_SEND_LONG_DATA has no reply; the connection is kept until the statement executes.</summary>
    private async ValueTask SendLongDataAsync(Command command, CancellationToken cancellationToken)
    {
        if (command.Payload.Length < 7 || !_statements.TryGetValue(BinaryPrimitives.ReadUInt32LittleEndian(command.Payload.Span[1..]), out ClientStatement? statement))
        {
            return; // Nothing to answer; the execution reports the unknown statement.
        }

        ushort parameter = BinaryPrimitives.ReadUInt16LittleEndian(command.Payload.Span[5..]);
        MySqlServerConnection connection;
        try
        {
            connection = _held ?? await RentAsync(cancellationToken).ConfigureAwait(false);
            _held = connection;
            MySqlServerStatement server = connection.Statements.Find(statement.Sql) ?? await connection.PrepareAsync(statement.Sql, null, cancellationToken).ConfigureAwait(false);
            WriteWithStatementId(connection.Writer, command.Payload.Span, server.Id);
            command.Reader.Release();
            await connection.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException ex)
        {
            Log.Warn(EventId.SessionFailed, $"mysql passthrough of '{_client.User}': long data was not delivered: {ex.Message}");
            return;
        }

        statement.LongDataParameters |= parameter < 64 ? 1UL << parameter : 0;
        _longData = statement;
    }

    private async ValueTask CloseStatementAsync(Command command, CancellationToken cancellationToken)
    {
        uint id = MySqlCommandPackets.ParseStatementId(command.Payload.Span, MySqlCommand.StmtClose);
        if (_statements.Remove(id, out ClientStatement? statement) && ReferenceEquals(_longData, statement))
        {
            // Streamed chunks must not reach the next execution of the same text.
            await ResetServerStatementAsync(statement, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask ResetStatementAsync(Command command, MySqlPacketWriter writer, PipeWriter output, CancellationToken cancellationToken)
    {
        uint id = MySqlCommandPackets.ParseStatementId(command.Payload.Span, MySqlCommand.StmtReset);
        if (!_statements.TryGetValue(id, out ClientStatement? statement))
        {
            await ReplyErrorAsync(writer, output, command.ReplySequence, UnknownStatement, "HY000",
                string.Create(CultureInfo.InvariantCulture, $"Unknown prepared statement handler ({id}) given to mysqld_stmt_reset"), cancellationToken).ConfigureAwait(false);
            return;
        }

        if (ReferenceEquals(_longData, statement))
        {
            await ResetServerStatementAsync(statement, cancellationToken).ConfigureAwait(false);
        }

        await ReplyOkAsync(writer, output, command.ReplySequence, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>COM_STMT_RESET on the held connection (drops pending long data), then releases it if nothing else holds it.</summary>
    private async ValueTask ResetServerStatementAsync(ClientStatement statement, CancellationToken cancellationToken)
    {
        _longData = null;
        statement.LongDataParameters = 0;
        if (_held is { IsBroken: false } held && held.Statements.Find(statement.Sql) is { } server)
        {
            try
            {
                MySqlCommandWriter.WriteStatementCommand(held.Writer, MySqlCommand.StmtReset, server.Id);
                await held.FlushAsync(cancellationToken).ConfigureAwait(false);
                await held.ReadOkAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (EngineException)
            {
                held.MarkBroken();
            }
        }

        ReleaseHeldIfIdle();
    }

    /// <summary>COM_RESET_CONNECTION: a fresh session (statements, settings, pins); a held connection is reset and returned.</summary>
    private async ValueTask ResetConnectionAsync(CancellationToken cancellationToken)
    {
        _statements.Clear();
        _longData = null;
        _state.Reset();
        ApplyClientCharacterSet();
        _status = MySqlServerStatus.AutoCommit;
        MySqlServerConnection? held = _held;
        _held = null;
        if (held is not null)
        {
            await ResetAndReturnAsync(held, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask ResetAndReturnAsync(MySqlServerConnection connection, CancellationToken cancellationToken)
    {
        if (!connection.IsBroken)
        {
            try
            {
                await connection.ResetSessionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is EngineException or OperationCanceledException)
            {
                connection.MarkBroken();
            }
        }

        ReturnToPool(connection);
    }

    /// <summary>The held connection, or a pooled one brought to this session's state; on failure the client gets a 1429/1040 ERR and null.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<MySqlServerConnection?> AcquireAsync(MySqlPacketWriter writer, PipeWriter output, byte replySequence, CancellationToken cancellationToken)
    {
        try
        {
            return _held is { IsBroken: false } held ? held : await RentAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException ex) when (StatementAdmission.MySqlErrorCode(ex) is int refused and > 0)
        {
            // The group's (or cluster's) admission limit: 1040 when full, 1317 after the queue timeout.
            await ReplyErrorAsync(writer, output, replySequence, (ushort)refused, MySqlErrorCode.SqlStateOf((ushort)refused), ex.Message, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (EngineException ex)
        {
            bool busy = ex.SqlState == SqlStates.TooManyConnections;
            await ReplyErrorAsync(writer, output, replySequence,
                busy ? MySqlErrorCode.TooManyConnections : CantConnect, busy ? "08004" : "HY000",
                busy ? ex.Message : string.Create(CultureInfo.InvariantCulture, $"Unable to connect to foreign data source: can't connect to server on '{_engine.Remote.Host}:{_engine.Remote.Port}' ({ex.Message})"),
                cancellationToken).ConfigureAwait(false);
            return null;
        }
    }

    private async ValueTask<MySqlServerConnection> RentAsync(CancellationToken cancellationToken)
    {
        if (_held is not null)
        {
            // Broken: the pool closes it.
            ReturnToPool(_held);
            _held = null;
        }

        // Between transactions: a cluster that cannot take work any more is left for another member.
        bool trial = MoveIfUnavailable();
        for (int attempt = 0; ; attempt++)
        {
            if (Admission is { IsActive: true })
            {
                try
                {
                    await AdmitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch when (trial)
                {
                    // Refused or KILLed in the queue: the half-open trial never ran, another borrow may take it.
                    Health?.AbandonTrial();
                    throw;
                }
            }

            MySqlServerConnection connection;
            long started = Stopwatch.GetTimestamp();
            try
            {
                connection = await _pool.RentAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _lease.Dispose();
                bool retry = false;
                if (Health is { } failed && ex is EngineException engineError)
                {
                    retry = ClusterFailover.ReportFailure(failed, trial, engineError);
                }
                else if (trial)
                {
                    Health?.AbandonTrial();
                }

                // Nothing reached a server (refused, connect or pool timeout): once more on another member.
                if (retry && attempt == 0 && TryMove(_engine.ClusterName, out trial))
                {
                    continue;
                }

                throw;
            }

            // Reported only while the cluster's recent outcomes need it (no shared write in steady state);
            // least_loaded: the borrow is running work until the connection goes back (ends with the lease).
            ClusterFailover.OnBorrowed(Health, trial, started, CountsRunning, ref _lease);

            try
            {
                if (((connection.Capabilities ^ _client.Capabilities) & MySqlEngine.FormatFlagMask) != 0)
                {
                    // Only when the engine was down at login and came back without a capability the client uses.
                    throw new EngineException(
                        $"cluster '{_engine.ClusterName}' lacks client capabilities {(_client.Capabilities & MySqlEngine.FormatFlagMask & ~connection.Capabilities)}; reconnect",
                        SqlStates.FeatureNotSupported);
                }

                await _state.ApplyToAsync(connection, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                ReturnToPool(connection);
                throw;
            }

            return connection;
        }
    }

    private void Begin(MySqlServerConnection connection)
    {
        Volatile.Write(ref _active, connection);
        if (_client.StatementTimeout > TimeSpan.Zero)
        {
            _timeout ??= TimeProvider.System.CreateTimer(static state => ((MySqlPassthrough)state!).CancelQuery(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timeout.Change(_client.StatementTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The command on <paramref name="connection"/> is done: record its state changes, then keep or return the connection.</summary>
    private void Finish(MySqlServerConnection connection, bool succeeded, byte[]? stateSql, string? database)
    {
        _timeout?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Volatile.Write(ref _active, null);
        bool holdForNext = false;
        if (succeeded)
        {
            if (stateSql is not null)
            {
                holdForNext = _state.Record(stateSql);
                connection.AppliedState = _state.Signature;
            }

            if (database is not null)
            {
                _state.RecordDatabase(database);
                connection.AppliedState = _state.Signature;
            }
        }
        else if (stateSql is not null)
        {
            // Part of the text may have run: the connection's state is no longer known.
            connection.AppliedState = null;
        }

        _status = connection.Status;
        bool keep = !connection.IsBroken
            && ((connection.Status & MySqlServerStatus.InTransaction) != 0 || (connection.Status & MySqlServerStatus.AutoCommit) == 0
                || _state.IsPinned || holdForNext || _longData is not null);
        if (keep)
        {
            _held = connection;
            return;
        }

        _held = null;
        ReturnToPool(connection);
    }

    /// <summary>Returns the held connection when nothing (transaction, pin, long data) needs it any more.</summary>
    private void ReleaseHeldIfIdle()
    {
        if (_held is { } held && _longData is null && !_state.IsPinned
            && (held.Status & MySqlServerStatus.InTransaction) == 0 && (held.Status & MySqlServerStatus.AutoCommit) != 0)
        {
            _held = null;
            ReturnToPool(held);
        }
    }

    /// <summary>At the end of the session: a held connection may carry a transaction, locks or temp tables, so it is reset.</summary>
    private async ValueTask ReleaseAllAsync()
    {
        MySqlServerConnection? held = _held;
        _held = null;
        Volatile.Write(ref _active, null);
        if (held is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await ResetAndReturnAsync(held, timeout.Token).ConfigureAwait(false);
        }
    }

    private uint NextStatementId()
    {
        do
        {
            _lastStatementId++;
        }
        while (_lastStatementId == 0 || _statements.ContainsKey(_lastStatementId));

        return _lastStatementId;
    }

    /// <summary>A client charset other than utf8mb4 becomes a SET NAMES replayed on every server connection.</summary>
    private void ApplyClientCharacterSet()
    {
        string? names = _client.CharacterSet switch
        {
            8 or 31 or 47 or 48 or 49 or 94 => "latin1",
            33 or 83 or (>= 192 and <= 215) => "utf8mb3",
            63 => "binary",
            11 or 65 => "ascii",
            _ => null, // utf8mb4 and anything Edge does not know: the connections' own utf8mb4
        };
        if (names is not null)
        {
            _state.RecordSetting("NAMES", Encoding.ASCII.GetBytes("SET NAMES " + names));
        }
    }

    /// <summary>The SELECT that answers an <c>EXPLAIN ROUTE</c> text (UTF-8), or null for any other text (an allocation-free filter first).</summary>
    private byte[]? ExplainRouteSelect(ReadOnlySpan<byte> sql) =>
        _client.ExplainRoute is { } explain && RouteAttributes.MayBeExplainRoute(sql) && explain(Encoding.UTF8.GetString(sql)) is { } select
            ? Encoding.UTF8.GetBytes(select)
            : null;

    /// <summary>True when a statement of the text changes state that transaction pooling must follow.</summary>
    private static bool ChangesState(ReadOnlySpan<byte> sql)
    {
        int position = 0;
        while (MySqlStatementClassifier.TryNext(sql, ref position, out MySqlStatementInfo statement))
        {
            if (statement.Effect != MySqlStatementEffect.None)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>KILL [HARD | SOFT] [CONNECTION | QUERY] id, alone in the text. Other KILL forms are refused (they would reach pooled connections).</summary>
    private static bool TryParseKill(ReadOnlySpan<byte> sql, out uint target, out bool connection, out bool unsupported)
    {
        target = 0;
        connection = true;
        unsupported = false;
        var tokens = new MySqlSqlTokenizer(sql);
        MySqlSqlToken token = tokens.Next();
        if (token.Kind != MySqlSqlTokenKind.Word || !Ascii.EqualsIgnoreCase(tokens.TextOf(token), "KILL"u8))
        {
            return false;
        }

        unsupported = true;
        token = tokens.Next();
        if (token.Kind == MySqlSqlTokenKind.Word && (Ascii.EqualsIgnoreCase(tokens.TextOf(token), "HARD"u8) || Ascii.EqualsIgnoreCase(tokens.TextOf(token), "SOFT"u8)))
        {
            token = tokens.Next();
        }

        if (token.Kind == MySqlSqlTokenKind.Word && Ascii.EqualsIgnoreCase(tokens.TextOf(token), "QUERY"u8))
        {
            connection = false;
            token = tokens.Next();
        }
        else if (token.Kind == MySqlSqlTokenKind.Word && Ascii.EqualsIgnoreCase(tokens.TextOf(token), "CONNECTION"u8))
        {
            token = tokens.Next();
        }

        if (token.Kind != MySqlSqlTokenKind.Number || !uint.TryParse(tokens.TextOf(token), NumberStyles.None, CultureInfo.InvariantCulture, out target))
        {
            return false;
        }

        MySqlSqlToken end = tokens.Next();
        if (end.Kind == MySqlSqlTokenKind.Semicolon)
        {
            end = tokens.Next();
        }

        unsupported = end.Kind != MySqlSqlTokenKind.End;
        return !unsupported;
    }

    private async ValueTask ReplyKillAsync(uint target, bool connection, MySqlPacketWriter writer, PipeWriter output, byte sequence, CancellationToken cancellationToken)
    {
        MySqlErrPacket? error = _client.Kill(target, connection);
        if (error is not null)
        {
            await ReplyErrorAsync(writer, output, sequence, error.ErrorCode, error.SqlState, error.Message, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await ReplyOkAsync(writer, output, sequence, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask ReplyOkAsync(MySqlPacketWriter writer, PipeWriter output, byte sequence, CancellationToken cancellationToken)
    {
        writer.SequenceId = sequence;
        MySqlOkPacket.Write(writer, _client.Capabilities, 0, 0, _status, 0);
        await FlushAsync(output, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>ER_SERVER_SHUTDOWN, what MySQL sends a connection it closes for a shutdown.</summary>
    private const ushort ServerShutdown = 1053;

    private async ValueTask ReplyErrorAsync(MySqlPacketWriter writer, PipeWriter output, byte sequence, ushort code, string sqlState, string message, CancellationToken cancellationToken)
    {
        _replySqlState = sqlState;
        writer.SequenceId = sequence;
        MySqlErrPacket.Write(writer, code, sqlState, message);
        await FlushAsync(output, cancellationToken).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask FlushAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        FlushResult result = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted)
        {
            throw new IOException("the client closed the connection");
        }
    }

    /// <summary>A COM_STMT_* payload as the client sent it, with the server's statement id in bytes 1..4.</summary>
    private static void WriteWithStatementId(MySqlPacketWriter writer, ReadOnlySpan<byte> payload, uint statementId)
    {
        writer.ResetSequence();
        MySqlPayloadWriter copy = writer.BeginPacket(payload.Length);
        copy.WriteByte(payload[0]);
        copy.WriteUInt32(statementId);
        copy.WriteBytes(payload[5..]);
        writer.EndPacket(copy);
    }

    private static ushort ErrorCodeOf(EngineException ex) =>
        ex.Data[MySqlErrors.ErrorCodeKey] is int code ? (ushort)code : MySqlErrorCode.UnknownError;

    /// <summary>A statement the client prepared, under Edge's id.</summary>
    private sealed class ClientStatement(string sql, ushort parameterCount, byte[]? stateSql)
    {
        public string Sql { get; } = sql;

        /// <summary>Kind and fingerprint for the audit log, computed at the first audited execution.</summary>
        public (string Kind, ulong Fingerprint)? Audit { get; set; }

        public ushort ParameterCount { get; } = parameterCount;

        /// <summary>The text, when executing it changes session state (e.g. SET @x = ?).</summary>
        public byte[]? StateSql { get; } = stateSql;

        /// <summary>The types of the client's last execution with types (2 bytes per parameter).</summary>
        public byte[]? LastTypes { get; set; }

        /// <summary>Parameters (bit i) with COM_STMT_SEND_LONG_DATA chunks pending.</summary>
        public ulong LongDataParameters { get; set; }
    }
}

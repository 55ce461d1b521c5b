using System.Buffers;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Postgres;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Protocols.MySql.Types;

namespace LakeOps.Edge.Frontends.MySql;

/// <summary>Server-side prepared statements: COM_STMT_PREPARE / EXECUTE / SEND_LONG_DATA / RESET / CLOSE, binary rows.</summary>
internal sealed partial class MySqlSession
{
    /// <summary>MySQL's default max_prepared_stmt_count, applied per session.</summary>
    private const int MaxStatements = 16382;

    private readonly Dictionary<uint, PreparedStatement> _statements = [];
    private uint _nextStatementId;

    private async ValueTask HandlePrepareAsync(ReadOnlyMemory<byte> payload)
    {
        string sql;
        try
        {
            sql = StrictUtf8.GetString(MySqlCommandPackets.ParsePrepare(payload.Span));
        }
        catch (DecoderFallbackException)
        {
            WriteError(MySqlError.Of(MySqlErrorCode.TruncatedWrongValue, "Invalid utf8mb4 character string in the statement"));
            return;
        }

        if (_statements.Count >= MaxStatements)
        {
            WriteError(MySqlError.Of(MySqlErrorCode.MaxPreparedStatementCountReached,
                $"Can't create more than max_prepared_stmt_count statements (current value: {MaxStatements})"));
            return;
        }

        var statement = new PreparedStatement { Id = ++_nextStatementId, Sql = sql };
        MySqlGatewayStatement? gateway = Classify(sql);
        try
        {
            if (RouteAttributes.TryParseExplainRoute(sql, out string explained))
            {
                // Edge's own, as in COM_QUERY: answered at each execute with the session's attributes then.
                statement.ExplainRoute = explained;
                statement.ResultSchema = ExplainRouteResult.For(_router, _route, _config, explained).Schema;
            }
            else if (RouteAttributes.TryParseEdgeTagsSet(sql, out string? tags))
            {
                statement.SetsEdgeTags = true;
                statement.EdgeTags = tags;
            }
            else if (gateway is not null && gateway.Kind != MySqlGatewayKind.Transaction)
            {
                statement.Gateway = gateway;
                statement.ResultSchema = gateway.Kind is MySqlGatewayKind.Set or MySqlGatewayKind.Use or MySqlGatewayKind.Kill or MySqlGatewayKind.Do
                    ? EmptySchema
                    : GatewayResult(gateway).Schema;
            }
            else
            {
                statement.Transaction = gateway?.Transaction;
                if (_router is not null)
                {
                    if (await RouteStatementAsync(sql, gateway is { Transaction: not MySqlTransactionKind.Begin }).ConfigureAwait(false) is { } denied)
                    {
                        WriteError(denied);
                        return;
                    }

                    // Bound to its group: executions run there.
                    statement.Target = _active;
                }

                string engineSql = gateway is null ? sql : TransactionSql(sql, gateway.Transaction);
                statement.Decision = PlannedDecision();
                using StatementTimer timer = BeginStatement();
                statement.Engine = await _engine!.PrepareAsync(engineSql, CancellationToken.None).ConfigureAwait(false);
                statement.ResultSchema = statement.Engine.ReturnsRows ? statement.Engine.ResultSchema : EmptySchema;
                statement.ParameterTypes = statement.Engine.ParameterTypes;
            }
        }
        catch (GatewayException ex)
        {
            WriteError(ex.Error);
            return;
        }
        catch (EngineException ex)
        {
            WriteError(MySqlErrorMapping.FromEngine(ex, _timedOut));
            return;
        }

        int parameterCount = statement.ParameterTypes.Count;
        if (parameterCount > ushort.MaxValue)
        {
            statement.Dispose();
            WriteError(MySqlError.Of(MySqlErrorCode.ParseError, "Prepared statement contains too many placeholders"));
            return;
        }

        MySqlRowEncoder? columns = null;
        try
        {
            if (statement.ResultSchema.FieldsList.Count > 0)
            {
                columns = MySqlRowEncoder.Create(statement.ResultSchema, _textCharset);
            }
        }
        catch (MySqlEncodingException ex)
        {
            statement.Dispose();
            WriteError(new MySqlError(ex.ErrorCode, ex.SqlState, ex.Message));
            return;
        }

        statement.Types = new ushort[parameterCount];
        _statements.Add(statement.Id, statement);
        new MySqlPrepareOk(statement.Id, (ushort)(columns?.Columns.Count ?? 0), (ushort)parameterCount, 0).Write(_writer);
        if (parameterCount > 0)
        {
            foreach (IArrowType? type in statement.ParameterTypes)
            {
                MySqlTypeMapper.Describe(new Field("?", type ?? StringType.Default, true), _textCharset).Write(_writer);
            }

            MySqlEofPacket.WriteEndMarker(_writer, _capabilities, _status, afterColumns: true);
        }

        if (columns is not null)
        {
            columns.WriteColumnDefinitions(_writer);
            MySqlEofPacket.WriteEndMarker(_writer, _capabilities, _status, afterColumns: true);
        }
    }

    private async ValueTask HandleExecuteAsync(ReadOnlyMemory<byte> payload)
    {
        MySqlExecuteHeader header = MySqlCommandPackets.ParseExecuteHeader(payload.Span);
        if (!_statements.TryGetValue(header.StatementId, out PreparedStatement? statement))
        {
            WriteError(MySqlError.Of(MySqlErrorCode.UnknownStatementHandler,
                $"Unknown prepared statement handler ({header.StatementId}) given to mysqld_stmt_execute"));
            return;
        }

        int count = statement.Types.Length;
        var values = new ParameterValue[count];
        bool longDataTooLarge = statement.LongDataTooLarge;
        byte[]?[] longData = statement.TakeLongData();
        if (longDataTooLarge)
        {
            WriteError(MySqlError.Of(MySqlErrorCode.NetPacketTooLarge,
                $"Parameter of prepared statement {statement.Id} is larger than 'max_allowed_packet' ({_listener.Limits.MaxMessageSize} bytes, listeners.{_listener.Name}.limits.max_message_size)"));
            return;
        }

        try
        {
            bool bound = statement.TypesBound;
            MySqlBinaryParameters.ParseExecute(payload.Span, _capabilities, count, statement.Types, ref bound, longData, values);
            statement.TypesBound = bound;
        }
        catch (MySqlProtocolException ex) when (ex.ErrorCode == MySqlErrorCode.WrongArguments)
        {
            WriteError(new MySqlError(ex.ErrorCode, ex.SqlState, ex.Message));
            return;
        }

        if (statement.ExplainRoute is { } explained)
        {
            await using InMemoryResult explanation = ExplainRoute(explained);
            await WriteResultAsync(explanation, MySqlServerStatus.None, binary: true).ConfigureAwait(false);
            return;
        }

        if (statement.SetsEdgeTags)
        {
            _route.Tags = RouteAttributes.SplitTags(statement.EdgeTags);
            WriteOk(0, MySqlServerStatus.None);
            return;
        }

        if (statement.Gateway is { } gateway)
        {
            await RunGatewayAsync(gateway, MySqlServerStatus.None, binary: true).ConfigureAwait(false);
            return;
        }

        if (_router is not null && ActivateForExecute(statement.Target) is { } wrongGroup)
        {
            WriteError(wrongGroup);
            return;
        }

        StatementLease lease = default;
        if (statement.Transaction is null && Admission is not null)
        {
            bool admitted;
            (admitted, lease, _) = await AdmitStatementAsync(null).ConfigureAwait(false);
            if (!admitted)
            {
                return;
            }
        }

        long auditStart = _audit is null ? 0 : BeginAudit();
        using StatementTimer timer = BeginStatement();
        IQueryResult? result = null;
        try
        {
            result = await StatementObservation.RunAsync(_picker, _clusterName, (Engine: statement.Engine!, values), static s => s.Engine.ExecuteAsync(s.values, CancellationToken.None)).ConfigureAwait(false);

            bool ok = await WriteResultAsync(result, MySqlServerStatus.None, binary: true).ConfigureAwait(false);
            if (ok && statement.Transaction is { } transaction)
            {
                ApplyTransaction(transaction);
            }

            AuditEngineStatement(statement.Sql, statement.Decision, auditStart, ok);
        }
        catch (EngineException ex)
        {
            WriteError(MySqlErrorMapping.FromEngine(ex, _timedOut));
            AuditEngineStatement(statement.Sql, statement.Decision, auditStart, succeeded: false);
        }
        finally
        {
            if (result is not null)
            {
                await result.DisposeAsync().ConfigureAwait(false);
            }

            lease.Dispose();
        }
    }

    /// <summary>COM_STMT_SEND_LONG_DATA: appends to a parameter's value; no response (errors surface at execute, as in MySQL).</summary>
    private void HandleSendLongData(ReadOnlySpan<byte> payload)
    {
        MySqlLongData data = MySqlCommandPackets.ParseSendLongData(payload);
        if (_statements.TryGetValue(data.StatementId, out PreparedStatement? statement) && data.ParameterId < statement.Types.Length)
        {
            statement.AppendLongData(data.ParameterId, data.Data, _listener.Limits.MaxMessageSize);
        }
    }

    private void HandleStatementReset(ReadOnlySpan<byte> payload)
    {
        uint id = MySqlCommandPackets.ParseStatementId(payload, MySqlCommand.StmtReset);
        if (!_statements.TryGetValue(id, out PreparedStatement? statement))
        {
            WriteError(MySqlError.Of(MySqlErrorCode.UnknownStatementHandler, $"Unknown prepared statement handler ({id}) given to mysqld_stmt_reset"));
            return;
        }

        statement.TakeLongData();
        WriteOk();
    }

    private void CloseStatement(uint id)
    {
        if (_statements.Remove(id, out PreparedStatement? statement))
        {
            statement.Dispose();
        }
    }

    private void CloseAllStatements()
    {
        foreach (PreparedStatement statement in _statements.Values)
        {
            statement.Dispose();
        }

        _statements.Clear();
    }

    private static readonly Schema EmptySchema = new([], null);

    /// <summary>A prepared statement of this session: an engine statement or a gateway-answered one.</summary>
    private sealed class PreparedStatement : IDisposable
    {
        private ArrayBufferWriter<byte>?[]? _longData;

        public required uint Id { get; init; }

        public required string Sql { get; init; }

        public IPreparedStatement? Engine { get; set; }

        public MySqlGatewayStatement? Gateway { get; set; }

        /// <summary>For <c>EXPLAIN ROUTE statement</c>: the statement explained.</summary>
        public string? ExplainRoute { get; set; }

        /// <summary><c>SET @edge_tags = ...</c>: routing's tags, set at each execute to <see cref="EdgeTags"/>.</summary>
        public bool SetsEdgeTags { get; set; }

        public string? EdgeTags { get; set; }

        public MySqlTransactionKind? Transaction { get; set; }

        /// <summary>The group's engine session it was prepared on (per-statement routing only).</summary>
        public LakeOps.Edge.Frontends.Routing.GroupEngine? Target { get; set; }

        /// <summary>The routing decision behind <see cref="Target"/> (or the login decision), for the audit record.</summary>
        public LakeOps.Edge.Routing.RouteDecision Decision { get; set; }

        public IReadOnlyList<IArrowType?> ParameterTypes { get; set; } = [];

        public Schema ResultSchema { get; set; } = EmptySchema;

        /// <summary>Parameter types the client bound last (two bytes each); reused when it sends none.</summary>
        public ushort[] Types { get; set; } = [];

        public bool TypesBound { get; set; }

        /// <summary>A parameter's long data grew past max_message_size; the next execute fails.</summary>
        public bool LongDataTooLarge { get; private set; }

        public void AppendLongData(int parameter, ReadOnlySpan<byte> chunk, int limit)
        {
            _longData ??= new ArrayBufferWriter<byte>?[Types.Length];
            ArrayBufferWriter<byte> buffer = _longData[parameter] ??= new ArrayBufferWriter<byte>();
            if (LongDataTooLarge || buffer.WrittenCount + (long)chunk.Length > limit)
            {
                // Over the message limit: drop the value and fail the next execute, as MySQL does.
                LongDataTooLarge = true;
                return;
            }

            buffer.Write(chunk);
        }

        /// <summary>The long data sent since the last execute (one entry per parameter, null where none), and forgets it.</summary>
        public byte[]?[] TakeLongData()
        {
            if (_longData is null)
            {
                return [];
            }

            var values = new byte[]?[_longData.Length];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = _longData[i]?.WrittenSpan.ToArray();
            }

            _longData = null;
            LongDataTooLarge = false;
            return values;
        }

        public void Dispose() => Engine?.Dispose();
    }
}

using Apache.Arrow;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Postgres.Client;

namespace LakeOps.Edge.Engines.Postgres;

/// <summary>
/// The streamed result of one statement on a server connection. The first batch is read before the
/// session hands the result out, so errors that precede the first row (most of them) surface from
/// ExecuteAsync. The connection stays with the result until ReadyForQuery; then the session gets it back
/// (and returns it to the pool unless a transaction is open).
/// </summary>
internal sealed class PgQueryResult : IQueryResult
{
    /// <summary>Disposing an unfinished result drains at most this much before giving the connection up instead.</summary>
    private const long DrainBudgetBytes = 8L * 1024 * 1024;

    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private static readonly Schema EmptySchema = new Schema.Builder().Build();

    private readonly PgEngineSession _session;
    private readonly PgStatementEffect _effect;
    private readonly string? _parsingName;
    private readonly PgColumnSpec[]? _expected;
    private PgServerConnection? _connection;
    private PgBatchBuilder? _builder;
    private RecordBatch? _pending;
    private PgError? _error;
    private bool _committed;
    private bool _shapeChanged;

    /// <param name="session">The owner, told when the exchange ends.</param>
    /// <param name="connection">The connection the statement was sent on.</param>
    /// <param name="effect">What the statement does to session state.</param>
    /// <param name="columns">The result columns when known before execution (then formats were requested for them); null to take them from a RowDescription in the stream.</param>
    /// <param name="returnsRows">With <paramref name="columns"/>: whether the statement returns rows.</param>
    /// <param name="parsingName">A named statement parsed in this exchange, recorded on the connection at ParseComplete.</param>
    public PgQueryResult(PgEngineSession session, PgServerConnection connection, in PgStatementEffect effect, PgColumnSpec[]? columns, bool returnsRows, string? parsingName)
    {
        _session = session;
        _connection = connection;
        _effect = effect;
        _parsingName = parsingName;
        _expected = columns;
        Schema = EmptySchema;
        if (columns is not null && returnsRows)
        {
            _builder = new PgBatchBuilder(columns);
            Schema = _builder.Schema;
            ReturnsRows = true;
        }
    }

    public Schema Schema { get; private set; }

    public bool ReturnsRows { get; private set; }

    public long RowsAffected { get; private set; } = -1;

    /// <summary>True once ReadyForQuery arrived (or the connection was given up).</summary>
    public bool IsComplete => _connection is null;

    /// <summary>The session gave the connection up (it broke): the result has nothing more to read.</summary>
    public void Detach()
    {
        _connection = null;
        _pending = null;
    }

    /// <summary>Reads up to the first batch (or to the end for statements without rows).</summary>
    public async ValueTask StartAsync(CancellationToken cancellationToken) =>
        _pending = await FillAsync(cancellationToken).ConfigureAwait(false);

    public ValueTask<RecordBatch?> ReadBatchAsync(CancellationToken cancellationToken)
    {
        if (_pending is { } first)
        {
            _pending = null;
            return new ValueTask<RecordBatch?>(first);
        }

        return _connection is null ? new ValueTask<RecordBatch?>((RecordBatch?)null) : FillAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _pending = null;
        if (_connection is not null)
        {
            await DrainAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask<RecordBatch?> FillAsync(CancellationToken cancellationToken)
    {
        PgServerConnection connection = _connection!;
        PgMessageReader reader = connection.Messages;
        try
        {
            while (true)
            {
                byte type = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                switch (type)
                {
                    case PgMessageTypes.DataRow:
                        if (_shapeChanged || _error is not null)
                        {
                            break;
                        }

                        if (_builder is null)
                        {
                            throw new PgProtocolException("DataRow without a RowDescription");
                        }

                        AppendRow(connection, reader.Body.Span);
                        if (_builder.IsFull)
                        {
                            return _builder.Build();
                        }

                        break;
                    case PgMessageTypes.CommandComplete:
                        ReadOnlySpan<byte> tag = reader.Body.Span;
                        RowsAffected = PgCommandTag.RowCount(tag);
                        _committed = PgCommandTag.Command(tag).SequenceEqual("COMMIT"u8);
                        break;
                    case PgMessageTypes.RowDescription:
                        OnRowDescription(RowDescriptionMessage.Parse(reader.Body.Span));
                        break;
                    case PgMessageTypes.ParseComplete:
                        if (_parsingName is not null)
                        {
                            connection.PreparedStatements.Add(_parsingName);
                        }

                        break;
                    case PgMessageTypes.ErrorResponse:
                        PgError error = ErrorResponseMessage.Parse(reader.Body.Span);
                        if (PgEngineSession.IsFatal(error))
                        {
                            throw _session.ConnectionLost(this, connection, $"the server ended the session: {error.Message} ({error.SqlState})", null);
                        }

                        _error ??= error;
                        break;
                    case PgMessageTypes.ReadyForQuery:
                        byte status = ReadyForQueryMessage.Parse(reader.Body.Span);
                        _connection = null;
                        _session.OnExchangeComplete(this, connection, status, _effect, succeeded: _error is null && !_shapeChanged, _committed);
                        if (_error is { } failed)
                        {
                            throw _session.ServerError(failed);
                        }

                        if (_shapeChanged)
                        {
                            throw new EngineException("cached plan must not change result type", SqlStates.FeatureNotSupported);
                        }

                        return _builder is { Rows: > 0 } ? _builder.Build() : null;
                    case PgMessageTypes.ParameterStatus:
                        var parameter = ParameterStatusMessage.Parse(reader.Body.Span);
                        connection.SetServerParameter(parameter.Name, parameter.Value);
                        break;
                    case PgMessageTypes.CopyInResponse:
                        // Nothing to feed it: fail the COPY; the server answers with an error and ReadyForQuery.
                        PgCopyFail.Write(connection.Output, "COPY FROM STDIN is not supported through LakeOps Edge");
                        PgFrontendWriter.WriteSync(connection.Output);
                        await connection.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                        break;
                    case PgMessageTypes.CopyOutResponse:
                        _error ??= new PgError(PgSeverity.Error, SqlStates.FeatureNotSupported, "COPY TO STDOUT is not supported through LakeOps Edge");
                        break;
                    case PgMessageTypes.CopyData or PgMessageTypes.CopyDone:
                        break;
                    case PgMessageTypes.BindComplete or PgMessageTypes.CloseComplete or PgMessageTypes.NoData
                        or PgMessageTypes.ParameterDescription or PgMessageTypes.EmptyQueryResponse or PgMessageTypes.PortalSuspended
                        or PgMessageTypes.NoticeResponse or PgMessageTypes.NotificationResponse:
                        break;
                    default:
                        throw new PgProtocolException($"unexpected {PgMessageTypes.DescribeBackend(type)} in a query result");
                }
            }
        }
        catch (Exception ex) when (_connection is not null && PgEngineSession.IsConnectionFailure(ex))
        {
            throw _session.ConnectionLost(this, connection, ex.Message, ex);
        }
        catch (OperationCanceledException) when (_connection is not null)
        {
            // Mid-exchange: the connection's protocol state is unknown.
            _session.ConnectionLost(this, connection, "the statement was abandoned", null);
            throw;
        }
    }

    private void AppendRow(PgServerConnection connection, ReadOnlySpan<byte> body)
    {
        try
        {
            _builder!.AppendRow(body);
        }
        catch (EngineException error)
        {
            // A value Arrow cannot hold: the rest of the result is still on the wire, so give the connection up.
            _session.ConnectionLost(this, connection, error.Message, error);
            throw;
        }
    }

    private void OnRowDescription(PgFieldDescription[] fields)
    {
        if (_expected is null)
        {
            // The server chose the formats (text, unless Bind asked otherwise).
            var columns = new PgColumnSpec[fields.Length];
            for (int i = 0; i < fields.Length; i++)
            {
                columns[i] = PgColumnSpec.Map(fields[i], allowBinary: fields[i].FormatCode == 1);
            }

            _builder = new PgBatchBuilder(columns);
            Schema = _builder.Schema;
            ReturnsRows = true;
            return;
        }

        // A re-prepared statement: its rows must still match what the client was told.
        if (fields.Length != _expected.Length)
        {
            _shapeChanged = true;
            return;
        }

        for (int i = 0; i < fields.Length; i++)
        {
            if (fields[i].TypeOid != _expected[i].TypeOid)
            {
                _shapeChanged = true;
                return;
            }
        }
    }

    private async ValueTask DrainAsync()
    {
        PgServerConnection connection = _connection!;
        PgMessageReader reader = connection.Messages;
        long budget = DrainBudgetBytes;
        using var timeout = new CancellationTokenSource(DrainTimeout);
        try
        {
            while (budget > 0)
            {
                byte type = await reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                budget -= reader.Body.Length + PgFrameScanner.HeaderLength;
                switch (type)
                {
                    case PgMessageTypes.ReadyForQuery:
                        _connection = null;
                        _session.OnExchangeComplete(this, connection, ReadyForQueryMessage.Parse(reader.Body.Span), _effect,
                            succeeded: _error is null && !_shapeChanged, _committed);
                        return;
                    case PgMessageTypes.CommandComplete:
                        _committed = PgCommandTag.Command(reader.Body.Span).SequenceEqual("COMMIT"u8);
                        break;
                    case PgMessageTypes.ErrorResponse:
                        _error ??= ErrorResponseMessage.Parse(reader.Body.Span);
                        break;
                    case PgMessageTypes.ParseComplete when _parsingName is not null:
                        connection.PreparedStatements.Add(_parsingName);
                        break;
                }
            }
        }
        catch (Exception ex) when (PgEngineSession.IsConnectionFailure(ex) || ex is OperationCanceledException)
        {
        }

        // Too much left (or the server stopped answering): closing the connection is cheaper than reading on.
        if (_connection is not null)
        {
            _session.ConnectionLost(this, connection, "result abandoned", null);
        }
    }
}

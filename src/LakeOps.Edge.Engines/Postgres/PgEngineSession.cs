using System.Net.Sockets;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Engines.Postgres;

/// <summary>
/// A client session (of a non-PostgreSQL front door) on a <see cref="PostgresEngine"/>, with transaction
/// pooling: a server connection is borrowed per statement and held only from BEGIN to COMMIT/ROLLBACK (as
/// ReadyForQuery reports) or while a result streams. What must follow the client travels with it:
/// <list type="bullet">
/// <item>session SETs are remembered and, when the next connection's <see cref="PgServerConnection.SettingsKey"/>
///   differs, replayed after a reset (SETs inside a transaction count once it commits);</item>
/// <item>prepared statements carry a pool-wide unique name and are parsed again on any connection that lacks them.</item>
/// </list>
/// Temp tables, LISTEN, advisory locks and <c>set_config(..., false)</c> are NOT carried over: they stay
/// on whichever connection ran them.
/// </summary>
/// <remarks>
/// Ad-hoc statements take two round trips (Parse + Describe, then Bind + Execute) so result formats can
/// be chosen per column: binary for every type Edge decodes, text for the rest. Statements that never
/// return rows (SET, BEGIN, DDL, ...) take one. A string with several statements runs them one after the
/// other (each in its own implicit transaction) and returns the last one's result.
/// </remarks>
internal sealed class PgEngineSession : IEngineSession
{
    /// <summary>Named statements kept per server connection before Edge closes its own ones there.</summary>
    internal const int MaxPreparedPerConnection = 500;

    private static readonly TimeSpan RollbackTimeout = TimeSpan.FromSeconds(5);

    private readonly PostgresEngine _engine;
    private readonly PgSessionSettings _settings = new();
    private readonly List<PgStatementEffect> _pending = [];
    private bool _pendingUncertain;
    private PgServerConnection? _connection;
    private PgQueryResult? _open;
    private PgServerConnection? _running;
    private int _disposed;

    public PgEngineSession(PostgresEngine engine) => _engine = engine;

    /// <summary>The server connection held right now (inside a transaction or while a result streams), for tests.</summary>
    internal PgServerConnection? HeldConnection => _connection;

    private string ClusterName => _engine.ClusterName;

    public ValueTask<IQueryResult> ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sql);
        return ExecuteCoreAsync(sql, cancellationToken);
    }

    public ValueTask<IPreparedStatement> PrepareAsync(string sql, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sql);
        return PrepareCoreAsync(sql, cancellationToken);
    }

    public void Cancel()
    {
        if (Volatile.Read(ref _running) is { } connection)
        {
            _ = SendCancelAsync(connection);
        }

        static async Task SendCancelAsync(PgServerConnection connection)
        {
            try
            {
                await connection.SendCancelRequestAsync().ConfigureAwait(false);
            }
            catch (EngineException error)
            {
                Log.Warn(EventId.CancelRequested, error.Message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await CloseOpenResultAsync().ConfigureAwait(false);
        if (_connection is { } connection)
        {
            // A transaction is open: end it before the connection serves anyone else.
            try
            {
                using var timeout = new CancellationTokenSource(RollbackTimeout);
                PgFrontendWriter.WriteQuery(connection.Output, "ROLLBACK");
                await connection.Output.FlushAsync(timeout.Token).ConfigureAwait(false);
                await ReadSimpleAsync(connection, timeout.Token).ConfigureAwait(false);
                connection.SettingsKey = _pendingUncertain ? null : _settings.Key;
                if (connection.TransactionStatus != PgTransactionStatus.Idle)
                {
                    connection.MarkBroken();
                }
            }
            catch (Exception ex) when (IsConnectionFailure(ex) || ex is OperationCanceledException or EngineException)
            {
                connection.MarkBroken();
            }

            ReturnConnection();
        }
    }

    internal static bool IsFatal(in PgError error) => error.Severity is PgSeverity.Fatal or PgSeverity.Panic;

    internal static bool IsConnectionFailure(Exception exception) =>
        exception is IOException or SocketException or PgProtocolException or ObjectDisposedException;

    internal EngineException ServerError(in PgError error) => new(error.Message, error.SqlState);

    /// <summary>
    /// The connection broke (or its state is unknown): it goes back to the pool marked broken (the pool
    /// closes it) and the session forgets it, so the next statement gets a fresh one.
    /// </summary>
    internal EngineException ConnectionLost(PgQueryResult? result, PgServerConnection connection, string reason, Exception? inner)
    {
        bool inTransaction = connection.TransactionStatus != PgTransactionStatus.Idle;
        connection.MarkBroken();
        try
        {
            connection.Messages.Release();
        }
        catch (InvalidOperationException)
        {
            // The pipe is already completed; the connection is being thrown away anyway.
        }

        if (result is not null)
        {
            result.Detach();
            if (ReferenceEquals(_open, result))
            {
                _open = null;
            }
        }

        Volatile.Write(ref _running, null);
        _pending.Clear();
        _pendingUncertain = false;
        if (ReferenceEquals(_connection, connection))
        {
            ReturnConnection();
        }

        string transaction = inTransaction ? "; the open transaction is lost" : "";
        return new EngineException($"cluster '{ClusterName}': lost the connection to the server at {connection.Endpoint}: {reason}{transaction}", SqlStates.ConnectionFailure, inner);
    }

    /// <summary>Called by a result at its ReadyForQuery: tracks transaction and settings state, and lets the connection go when idle.</summary>
    internal void OnExchangeComplete(PgQueryResult? result, PgServerConnection connection, byte status, in PgStatementEffect effect, bool succeeded, bool committed)
    {
        byte previous = connection.TransactionStatus;
        connection.TransactionStatus = status;
        connection.Messages.Release();
        Volatile.Write(ref _running, null);
        if (result is not null && ReferenceEquals(_open, result))
        {
            _open = null;
        }

        if (succeeded && effect.Kind != PgEffectKind.None)
        {
            if (effect.Kind is PgEffectKind.DiscardAll or PgEffectKind.DeallocateAll)
            {
                connection.PreparedStatements.Clear();
            }

            if (previous == PgTransactionStatus.Idle && status == PgTransactionStatus.Idle)
            {
                _settings.Apply(effect);
            }
            else
            {
                _pending.Add(effect);
                _pendingUncertain |= effect.Kind == PgEffectKind.RollbackToSavepoint;
                connection.SettingsKey = null;
            }
        }

        if (status != PgTransactionStatus.Idle)
        {
            return;
        }

        if (previous != PgTransactionStatus.Idle)
        {
            // The transaction ended: its SETs count only if it committed.
            if (committed)
            {
                foreach (PgStatementEffect pending in _pending)
                {
                    _settings.Apply(pending);
                }
            }

            connection.SettingsKey = _pendingUncertain ? null : _settings.Key;
            _pending.Clear();
            _pendingUncertain = false;
        }
        else
        {
            connection.SettingsKey = _settings.Key;
        }

        ReturnConnection();
    }

    internal async ValueTask<IQueryResult> ExecutePreparedAsync(PgPreparedStatement statement, ReadOnlyMemory<ParameterValue> parameters, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await CloseOpenResultAsync().ConfigureAwait(false);
        int[] types = statement.ParameterOids;
        if (parameters.Length != types.Length)
        {
            throw new EngineException($"the statement takes {types.Length} parameters but {parameters.Length} were given", SqlStates.ProtocolViolation);
        }

        var values = new byte[]?[types.Length];
        var formats = new short[types.Length];
        ReadOnlySpan<ParameterValue> span = parameters.Span;
        for (int i = 0; i < types.Length; i++)
        {
            values[i] = PgParameterWriter.Encode(span[i], types[i], out formats[i]);
        }

        PgServerConnection connection = await AcquireAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Volatile.Write(ref _running, connection);
            bool parse = !connection.PreparedStatements.Contains(statement.Name);
            if (parse)
            {
                // This connection has not seen the statement: parse it with the types the client was told.
                EvictIfFull(connection);
                PgFrontendWriter.WriteParse(connection.Output, statement.Name, statement.Sql, types);
            }

            PgFrontendWriter.WriteBind(connection.Output, "", statement.Name, formats, values, statement.ResultFormats);
            if (parse)
            {
                PgFrontendWriter.WriteDescribe(connection.Output, StatementOrPortal.Portal, "");
            }

            PgFrontendWriter.WriteExecute(connection.Output, "", 0);
            PgFrontendWriter.WriteSync(connection.Output);
            await connection.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            var result = new PgQueryResult(this, connection, statement.Effect, statement.Columns, statement.ReturnsRows, parse ? statement.Name : null);
            _open = result;
            await result.StartAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            throw ConnectionLost(null, connection, ex.Message, ex);
        }
        catch (OperationCanceledException) when (_connection == connection && _open is null)
        {
            ConnectionLost(null, connection, "the statement was abandoned", null);
            throw;
        }
    }

    private async ValueTask<IQueryResult> ExecuteCoreAsync(string sql, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await CloseOpenResultAsync().ConfigureAwait(false);
        IReadOnlyList<string> statements = SqlSplitter.Split(sql);
        if (statements.Count == 0)
        {
            return EmptyQueryResult.Instance;
        }

        for (int i = 0; i < statements.Count - 1; i++)
        {
            IQueryResult earlier = await RunAsync(statements[i], cancellationToken).ConfigureAwait(false);
            await using (earlier.ConfigureAwait(false))
            {
                while (await earlier.ReadBatchAsync(cancellationToken).ConfigureAwait(false) is not null)
                {
                }
            }
        }

        return await RunAsync(statements[^1], cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<IQueryResult> RunAsync(string sql, CancellationToken cancellationToken)
    {
        StatementKind kind = StatementClassifier.Classify(sql).Kind;
        var effect = PgStatementEffect.Of(sql, kind);
        PgServerConnection connection = await AcquireAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Volatile.Write(ref _running, connection);
            PgColumnSpec[]? columns = null;
            bool returnsRows = false;
            if (NeverReturnsRows(kind))
            {
                // One round trip; should rows come anyway, they arrive in text format.
                PgFrontendWriter.WriteParse(connection.Output, "", sql, []);
                PgFrontendWriter.WriteBind(connection.Output, "", "", [], [], []);
                PgFrontendWriter.WriteDescribe(connection.Output, StatementOrPortal.Portal, "");
            }
            else
            {
                PgFrontendWriter.WriteParse(connection.Output, "", sql, []);
                PgFrontendWriter.WriteDescribe(connection.Output, StatementOrPortal.Statement, "");
                PgFrontendWriter.WriteSync(connection.Output);
                await connection.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                Description description = await ReadDescribeAsync(connection, null, cancellationToken).ConfigureAwait(false);
                if (description.Error is { } error)
                {
                    FinishSideExchange(connection);
                    throw ServerError(error);
                }

                columns = MapColumns(description.Fields);
                returnsRows = description.Fields is not null;
                PgFrontendWriter.WriteBind(connection.Output, "", "", [], [], ResultFormats(columns));
            }

            PgFrontendWriter.WriteExecute(connection.Output, "", 0);
            PgFrontendWriter.WriteSync(connection.Output);
            await connection.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            var result = new PgQueryResult(this, connection, effect, columns, returnsRows, parsingName: null);
            _open = result;
            await result.StartAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            throw ConnectionLost(null, connection, ex.Message, ex);
        }
        catch (OperationCanceledException) when (_connection == connection && _open is null)
        {
            ConnectionLost(null, connection, "the statement was abandoned", null);
            throw;
        }
    }

    private async ValueTask<IPreparedStatement> PrepareCoreAsync(string sql, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await CloseOpenResultAsync().ConfigureAwait(false);
        StatementKind kind = StatementClassifier.Classify(sql).Kind;
        PgServerConnection connection = await AcquireAsync(cancellationToken).ConfigureAwait(false);
        string name = _engine.NextStatementName();
        try
        {
            Volatile.Write(ref _running, connection);
            EvictIfFull(connection);
            PgFrontendWriter.WriteParse(connection.Output, name, sql, []);
            PgFrontendWriter.WriteDescribe(connection.Output, StatementOrPortal.Statement, name);
            PgFrontendWriter.WriteSync(connection.Output);
            await connection.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            Description description = await ReadDescribeAsync(connection, name, cancellationToken).ConfigureAwait(false);
            FinishSideExchange(connection);
            if (description.Error is { } error)
            {
                throw ServerError(error);
            }

            var statement = new PgPreparedStatement(this, name, sql, description.ParameterOids, MapColumns(description.Fields),
                description.Fields is not null, PgStatementEffect.Of(sql, kind));
            return statement;
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            throw ConnectionLost(null, connection, ex.Message, ex);
        }
        catch (OperationCanceledException) when (_connection == connection)
        {
            ConnectionLost(null, connection, "the statement was abandoned", null);
            throw;
        }
    }

    /// <summary>The session's connection: the held one, or one from the pool brought to the session's settings.</summary>
    private async ValueTask<PgServerConnection> AcquireAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } held)
        {
            return held;
        }

        PgServerConnection connection = await _engine.Pool.RentAsync(cancellationToken).ConfigureAwait(false);
        _connection = connection;
        if (string.Equals(connection.SettingsKey, _settings.Key, StringComparison.Ordinal))
        {
            return connection;
        }

        try
        {
            PgFrontendWriter.WriteQuery(connection.Output, _settings.ReplayScript);
            await connection.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            PgError? error = await ReadSimpleAsync(connection, cancellationToken).ConfigureAwait(false);
            if (error is { } failed)
            {
                connection.SettingsKey = null;
                ReturnConnection();
                throw new EngineException($"could not restore the session's settings on another server connection: {failed.Message}", failed.SqlState);
            }

            connection.SettingsKey = _settings.Key;
            return connection;
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            throw ConnectionLost(null, connection, ex.Message, ex);
        }
        catch (OperationCanceledException)
        {
            ConnectionLost(null, connection, "the statement was abandoned", null);
            throw;
        }
    }

    /// <summary>A Parse/Describe/Sync exchange is over: the connection stays for the statement, unless that failed outside a transaction.</summary>
    private void FinishSideExchange(PgServerConnection connection)
    {
        Volatile.Write(ref _running, null);
        if (connection.TransactionStatus == PgTransactionStatus.Idle)
        {
            ReturnConnection();
        }
    }

    private void ReturnConnection()
    {
        PgServerConnection? connection = _connection;
        _connection = null;
        if (connection is not null)
        {
            _engine.Pool.Return(connection);
        }
    }

    /// <summary>Closes Edge's own named statements on a connection that holds too many (replies come as CloseComplete, which readers skip).</summary>
    private static void EvictIfFull(PgServerConnection connection)
    {
        if (connection.PreparedStatements.Count < MaxPreparedPerConnection)
        {
            return;
        }

        var ours = new List<string>();
        foreach (string name in connection.PreparedStatements)
        {
            if (name.StartsWith(PostgresEngine.StatementPrefix, StringComparison.Ordinal))
            {
                ours.Add(name);
            }
        }

        foreach (string name in ours)
        {
            PgFrontendWriter.WriteClose(connection.Output, StatementOrPortal.Statement, name);
            connection.PreparedStatements.Remove(name);
        }
    }

    private readonly record struct Description(int[] ParameterOids, PgFieldDescription[]? Fields, PgError? Error);

    /// <summary>Reads the answer to Parse + Describe(statement) + Sync, up to and including ReadyForQuery.</summary>
    private async ValueTask<Description> ReadDescribeAsync(PgServerConnection connection, string? parsingName, CancellationToken cancellationToken)
    {
        int[] parameterOids = [];
        PgFieldDescription[]? fields = null;
        PgError? error = null;
        PgMessageReader reader = connection.Messages;
        while (true)
        {
            byte type = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            switch (type)
            {
                case PgMessageTypes.ParseComplete:
                    if (parsingName is not null)
                    {
                        connection.PreparedStatements.Add(parsingName);
                    }

                    break;
                case PgMessageTypes.ParameterDescription:
                    parameterOids = ParameterDescriptionMessage.Parse(reader.Body.Span);
                    break;
                case PgMessageTypes.RowDescription:
                    fields = RowDescriptionMessage.Parse(reader.Body.Span);
                    break;
                case PgMessageTypes.ErrorResponse:
                    PgError failed = ErrorResponseMessage.Parse(reader.Body.Span);
                    if (IsFatal(failed))
                    {
                        throw ConnectionLost(null, connection, $"the server ended the session: {failed.Message} ({failed.SqlState})", null);
                    }

                    error ??= failed;
                    break;
                case PgMessageTypes.ReadyForQuery:
                    connection.TransactionStatus = ReadyForQueryMessage.Parse(reader.Body.Span);
                    reader.Release();
                    return new Description(parameterOids, fields, error);
                case PgMessageTypes.ParameterStatus:
                    var parameter = ParameterStatusMessage.Parse(reader.Body.Span);
                    connection.SetServerParameter(parameter.Name, parameter.Value);
                    break;
                case PgMessageTypes.NoData or PgMessageTypes.CloseComplete or PgMessageTypes.NoticeResponse or PgMessageTypes.NotificationResponse:
                    break;
                default:
                    throw new PgProtocolException($"unexpected {PgMessageTypes.DescribeBackend(type)} after Describe");
            }
        }
    }

    /// <summary>Reads the answer to a simple Query up to ReadyForQuery, ignoring rows; returns the first error.</summary>
    private async ValueTask<PgError?> ReadSimpleAsync(PgServerConnection connection, CancellationToken cancellationToken)
    {
        PgError? error = null;
        PgMessageReader reader = connection.Messages;
        while (true)
        {
            byte type = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            switch (type)
            {
                case PgMessageTypes.ErrorResponse:
                    PgError failed = ErrorResponseMessage.Parse(reader.Body.Span);
                    if (IsFatal(failed))
                    {
                        throw ConnectionLost(null, connection, $"the server ended the session: {failed.Message} ({failed.SqlState})", null);
                    }

                    error ??= failed;
                    break;
                case PgMessageTypes.ReadyForQuery:
                    connection.TransactionStatus = ReadyForQueryMessage.Parse(reader.Body.Span);
                    reader.Release();
                    return error;
                case PgMessageTypes.ParameterStatus:
                    var parameter = ParameterStatusMessage.Parse(reader.Body.Span);
                    connection.SetServerParameter(parameter.Name, parameter.Value);
                    break;
                case PgMessageTypes.CopyInResponse or PgMessageTypes.CopyOutResponse or PgMessageTypes.CopyBothResponse:
                    throw new PgProtocolException("COPY is not expected here");
                default:
                    break; // CommandComplete, RowDescription, DataRow, EmptyQueryResponse, notices
            }
        }
    }

    private static PgColumnSpec[] MapColumns(PgFieldDescription[]? fields)
    {
        if (fields is null || fields.Length == 0)
        {
            return [];
        }

        var columns = new PgColumnSpec[fields.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            columns[i] = PgColumnSpec.Map(fields[i]);
        }

        return columns;
    }

    /// <summary>Bind's result format codes: one code for all when they agree, else one per column.</summary>
    internal static short[] ResultFormats(PgColumnSpec[] columns)
    {
        if (columns.Length == 0)
        {
            return [];
        }

        bool allBinary = true;
        foreach (PgColumnSpec column in columns)
        {
            allBinary &= column.Format == 1;
        }

        if (allBinary)
        {
            return [1];
        }

        var formats = new short[columns.Length];
        for (int i = 0; i < columns.Length; i++)
        {
            formats[i] = columns[i].Format;
        }

        return formats;
    }

    private static bool NeverReturnsRows(StatementKind kind) => kind is StatementKind.Set or StatementKind.Reset
        or StatementKind.Begin or StatementKind.Commit or StatementKind.Rollback or StatementKind.Savepoint
        or StatementKind.Release or StatementKind.RollbackToSavepoint or StatementKind.Discard or StatementKind.Deallocate
        or StatementKind.Create or StatementKind.Drop or StatementKind.Alter or StatementKind.Truncate or StatementKind.Grant
        or StatementKind.Revoke or StatementKind.Vacuum or StatementKind.Analyze or StatementKind.Listen
        or StatementKind.Unlisten or StatementKind.Notify or StatementKind.Do or StatementKind.Prepare
        or StatementKind.Declare or StatementKind.Close or StatementKind.CreateTableAs;

    private async ValueTask CloseOpenResultAsync()
    {
        if (_open is { } open)
        {
            _open = null;
            await open.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>The result of an empty statement string.</summary>
    private sealed class EmptyQueryResult : IQueryResult
    {
        public static readonly EmptyQueryResult Instance = new();

        public Apache.Arrow.Schema Schema { get; } = new Apache.Arrow.Schema.Builder().Build();

        public bool ReturnsRows => false;

        public long RowsAffected => -1;

        public ValueTask<Apache.Arrow.RecordBatch?> ReadBatchAsync(CancellationToken cancellationToken) => new((Apache.Arrow.RecordBatch?)null);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

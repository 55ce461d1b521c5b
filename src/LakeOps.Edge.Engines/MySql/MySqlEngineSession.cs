using System.Text;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Protocols.MySql.Client;

namespace LakeOps.Edge.Engines.MySql;

/// <summary>
/// A client session on a <see cref="MySqlEngine"/> for front doors that want Arrow results. Transaction
/// pooling: each statement borrows a server connection from the pool and gives it back when its result
/// is read, unless the server reports an open transaction or autocommit off (then the connection stays
/// until COMMIT/ROLLBACK), the session is pinned, or a SET TRANSACTION waits for its transaction.
/// SET and USE are replayed on the next connection (see <see cref="MySqlSessionState"/>).
/// </summary>
/// <remarks>
/// One statement per call: text with several statements is rejected (0A000), except routine
/// definitions (CREATE PROCEDURE ... BEGIN ... END), which the server runs as one. SET NAMES and SET
/// CHARACTER SET are accepted and ignored: results reach the front door as Arrow, never in a client
/// character set. New sessions run with time_zone '+00:00'.
/// </remarks>
internal sealed class MySqlEngineSession : IEngineSession
{
    /// <summary>ER_UNKNOWN_STMT_HANDLER: the server no longer knows a statement id.</summary>
    private const int UnknownStatementHandler = 1243;

    private readonly MySqlEngine _engine;
    private readonly MySqlSessionState _state = new();
    private readonly HashSet<MySqlPreparedStatement> _statements = [];

    // Kept between statements (transaction, autocommit off, pinned, SET TRANSACTION).
    private MySqlServerConnection? _held;

    // Running the current statement (what Cancel interrupts); null between statements.
    private MySqlServerConnection? _active;
    private byte[]? _pendingSql;
    private bool _holdForNext;
    private MySqlQueryResult? _openResult;
    private int _disposed;

    public MySqlEngineSession(MySqlEngine engine) => _engine = engine;

    internal MySqlSessionState State => _state;

    /// <summary>The connection kept between statements, if any (tests check transaction affinity with it).</summary>
    internal MySqlServerConnection? HeldConnection => _held;

    public async ValueTask<IQueryResult> ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ThrowIfDisposed();
        await CloseOpenResultAsync().ConfigureAwait(false);
        byte[] utf8 = Encoding.UTF8.GetBytes(sql);
        int position = 0;
        if (!MySqlStatementClassifier.TryNext(utf8, ref position, out MySqlStatementInfo statement))
        {
            return MySqlQueryResult.NoRows(this, 0);
        }

        if (MySqlStatementClassifier.TryNext(utf8, ref position, out _))
        {
            throw new EngineException(
                $"cluster '{_engine.ClusterName}': one statement per call; this text holds several (send them one by one)",
                SqlStates.FeatureNotSupported);
        }

        if (statement.IsSetNames)
        {
            return MySqlQueryResult.NoRows(this, 0);
        }

        MySqlServerConnection connection = await AcquireAsync(cancellationToken).ConfigureAwait(false);
        Begin(connection, utf8);
        try
        {
            MySqlCommandWriter.WriteText(connection.Writer, MySqlCommand.Query, utf8);
            await connection.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            OnStatementFinished(connection, succeeded: false);
            throw;
        }

        return await StartResultAsync(connection, binary: false, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IPreparedStatement> PrepareAsync(string sql, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ThrowIfDisposed();
        await CloseOpenResultAsync().ConfigureAwait(false);
        MySqlServerConnection connection = await AcquireAsync(cancellationToken).ConfigureAwait(false);
        Begin(connection, null);
        MySqlServerStatement server;
        bool ok = false;
        try
        {
            server = await PrepareOnAsync(connection, sql, cancellationToken).ConfigureAwait(false);
            ok = true;
        }
        finally
        {
            OnStatementFinished(connection, ok);
        }

        var parameterTypes = new IArrowType?[server.ParameterCount];
        var statement = new MySqlPreparedStatement(this, sql, parameterTypes, server.Columns ?? []);
        _statements.Add(statement);
        return statement;
    }

    internal async ValueTask<IQueryResult> ExecutePreparedAsync(MySqlPreparedStatement statement, ReadOnlyMemory<ParameterValue> parameters, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        ObjectDisposedException.ThrowIf(statement.IsDisposed, statement);
        if (parameters.Length != statement.ParameterTypes.Count)
        {
            throw new EngineException(
                $"the statement has {statement.ParameterTypes.Count} parameters, but {parameters.Length} values were given",
                SqlStates.ProtocolViolation);
        }

        await CloseOpenResultAsync().ConfigureAwait(false);
        for (int attempt = 0; ; attempt++)
        {
            MySqlServerConnection connection = await AcquireAsync(cancellationToken).ConfigureAwait(false);
            Begin(connection, statement.Utf8);
            try
            {
                MySqlServerStatement server = connection.Statements.Find(statement.Sql)
                    ?? await PrepareOnAsync(connection, statement.Sql, cancellationToken).ConfigureAwait(false);
                MySqlStatementExecuteWriter.Write(connection.Writer, server.Id, parameters.Span);
                await connection.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (NotSupportedException ex)
            {
                OnStatementFinished(connection, succeeded: false);
                throw new EngineException(ex.Message, SqlStates.FeatureNotSupported, ex);
            }
            catch
            {
                OnStatementFinished(connection, succeeded: false);
                throw;
            }

            try
            {
                return await StartResultAsync(connection, binary: true, cancellationToken).ConfigureAwait(false);
            }
            catch (EngineException ex) when (attempt == 0 && ex.Data[MySqlErrors.ErrorCodeKey] is UnknownStatementHandler)
            {
                // The server lost the statement (closed elsewhere, or reset): prepare it again once.
                connection.Statements.Remove(statement.Sql);
            }
        }
    }

    private async ValueTask<MySqlQueryResult> StartResultAsync(MySqlServerConnection connection, bool binary, CancellationToken cancellationToken)
    {
        MySqlQueryResult result;
        try
        {
            result = await MySqlQueryResult.StartAsync(this, connection, binary, cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlProtocolException ex)
        {
            connection.MarkBroken();
            OnStatementFinished(connection, succeeded: false);
            throw new EngineException($"cluster '{_engine.ClusterName}': {ex.Message}", SqlStates.ProtocolViolation, ex);
        }
        catch
        {
            OnStatementFinished(connection, succeeded: false);
            throw;
        }

        if (result.ReturnsRows)
        {
            _openResult = result;
        }

        return result;
    }

    /// <summary>Prepares on <paramref name="connection"/> (reusing its cached copy when the columns are known).</summary>
    private static async ValueTask<MySqlServerStatement> PrepareOnAsync(MySqlServerConnection connection, string sql, CancellationToken cancellationToken)
    {
        if (connection.Statements.Find(sql) is { Columns: not null } cached)
        {
            return cached;
        }

        var definitions = new List<MySqlColumnDefinition>();
        MySqlServerStatement statement = await connection.PrepareAsync(sql, definitions, cancellationToken).ConfigureAwait(false);
        var columns = new MySqlColumnSpec[definitions.Count];
        for (int i = 0; i < columns.Length; i++)
        {
            columns[i] = MySqlColumnSpec.Map(definitions[i]);
        }

        statement.Columns = columns;
        return statement;
    }

    /// <summary>The held connection, or one from the pool brought to this session's state.</summary>
    private async ValueTask<MySqlServerConnection> AcquireAsync(CancellationToken cancellationToken)
    {
        if (_held is not null)
        {
            if (!_held.IsBroken)
            {
                return _held;
            }

            _engine.Return(_held);
            _held = null;
        }

        MySqlServerConnection connection = await _engine.Pool.RentAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _state.ApplyToAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _engine.Return(connection);
            throw;
        }

        return connection;
    }

    private void Begin(MySqlServerConnection connection, byte[]? sql)
    {
        _pendingSql = sql;
        Volatile.Write(ref _active, connection);
    }

    /// <summary>
    /// The statement on <paramref name="connection"/> is done: record what it changed, then keep the
    /// connection (transaction, pinned, SET TRANSACTION) or give it back to the pool. Idempotent.
    /// </summary>
    internal void OnStatementFinished(MySqlServerConnection connection, bool succeeded)
    {
        if (!ReferenceEquals(Volatile.Read(ref _active), connection))
        {
            return;
        }

        Volatile.Write(ref _active, null);
        bool holdForNext = false;
        if (_pendingSql is not null)
        {
            if (succeeded)
            {
                holdForNext = _state.Record(_pendingSql);
                connection.AppliedState = _state.Signature;
            }
            else if (MySqlStatementClassifier.Count(_pendingSql) > 1)
            {
                // Part of a compound text may have run: this connection's state is no longer known.
                connection.AppliedState = null;
            }
        }

        _pendingSql = null;

        MySqlServerStatus status = connection.Status;
        bool keep = !connection.IsBroken
            && ((status & MySqlServerStatus.InTransaction) != 0 || (status & MySqlServerStatus.AutoCommit) == 0
                || _state.IsPinned || holdForNext);
        _holdForNext = holdForNext;
        if (keep)
        {
            _held = connection;
            return;
        }

        _held = null;
        _engine.Return(connection);
    }

    public void Cancel()
    {
        MySqlServerConnection? connection = Volatile.Read(ref _active);
        if (connection is null)
        {
            return;
        }

        uint id = connection.ConnectionId;
        _ = _engine.KillQueryAsync(id, () => ReferenceEquals(Volatile.Read(ref _active), connection));
    }

    internal void Forget(MySqlPreparedStatement statement) => _statements.Remove(statement);

    private async ValueTask CloseOpenResultAsync()
    {
        MySqlQueryResult? open = _openResult;
        _openResult = null;
        if (open is not null)
        {
            await open.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await CloseOpenResultAsync().ConfigureAwait(false);
        foreach (MySqlPreparedStatement statement in _statements.ToArray())
        {
            statement.Dispose();
        }

        MySqlServerConnection? held = _held;
        _held = null;
        if (held is not null)
        {
            // An open transaction, locks or temp tables must not reach the next borrower.
            if (!held.IsBroken)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await held.ResetSessionAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is EngineException or OperationCanceledException)
                {
                    held.MarkBroken();
                }
            }

            _engine.Return(held);
        }

        _engine.OnSessionClosed();
    }
}

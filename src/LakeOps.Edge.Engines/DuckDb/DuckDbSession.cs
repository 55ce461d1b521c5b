using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.DuckDb.Native;
using LakeOps.Edge.Sql.Translation;

namespace LakeOps.Edge.Engines.DuckDb;

/// <summary>
/// One client session on a <see cref="DuckDbEngine"/>: one DuckDB connection. Used by one client at a
/// time; only <see cref="Cancel"/> may come from another thread. At most one result is open: starting
/// another statement closes the open one (DuckDB streams one result per connection).
/// </summary>
internal sealed unsafe class DuckDbSession : IEngineSession
{
    private readonly DuckDbEngine _engine;
    private readonly DatabaseHandle _database;
    private readonly ConnectionHandle _connection = new();
    private HashSet<DuckDbPreparedStatement>? _statements; // made at the first prepare: idle sessions are many
    private DuckDbQueryResult? _openResult;

    // 1 from the moment a statement starts executing until its result is closed: Cancel acts only then.
    private int _active;
    private int _disposed;

    // The PostgreSQL catalog compatibility objects are temp objects of this connection, created on first need.
    private bool _pgCatalogInstalled;
    private bool _pgCatalogInstalledInTransaction;
    private bool _inTransaction;

    private DuckDbSession(DuckDbEngine engine, DatabaseHandle database)
    {
        _engine = engine;
        _database = database;
    }

    /// <summary>
    /// A session whose DuckDB connection opens with its first statement: an idle client costs no
    /// native connection (thousands of idle dashboard connections are common).
    /// </summary>
    internal static DuckDbSession Open(DuckDbEngine engine, DatabaseHandle database) => new(engine, database);

    /// <summary>The DuckDB connection, opened on first use (only the session's own thread calls this).</summary>
    private nint ConnectionRaw => _connection.IsInvalid ? Connect() : _connection.Raw;

    private nint Connect()
    {
        ThrowIfDisposed();
        bool added = false;
        try
        {
            _database.DangerousAddRef(ref added);
            nint raw = 0;
            if (DuckDbNative.duckdb_connect(_database.DangerousGetHandle(), &raw) != DuckDbState.Success)
            {
                throw new EngineException("DuckDB could not open a connection", SqlStates.ConnectionException);
            }

            _connection.Attach(raw);
            return raw;
        }
        catch (ObjectDisposedException ex)
        {
            throw new EngineException("the DuckDB database is closed", SqlStates.ConnectionException, ex);
        }
        finally
        {
            if (added)
            {
                _database.DangerousRelease();
            }
        }
    }

    /// <summary>True while a statement executes or its result is open (what <see cref="Cancel"/> would interrupt).</summary>
    internal bool IsActive => Volatile.Read(ref _active) != 0;

    internal nint Connection => ConnectionRaw;

    /// <summary>Whether the DuckDB connection has been opened (by a first statement).</summary>
    internal bool IsConnected => !_connection.IsInvalid && !_connection.IsClosed;

    public ValueTask<IPreparedStatement> PrepareAsync(string sql, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        DuckDbPreparedStatement statement = Prepare(sql);
        (_statements ??= []).Add(statement);
        return new ValueTask<IPreparedStatement>(statement);
    }

    public ValueTask<IQueryResult> ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        DuckDbPreparedStatement statement = Prepare(sql);
        return new ValueTask<IQueryResult>(Execute(statement, [], ownsStatement: true));
    }

    public void Cancel()
    {
        if (Volatile.Read(ref _active) == 0)
        {
            return;
        }

        bool added = false;
        try
        {
            _connection.DangerousAddRef(ref added);
            DuckDbNative.duckdb_interrupt(_connection.DangerousGetHandle());
        }
        catch (ObjectDisposedException)
        {
            // The session closed meanwhile: nothing left to cancel.
        }
        finally
        {
            if (added)
            {
                _connection.DangerousRelease();
            }
        }
    }

    internal DuckDbPreparedStatement Prepare(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ThrowIfDisposed();
        CloseOpenResult();
        EnsurePgCatalog(sql);

        var handle = new PreparedHandle();
        nint prepared = 0;
        DuckDbState state;
        byte[]? rented = null;
        try
        {
            Span<byte> text = Utf8.EncodeZ(sql, stackalloc byte[1024], ref rented);
            fixed (byte* p = text)
            {
                state = DuckDbNative.duckdb_prepare(ConnectionRaw, p, &prepared);
            }
        }
        finally
        {
            Utf8.Return(rented);
        }

        // Even a failed prepare allocates a statement that holds the error.
        handle.Attach(prepared);
        if (state != DuckDbState.Success)
        {
            string? message = Utf8.Read(DuckDbNative.duckdb_prepare_error(prepared));
            handle.Dispose();
            throw DuckDbErrors.Create(message);
        }

        return new DuckDbPreparedStatement(this, handle, sql);
    }

    internal DuckDbQueryResult Execute(DuckDbPreparedStatement statement, ReadOnlySpan<ParameterValue> parameters, bool ownsStatement)
    {
        DuckDbQueryResult? result = null;
        bool ok = false;
        try
        {
            ThrowIfDisposed();
            ObjectDisposedException.ThrowIf(statement.IsDisposed, statement);
            CloseOpenResult();
            nint prepared = statement.Handle.Raw;
            DuckDbParameters.Bind(prepared, statement.ParameterCount, parameters);

            nint pending = 0;
            if (DuckDbNative.duckdb_pending_prepared_streaming(prepared, &pending) != DuckDbState.Success)
            {
                string? message = Utf8.Read(DuckDbNative.duckdb_pending_error(pending));
                DuckDbNative.duckdb_destroy_pending(&pending);
                throw DuckDbErrors.Create(message);
            }

            // Set only now: creating the pending result resets DuckDB's interrupt flag, so a Cancel
            // that sees this flag is never lost.
            result = new DuckDbQueryResult(this, ownsStatement ? statement : null);
            Volatile.Write(ref _active, 1);
            _openResult = result;
            DuckDbState state = DuckDbNative.duckdb_execute_pending(pending, result.Native);
            DuckDbNative.duckdb_destroy_pending(&pending);
            if (state != DuckDbState.Success)
            {
                throw result.TakeError();
            }

            result.Start(statement.ReturnsRows);
            ok = true;
            return result;
        }
        finally
        {
            if (statement.StatementType == DuckDbStatementType.Transaction)
            {
                OnTransactionStatement(statement.Sql, ok);
            }

            if (!ok)
            {
                if (result is not null)
                {
                    result.Close();
                }
                else if (ownsStatement)
                {
                    statement.Dispose();
                }
            }
        }
    }

    /// <summary>Called by a result when it is closed (end, error or disposal).</summary>
    internal void OnResultClosed(DuckDbQueryResult result)
    {
        if (ReferenceEquals(_openResult, result))
        {
            _openResult = null;
            Volatile.Write(ref _active, 0);
        }
    }

    internal void OnStatementDisposed(DuckDbPreparedStatement statement) => _statements?.Remove(statement);

    private void CloseOpenResult()
    {
        DuckDbQueryResult? open = _openResult;
        if (open is not null)
        {
            open.CloseBySession();
        }
    }

    private void EnsurePgCatalog(string sql)
    {
        if (_pgCatalogInstalled || !DuckDbPgCatalog.IsNeeded(sql))
        {
            return;
        }

        string script = DuckDbPgCatalog.InstallSql;
        if (script.Length > 0)
        {
            RunScript(script);
        }

        _pgCatalogInstalled = true;
        _pgCatalogInstalledInTransaction = _inTransaction;
    }

    /// <summary>Runs a multi-statement script to completion (duckdb_query materializes; scripts are small).</summary>
    private void RunScript(string script)
    {
        DuckDbResult result = default;
        DuckDbState state;
        byte[]? rented = null;
        try
        {
            Span<byte> text = Utf8.EncodeZ(script, stackalloc byte[1024], ref rented);
            fixed (byte* p = text)
            {
                state = DuckDbNative.duckdb_query(ConnectionRaw, p, &result);
            }

            if (state != DuckDbState.Success)
            {
                string? message = Utf8.Read(DuckDbNative.duckdb_result_error(&result));
                EngineException inner = DuckDbErrors.Create(message, DuckDbNative.duckdb_result_error_type(&result));
                throw new EngineException(
                    "could not install the PostgreSQL catalog compatibility objects: " + inner.Message, inner.SqlState, inner);
            }
        }
        finally
        {
            DuckDbNative.duckdb_destroy_result(&result);
            Utf8.Return(rented);
        }
    }

    /// <summary>
    /// Tracks explicit transactions only to know whether the lazily installed catalog objects were
    /// rolled back with the transaction they were created in.
    /// </summary>
    private void OnTransactionStatement(string sql, bool succeeded)
    {
        ReadOnlySpan<char> word = FirstWord(sql);
        if (word.Equals("BEGIN", StringComparison.OrdinalIgnoreCase) || word.Equals("START", StringComparison.OrdinalIgnoreCase))
        {
            if (succeeded)
            {
                _inTransaction = true;
                _pgCatalogInstalledInTransaction = false;
            }

            return;
        }

        bool committed = succeeded && (word.Equals("COMMIT", StringComparison.OrdinalIgnoreCase) || word.Equals("END", StringComparison.OrdinalIgnoreCase));
        if (_pgCatalogInstalledInTransaction && !committed)
        {
            _pgCatalogInstalled = false;
        }

        _inTransaction = false;
        _pgCatalogInstalledInTransaction = false;
    }

    private static ReadOnlySpan<char> FirstWord(string sql)
    {
        ReadOnlySpan<char> text = sql.AsSpan().TrimStart();
        int end = 0;
        while (end < text.Length && char.IsAsciiLetter(text[end]))
        {
            end++;
        }

        return text[..end];
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    public ValueTask DisposeAsync()
    {
        // The engine may close a session while its client closes it too: only one of them does the work.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        _openResult?.CloseBySession();
        foreach (DuckDbPreparedStatement statement in _statements?.ToArray() ?? [])
        {
            statement.Dispose();
        }

        _connection.Dispose();
        _engine.OnSessionClosed(this);
        return ValueTask.CompletedTask;
    }
}

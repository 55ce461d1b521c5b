using System.Diagnostics;
using System.Security.Cryptography;
using Apache.Arrow;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Audit;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Trino;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Routing.Admission;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>What a query needs from the process: config, engines, balancing, admission, audit.</summary>
internal sealed record TrinoServices(ConfigStore Config, IEngineProvider Engines, ClusterPicker Picker, AdmissionGates? Admission, AuditLog? Audit)
{
    /// <summary>Schemas the clusters have or lack, so X-Trino-Schema costs no round trip per query (<see cref="TrinoSchemaCache"/>).</summary>
    public TrinoSchemaCache Schemas { get; } = new(Config, TimeSpan.FromSeconds(10));
}

/// <summary>
/// One Trino query from POST to its last page. The start (route, open an engine session, admit, execute)
/// runs in the background so page requests can answer QUEUED while it waits for admission; rows are read
/// from the engine only when the client asks for the next page (one Arrow batch alive at a time), so a
/// result of any size needs one page of memory. Page requests are serialised by <see cref="Gate"/>;
/// <see cref="Cancel"/> may come from any thread. Bound to the user who started it.
/// </summary>
internal sealed partial class TrinoQuery : ITrinoRegistryEntry
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly TrinoServices _services;
    private readonly RouteRequest _route;
    private readonly string _clientAddress;
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _runningSince;
    private long _lastAccess = Stopwatch.GetTimestamp();
    private int _released;
    private TimeSpan _timeout;

    private RouteDecision _decision;
    private SessionRouter? _router;
    private GroupEngine? _engine;
    private StatementLease _lease;
    private IQueryResult? _result;
    private RecordBatch? _batch;
    private int _batchRow;
    private TrinoColumn[]? _columns;

    // Serialises Cancel's reach into the engine session with the release that lets go of a transaction's session.
    private readonly Lock _engineLock = new();

    public TrinoQuery(TrinoServices services, RouteRequest route, string sql, string clientAddress)
    {
        _services = services;
        _route = route;
        Sql = sql;
        _clientAddress = clientAddress;
        Id = NewId();
        User = route.User;
    }

    /// <summary>32 hex digits from 128 random bits: the query's name in every URL.</summary>
    public string Id { get; }

    public string User { get; }

    public string Sql { get; }

    /// <summary>Serialises page requests (and the final release) of this query.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>The token the next page request must carry (each page moves it on).</summary>
    public long Token { get; set; }

    public string State { get; private set; } = TrinoQueryStates.Queued;

    public TrinoError? Error { get; private set; }

    /// <summary>Set for a query that passes through to a Trino engine.</summary>
    public ITrinoHttpEngine? Upstream { get; private set; }

    /// <summary>The coordinator's nextUri the client's next page request maps to.</summary>
    public Uri? UpstreamNext { get; set; }

    /// <summary>The first coordinator page of a passthrough query, handed to the client by the first page request.</summary>
    public TrinoUpstreamPage? FirstUpstreamPage { get; set; }

    public Task? Starting { get; private set; }

    public long Rows { get; set; }

    public long Bytes { get; set; }

    public bool IsReleased => Volatile.Read(ref _released) != 0;

    public CancellationToken Cancellation => _cancel.Token;

    /// <summary>True once DELETE, the sweep or statement_timeout cancelled the query.</summary>
    public bool IsCanceled => _cancel.IsCancellationRequested;

    public IReadOnlyList<TrinoColumn>? Columns => _columns;

    public TimeSpan Idle => Stopwatch.GetElapsedTime(Volatile.Read(ref _lastAccess));

    public void Touch() => Volatile.Write(ref _lastAccess, Stopwatch.GetTimestamp());

    public TrinoQueryStats Stats() => new(
        State,
        (long)Stopwatch.GetElapsedTime(_started).TotalMilliseconds,
        (long)(_runningSince == 0 ? Stopwatch.GetElapsedTime(_started) : Stopwatch.GetElapsedTime(_started, _runningSince)).TotalMilliseconds,
        Rows,
        Bytes);

    /// <summary>Starts routing and execution in the background (once).</summary>
    public Task Start()
    {
        Starting ??= Task.Run(StartAsync);
        return Starting;
    }

    private async Task StartAsync()
    {
        try
        {
            await RunAsync(_cancel.Token).ConfigureAwait(false);
            if (State == TrinoQueryStates.Queued)
            {
                State = TrinoQueryStates.Running;
                _runningSince = Stopwatch.GetTimestamp();
            }
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            Fail(CanceledError());
        }
        catch (EngineException ex)
        {
            Fail(_cancel.IsCancellationRequested ? CanceledError() : ErrorOf(ex));
        }
        catch (NotSupportedException ex)
        {
            Fail(TrinoError.NotSupported(ex.Message));
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Transaction is { } transaction)
        {
            // Inside START TRANSACTION .. COMMIT: the transaction's engine session (TrinoQuery.Transaction.cs).
            await RunInTransactionAsync(transaction, cancellationToken).ConfigureAwait(false);
            return;
        }

        _router = new SessionRouter(_services.Config, _route, _services.Engines, _services.Picker);
        RouteDecision decision = _router.Decide(Sql);
        _decision = decision;
        if (decision.IsDenied)
        {
            throw new EngineException(SessionRouter.DenyText(decision), "42501");
        }

        GroupConfig group = decision.Group!;
        ClusterPick pick = _services.Picker.Pick(group);
        if (!pick.Found)
        {
            throw ClusterFailover.NoCluster(pick);
        }

        if (_services.Engines.Find(pick.Cluster!) is ITrinoHttpEngine upstream)
        {
            // Trino to Trino: pages travel as the coordinator's bytes (TrinoQuery.Passthrough.cs).
            await RunPassthroughAsync(group, pick.Cluster!, pick.Health, pick.IsTrial, upstream, [.. _route.Headers], cancellationToken).ConfigureAwait(false);
            return;
        }

        OpenedCluster opened = await ClusterFailover.OpenAsync(_services.Picker, _services.Engines, group, SessionOptions(_route, group), cancellationToken, pick).ConfigureAwait(false);
        _engine = _router.Adopt(group, opened.Cluster, opened.Engine, opened.Session);
        GroupName = group.Name;
        ClusterName = opened.Cluster;

        // Admission (spill when the group is full), then the statement with its transparent retry (TrinoQuery.Retry.cs).
        _result = await AdmitAndExecuteAsync(group, cancellationToken).ConfigureAwait(false);
        _columns = ColumnsOf(_result.Schema);
    }

    /// <summary>The engine session a query (or a transaction) of <paramref name="route"/> opens on <paramref name="group"/>.</summary>
    internal static EngineSessionOptions SessionOptions(RouteRequest route, GroupConfig group) =>
        new(route.User, route.Database.Length > 0 ? route.Database : group.Name, route.Application);

    /// <summary>The Trino columns of an Arrow schema.</summary>
    internal static TrinoColumn[] ColumnsOf(Schema schema)
    {
        var columns = new TrinoColumn[schema.FieldsList.Count];
        for (int i = 0; i < columns.Length; i++)
        {
            Field field = schema.FieldsList[i];
            columns[i] = new TrinoColumn(field.Name, TrinoTypeMapper.FromField(field));
        }

        return columns;
    }

    /// <summary>The query runs now on <paramref name="group"/>: RUNNING, and the group's statement_timeout starts.</summary>
    private void MarkRunning(GroupConfig group)
    {
        State = TrinoQueryStates.Running;
        _runningSince = Stopwatch.GetTimestamp();
        if (group.StatementTimeout > TimeSpan.Zero)
        {
            _timeout = group.StatementTimeout;
            _cancel.CancelAfter(group.StatementTimeout);
        }
    }

    public string? GroupName { get; private set; }

    public string? ClusterName { get; private set; }

    /// <summary>True while the result has rows left to send (Arrow path).</summary>
    public bool ReturnsRows => _result is { ReturnsRows: true };

    public long RowsAffected => _result?.RowsAffected ?? -1;

    /// <summary>
    /// Writes rows into the page until about <paramref name="targetBytes"/> of JSON are written or the result
    /// ends (returns true at the end). Reads the next batch only when the current one is used up.
    /// </summary>
    public async ValueTask<bool> WriteRowsAsync(System.Text.Json.Utf8JsonWriter writer, long targetBytes, CancellationToken cancellationToken)
    {
        IQueryResult result = _result!;
        TrinoColumn[] columns = _columns!;
        long begin = writer.BytesCommitted + writer.BytesPending;
        while (true)
        {
            if (_batch is null || _batchRow >= _batch.Length)
            {
                // The query's own token (DELETE, sweep, statement_timeout) interrupts the engine; a client that
                // hangs up mid-page (cancellationToken) just ends this page's wait.
                _batch = null;
                using (_cancel.Token.Register(static s => ((IEngineSession)s!).Cancel(), _engine!.Session))
                {
                    _batch = await result.ReadBatchAsync(_cancel.Token).ConfigureAwait(false);
                }

                cancellationToken.ThrowIfCancellationRequested();

                _batchRow = 0;
                if (_batch is null)
                {
                    Bytes += writer.BytesCommitted + writer.BytesPending - begin;
                    return true;
                }
            }

            // Rows go in runs of up to 256 (columns are bound once per run); the page ends at the first run boundary past the target.
            RecordBatch batch = _batch;
            while (_batchRow < batch.Length)
            {
                int run = Math.Min(256, batch.Length - _batchRow);
                TrinoQueryResultsWriter.WriteRows(writer, columns, batch, _batchRow, run);
                _batchRow += run;
                Rows += run;
                if (writer.BytesPending > 32 * 1024)
                {
                    writer.Flush();
                }

                if (writer.BytesCommitted + writer.BytesPending - begin >= targetBytes)
                {
                    Bytes += writer.BytesCommitted + writer.BytesPending - begin;
                    return false;
                }
            }
        }
    }

    /// <summary>
    /// Why the query's token fired: a client DELETE or the abandoned-query sweep fail the query first, so a
    /// cancellation without an error is the group's statement_timeout.
    /// </summary>
    public TrinoError CanceledError() => Error ?? TrinoError.TimeLimit(
        $"Query exceeded statement_timeout ({_timeout.TotalMilliseconds:0} ms) of group '{GroupName}'", SqlStates.QueryCanceled);

    public void Finish()
    {
        State = TrinoQueryStates.Finished;
    }

    /// <summary>Fails the query; nothing once it finished (a late DELETE must not fail a query the client has in full).</summary>
    public void Fail(TrinoError error)
    {
        if (State == TrinoQueryStates.Finished)
        {
            return;
        }

        Error ??= error;
        State = TrinoQueryStates.Failed;
    }

    /// <summary>The Trino error for an engine error: admission refusals are resource errors, denials permission errors.</summary>
    public static TrinoError ErrorOf(EngineException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (StatementAdmission.IsRefusal(exception))
        {
            return exception.SqlState == SqlStates.TooManyConnections
                ? TrinoError.QueueFull(exception.Message, exception.SqlState)
                : TrinoError.TimeLimit(exception.Message, exception.SqlState);
        }

        if (exception.SqlState == TrinoSchema.InvalidSchemaName)
        {
            return TrinoTransactionErrors.SchemaNotFound(exception.Message, exception.SqlState);
        }

        if (ClusterFailover.IsNoCluster(exception))
        {
            return TrinoError.External(exception.Message, exception.SqlState);
        }

        return TrinoError.FromSqlState(exception.Message, exception.SqlState);
    }

    /// <summary>Cancels the running statement (any thread); the page request or the registry releases the rest.</summary>
    public void Cancel()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        // A transaction's engine session outlives the query: once the query let go of it (ReleaseAsync) it may run the
        // transaction's next query, which a late DELETE must not interrupt.
        lock (_engineLock)
        {
            _engine?.Session.Cancel();
        }
    }

    /// <summary>Ends the query: releases the result, the engine session, the admission slots; writes the audit record. Once.</summary>
    public async ValueTask ReleaseAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        if (Starting is { IsCompleted: false } starting)
        {
            Cancel();
            try
            {
                await starting.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or EngineException)
            {
            }
        }

        if (Upstream is { } upstream && UpstreamNext is { } next && State != TrinoQueryStates.Finished)
        {
            try
            {
                await upstream.CancelAsync(next, CancellationToken.None).ConfigureAwait(false);
            }
            catch (EngineException ex)
            {
                Log.Warn(EventId.SessionFailed, $"cancelling Trino query upstream failed: {ex.Message}");
            }
        }

        FirstUpstreamPage?.Dispose();
        FirstUpstreamPage = null;
        _batch = null;
        try
        {
            if (_result is not null)
            {
                await _result.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (EngineException ex)
        {
            Log.Warn(EventId.SessionFailed, $"closing a Trino query's result failed: {ex.Message}");
        }
        finally
        {
            _result = null;
            try
            {
                if (_router is not null)
                {
                    await _router.DisposeAsync().ConfigureAwait(false);
                }

                _lease.Dispose();
            }
            finally
            {
                // Whatever failed above, the transaction must not stay claimed by this query.
                await ReleaseTransactionAsync().ConfigureAwait(false);
                WriteAudit();
            }
        }
    }

    private void WriteAudit()
    {
        if (_services.Audit is not { Enabled: true } log)
        {
            return;
        }

        string? sqlState = State == TrinoQueryStates.Finished ? null : Error?.SqlState ?? SqlStates.QueryCanceled;
        AuditOutcome outcome = State == TrinoQueryStates.Finished ? AuditOutcome.Ok
            : Error?.ErrorName == "USER_CANCELED" || Error is null ? AuditOutcome.Cancelled
            : _decision.IsDenied && _router is not null && Error.ErrorName == "PERMISSION_DENIED" ? AuditOutcome.Denied
            : AuditOutcome.Error;
        (string kind, ulong fingerprint) = _route.IsAnalyzed && ReferenceEquals(_route.Sql, Sql)
            ? (AuditStatements.CategoryName(_route.Analysis.Kind), _route.Analysis.Fingerprint)
            : AuditStatements.Describe(Sql, _route.Syntax);
        log.TryWrite(WithSpill(AuditStatements.Record(
            _route, _clientAddress, GroupName, ClusterName, _decision, _started, kind, fingerprint,
            State == TrinoQueryStates.Finished ? (ReturnsRowsOrRows()) : -1, sqlState, log.IncludeSql ? Sql : null, outcome)));
    }

    private long ReturnsRowsOrRows() => _columns is { Length: > 0 } || Upstream is not null ? Rows : RowsAffected;

    /// <summary>The sweep takes an abandoned query only when no page request holds it, and fails and cancels it first.</summary>
    bool ITrinoRegistryEntry.TryClaimForSweep(TimeSpan timeout)
    {
        if (Idle < timeout || !Gate.Wait(0))
        {
            return false;
        }

        Fail(TrinoError.UserCanceled($"Query abandoned: no page requested for {timeout.TotalSeconds:0} s (client_timeout)"));
        Cancel();
        return true;
    }

    void ITrinoRegistryEntry.EndSweep() => Gate.Release();

    void ITrinoRegistryEntry.Stop() => Cancel();

    public async ValueTask DisposeAsync()
    {
        await ReleaseAsync().ConfigureAwait(false);
        _cancel.Dispose();
    }

    /// <summary>32 hex digits from 128 random bits (unguessable: the id is the query's only key in its URLs).</summary>
    internal static string NewId()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}

using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Routing.Admission;
using LakeOps.Edge.Sql;
using LakeOps.Edge.Sql.Translation;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>
/// Admission on the Arrow path: an engine statement takes a slot on its group and cluster before it runs and
/// keeps it while its rows stream. Transaction control and session-state statements are never admitted (COMMIT
/// and ROLLBACK free resources; SET must reach the session's own engine). With overflow spill, a query outside
/// a transaction that finds its group full runs on the spill group instead; inside a transaction, and for
/// writes and DDL, it waits in its group's queue. Without admission config none of this runs.
/// </summary>
internal sealed partial class PgSession
{
    // Cancelled by a CancelRequest or the statement timeout while a statement waits in a queue (made at the first wait:
    // idle sessions are many).
    private QueueWait? _queueWait;

    // Engine sessions opened for spilled statements when the session has no router of its own.
    private SessionRouter? _spillRouter;

    // The engine a spilled statement runs on now (cancel and timeouts act on it too).
    private volatile IEngineSession? _spilledEngine;

    // Where the current engine statement spilled to (null: its own group), for its audit record.
    private GroupEngine? _spilledTo;

    // The statements of a multi-statement Query run in one implicit transaction: they may not spill out of it.
    private bool _inImplicitTransaction;

    /// <summary>The process's admission gates (null: none).</summary>
    public AdmissionGates? Admission { get; init; }

    /// <summary>Statements that hold no slot: they end transactions, or change state the session's engine must keep.</summary>
    private static bool IsAdmitted(StatementKind kind) => kind is not (
        StatementKind.Begin or StatementKind.Commit or StatementKind.Rollback or StatementKind.Savepoint or StatementKind.Release
        or StatementKind.RollbackToSavepoint or StatementKind.Set or StatementKind.Reset or StatementKind.Show or StatementKind.Discard
        or StatementKind.Prepare or StatementKind.Deallocate or StatementKind.Listen or StatementKind.Unlisten or StatementKind.Declare
        or StatementKind.Fetch or StatementKind.Move or StatementKind.Close);

    /// <summary>Queries may run on another group; writes and DDL stay where the session's data is.</summary>
    private static bool MaySpill(StatementKind kind) =>
        kind is StatementKind.Select or StatementKind.With or StatementKind.Values or StatementKind.Explain;

    /// <summary>RunAsync's engine part with admission: the result keeps the slots until it is disposed.</summary>
    private async ValueTask<(IQueryResult? Result, string? Tag)> RunAdmittedAsync(PgStatement statement, ParameterValue[] parameters, CancellationToken cancellationToken)
    {
        string group = statement.Target?.Group.Name ?? _loginDecision.Group?.Name ?? "";
        string cluster = statement.Target?.Cluster ?? _clusterName;
        SpillPolicy spill = _transactionStatus == PgTransactionStatus.Idle && !_inImplicitTransaction && MaySpill(statement.Info.Kind) ? SpillPolicy.MaySpill : SpillPolicy.Stay;
        CancellationToken wait = (_queueWait ??= new()).Next(cancellationToken);
        _spilledEngine = null;
        AdmissionDecision decision = await StatementAdmission.AdmitAsync(Admission, group, cluster, spill, wait).ConfigureAwait(false);
        StatementLease lease = decision.Lease;
        IPreparedStatement? spilledPrepared = null;
        IQueryResult result;
        try
        {
            GroupEngine? target = null;
            if (decision.SpillGroup is { } spillGroup)
            {
                target = await SpillTargetAsync(group, spillGroup).ConfigureAwait(false);
                lease = await StatementAdmission.AdmitSpilledAsync(Admission!, target.Group.Name, target.Cluster, wait).ConfigureAwait(false);
                _spilledEngine = target.Session;
                _spilledTo = target;
            }

            if (target is null && statement.Prepared is null)
            {
                // Observed per attempt, with the retry on another member when the cluster fails first; the retry
                // owns the lease from here (it moves the slots to the member it retries on).
                StatementLease held = lease;
                lease = default;
                (result, lease) = await ExecuteWithRetryAsync(statement, held, group, wait, cancellationToken).ConfigureAwait(false);
            }
            else if (target is not null)
            {
                // Health hears about the cluster the statement runs on: the spill group's.
                (result, spilledPrepared) = await StatementObservation.RunAsync(
                    _picker, target.Cluster, (Session: this, statement, parameters, target, cancellationToken),
                    static s => s.Session.ExecuteSpilledAsync(s.statement, s.parameters, s.target, s.cancellationToken)).ConfigureAwait(false);
            }
            else
            {
                result = await StatementObservation.RunAsync(
                    _picker, cluster, (Prepared: statement.Prepared!, parameters, cancellationToken),
                    static s => s.Prepared.ExecuteAsync(s.parameters, s.cancellationToken)).ConfigureAwait(false);
            }
        }
        catch
        {
            _spilledEngine = null;
            spilledPrepared?.Dispose();
            lease.Dispose();
            throw;
        }

        if (result.ReturnsRows)
        {
            // The slots go with the result: released when the rows have streamed (or the portal closes).
            return (new AdmittedResult(result, lease, spilledPrepared), null);
        }

        try
        {
            await using (result.ConfigureAwait(false))
            {
                while (await result.ReadBatchAsync(cancellationToken).ConfigureAwait(false) is not null)
                {
                }

                return (null, CommandTag(statement.Info, result.RowsAffected));
            }
        }
        finally
        {
            _spilledEngine = null;
            spilledPrepared?.Dispose();
            lease.Dispose();
        }
    }

    /// <summary>The session's engine session on the spill group (opened on first use).</summary>
    private async ValueTask<GroupEngine> SpillTargetAsync(string group, string spillGroup)
    {
        // A session without rules has no router; spills get one of their own (it only opens engine sessions).
        SessionRouter router = _router ?? (_spillRouter ??= new SessionRouter(_configs, _route, _engines, _picker));
        (GroupEngine engine, bool opened) = await SpillTarget.OpenAsync(_configs, router, group, spillGroup, _user, _database, _parameters["application_name"]).ConfigureAwait(false);
        if (opened && engine.Dialect == SqlDialect.DuckDb && _parameters.OutputZone is not null)
        {
            await ForwardTimeZoneAsync(engine.Session, CancellationToken.None).ConfigureAwait(false);
        }

        return engine;
    }

    /// <summary>Runs the statement on the spill group's engine, in that engine's dialect (prepared there just for this execution).</summary>
    private async ValueTask<(IQueryResult Result, IPreparedStatement? Prepared)> ExecuteSpilledAsync(PgStatement statement, ParameterValue[] parameters, GroupEngine target, CancellationToken cancellationToken)
    {
        string sql = SessionSettingInliner.Inline(statement.Sql, _gatewaySetting ??= name => _parameters.TryGet(name, out string value) ? value : null);
        if (target.Dialect == SqlDialect.DuckDb)
        {
            sql = PgToDuckDbTranslator.Translate(sql);
        }

        if (statement.Prepared is null)
        {
            return (await target.Session.ExecuteAsync(sql, cancellationToken).ConfigureAwait(false), null);
        }

        if (target.Dialect == SqlDialect.DuckDb)
        {
            sql = DuckDbParameterTypes.Apply(sql, statement.ParameterOids);
        }

        IPreparedStatement prepared = await target.Session.PrepareAsync(sql, cancellationToken).ConfigureAwait(false);
        try
        {
            return (await prepared.ExecuteAsync(parameters, cancellationToken).ConfigureAwait(false), prepared);
        }
        catch
        {
            prepared.Dispose();
            throw;
        }
    }

    /// <summary>Cancel and statement timeout: stop a queue wait, and a spilled statement's engine.</summary>
    private void CancelAdmittedWork()
    {
        _queueWait?.Cancel();
        _spilledEngine?.Cancel();
    }

    private async ValueTask ReleaseAdmissionAsync()
    {
        _queueWait?.Dispose();
        if (_spillRouter is not null)
        {
            await _spillRouter.DisposeAsync().ConfigureAwait(false);
            _spillRouter = null;
        }
    }
}

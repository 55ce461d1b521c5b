using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Routing.Admission;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Frontends.MySql;

/// <summary>
/// Admission on the MySQL Arrow path: an engine statement (not BEGIN/COMMIT/ROLLBACK, not the statements Edge
/// answers itself) takes a slot on its group and cluster before it runs and keeps it until its result has been
/// written. With overflow spill, a query (SELECT, WITH, VALUES, EXPLAIN) of COM_QUERY outside a transaction that
/// finds its group full runs on the spill group's engine (the SQL is sent as is, as on the group's own engine);
/// prepared statements, writes and statements inside a transaction wait in the group's queue instead.
/// Refusals are ERR 1040 (08004) when full and 1317 (70100) after the queue timeout, with the gate's text.
/// </summary>
internal sealed partial class MySqlSession
{
    // Engine sessions opened for spilled statements when the session has no router of its own.
    private SessionRouter? _spillRouter;

    // The engine a spilled statement runs on now (KILL QUERY and timeouts act on it too).
    private volatile IEngineSession? _spilledEngine;

    // Cancelled by KILL QUERY from another connection while a statement waits in a queue.
    private readonly QueueWait _queueWait = new();

    /// <summary>The process's admission gates (null: none).</summary>
    public AdmissionGates? Admission { get; init; }

    /// <summary>KILL QUERY: a statement waiting for a slot leaves the queue at once (ERR 1317).</summary>
    private void CancelQueueWait() => _queueWait.Cancel();

    /// <summary>
    /// The slots for the statement about to run on the current engine, and the spill group's engine session when
    /// it must run there instead. False after the ERR was written. <paramref name="sql"/> is null for prepared
    /// statements (they never spill).
    /// </summary>
    private async ValueTask<(bool Admitted, StatementLease Lease, GroupEngine? SpillTo)> AdmitStatementAsync(string? sql)
    {
        if (Admission is not { IsActive: true } gates)
        {
            return (true, default, null);
        }

        string group = AdmissionGroup();
        bool inTransaction = (_status & MySqlServerStatus.InTransaction) != 0 || (_status & MySqlServerStatus.AutoCommit) == 0;
        SpillPolicy spill = sql is not null && !inTransaction && StatementClassifier.Classify(sql).Kind is StatementKind.Select or StatementKind.With or StatementKind.Values or StatementKind.Explain
            ? SpillPolicy.MaySpill
            : SpillPolicy.Stay;
        try
        {
            CancellationToken wait = _queueWait.Next();
            AdmissionDecision decision = await StatementAdmission.AdmitAsync(gates, group, _clusterName, spill, wait).ConfigureAwait(false);
            if (decision.SpillGroup is not { } spillGroup)
            {
                return (true, decision.Lease, null);
            }

            GroupEngine target = await SpillTargetAsync(group, spillGroup).ConfigureAwait(false);
            StatementLease lease = await StatementAdmission.AdmitSpilledAsync(gates, target.Group.Name, target.Cluster, wait).ConfigureAwait(false);
            return (true, lease, target);
        }
        catch (EngineException ex)
        {
            WriteError(MySqlErrorMapping.FromEngine(ex, timedOut: false));
            return (false, default, null);
        }
    }

    /// <summary>The group the session's statements are admitted on.</summary>
    private string AdmissionGroup() => _active?.Group.Name ?? _group?.Name ?? "";

    /// <summary>The session's engine session on the spill group (opened on first use).</summary>
    private async ValueTask<GroupEngine> SpillTargetAsync(string group, string spillGroup)
    {
        SessionRouter router = _router ?? (_spillRouter ??= new SessionRouter(_configs, _route, _engines, _picker));
        (GroupEngine engine, _) = await SpillTarget.OpenAsync(_configs, router, group, spillGroup, _user, _database, _applicationName).ConfigureAwait(false);
        return engine;
    }

    private async ValueTask ReleaseSpillRouterAsync()
    {
        _queueWait.Dispose();
        if (_spillRouter is not null)
        {
            await _spillRouter.DisposeAsync().ConfigureAwait(false);
            _spillRouter = null;
        }
    }
}

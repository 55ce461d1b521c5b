using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Routing.Admission;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Sql;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>
/// Admission and failover of an Arrow-path Trino query, as on the other front doors: with overflow spill, a query
/// (SELECT, WITH, VALUES, EXPLAIN) outside a transaction that finds its group full runs on the spill group
/// (<see cref="SpillTarget"/>; QUEUED pages while it waits there, and the audit reason says it spilled); otherwise
/// it waits in its group's queue. A query whose cluster failed before the engine returned a result runs once more
/// on another healthy member of its group (<see cref="StatementRetry"/>): not inside a transaction, not when spilled
/// or cancelled (DELETE, sweep, statement_timeout), and a write only when it never reached the engine.
/// </summary>
internal sealed partial class TrinoQuery : IRetryingSession
{
    // The group the query was routed to when it ran on its spill group instead (null: it ran where routed).
    private string? _spilledFrom;

    ClusterPicker IRetryingSession.Picker => _services.Picker;

    IEngineProvider IRetryingSession.Engines => _services.Engines;

    SqlDialect IRetryingSession.EngineDialect => _engine!.Dialect;

    IEngineSession IRetryingSession.CurrentEngine => _engine!.Session;

    string IRetryingSession.CurrentCluster => ClusterName!;

    // DELETE, the sweep and statement_timeout all fire the query's token: none of them is the cluster's failure.
    bool IRetryingSession.StatementTimedOut => _cancel.IsCancellationRequested;

    bool IRetryingSession.InTransaction => Transaction is not null;

    string IRetryingSession.Describe => $"trino query of '{User}'";

    EngineSessionOptions IRetryingSession.RetryOptions(GroupConfig group) => SessionOptions(_route, group);

    /// <summary>The retry moved the query to another member: its engine session there replaces the failed one.</summary>
    ValueTask IRetryingSession.MoveToAsync(OpenedCluster moved, GroupConfig group)
    {
        _engine = _router!.Replace(_engine!, moved);
        ClusterName = moved.Cluster;
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Admits the query on <paramref name="group"/> and the cluster its engine session is on (or on the spill group),
    /// then executes it there: observed by that cluster's health, and retried once elsewhere when the cluster failed
    /// first. The admission slots end up in <c>_lease</c> (released with the query).
    /// </summary>
    private async ValueTask<IQueryResult> AdmitAndExecuteAsync(GroupConfig group, CancellationToken cancellationToken)
    {
        AdmissionGates? gates = _services.Admission;
        // Queries of a transaction never get here (they run on its session: TrinoQuery.Transaction.cs).
        SpillPolicy spill = gates is { IsActive: true } && MaySpill(Sql) ? SpillPolicy.MaySpill : SpillPolicy.Stay;
        AdmissionDecision admission = await StatementAdmission.AdmitAsync(gates, group.Name, ClusterName!, spill, cancellationToken).ConfigureAwait(false);
        StatementLease lease = admission.Lease;
        bool spilled = false;
        if (admission.SpillGroup is { } spillGroup)
        {
            // Still QUEUED: the spill group's own queue may hold the query now.
            (GroupEngine target, _) = await SpillTarget.OpenAsync(_services.Config, _router!, group.Name, spillGroup, _route.User, _route.Database, _route.Application).ConfigureAwait(false);
            lease = await StatementAdmission.AdmitSpilledAsync(gates!, target.Group.Name, target.Cluster, cancellationToken).ConfigureAwait(false);
            _spilledFrom = group.Name;
            _engine = target;
            group = target.Group;
            GroupName = group.Name;
            ClusterName = target.Cluster;
            spilled = true;
        }

        MarkRunning(group);

        // The engine session may change (retry), so the registration cancels whichever one runs the statement now.
        using (cancellationToken.Register(static s => ((TrinoQuery)s!)._engine?.Session.Cancel(), this))
        {
            if (spilled)
            {
                // Health hears about the spill group's cluster; a spilled query is not retried (it spills once).
                _lease = lease;
                return await StatementObservation.RunAsync(
                    _services.Picker,
                    ClusterName!,
                    (Query: this, Engine: _engine!, Token: cancellationToken),
                    static s => s.Query.ExecuteInSchemaAsync(s.Engine.Session, s.Engine.Dialect, s.Engine.Cluster, s.Token)).ConfigureAwait(false);
            }

            // The retry owns the lease from here: it moves the slots to the member it retries on, or frees them when it throws.
            (IQueryResult result, StatementLease held) = await StatementRetry.ExecuteAsync(
                this,
                new RetryScope(group, Eligible: true, Sql, gates, group.Name, cancellationToken),
                lease,
                (Query: this, Token: cancellationToken),
                static (engine, s) => s.Query.ExecuteInSchemaAsync(engine, s.Query._engine!.Dialect, s.Query.ClusterName!, s.Token)).ConfigureAwait(false);
            _lease = held;
            return result;
        }
    }

    /// <summary>Queries may run on another group; writes and DDL stay where the data is (as on the other front doors).</summary>
    private static bool MaySpill(string sql) =>
        StatementClassifier.Classify(sql).Kind is StatementKind.Select or StatementKind.With or StatementKind.Values or StatementKind.Explain;

    /// <summary>A spilled query's record names where it ran (group, cluster) and, in its reason, where it was routed.</summary>
    private AuditRecord WithSpill(AuditRecord record) =>
        _spilledFrom is null ? record : record with { Reason = SpillTarget.Reason(record.Reason ?? "", _spilledFrom, GroupName ?? "") };
}

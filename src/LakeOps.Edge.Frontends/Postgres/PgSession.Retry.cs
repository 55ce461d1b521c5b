using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>
/// Failover of Arrow-path statements on the PostgreSQL front door (clients of MySQL-wire or DuckDB clusters): an
/// ad-hoc statement whose cluster failed before the engine returned a result runs once more on another healthy
/// member of its group (see <see cref="StatementRetry"/>), and the session stays there. Inside a transaction
/// (explicit, or the implicit one of a multi-statement Query), for prepared statements, spilled statements and
/// when no other member can take it, the client gets the first error.
/// </summary>
internal sealed partial class PgSession
{
    // Engine sessions the session moved away from without a router (prepared statements may still use them).
    private List<IEngineSession>? _retiredEngines;

    /// <summary>Runs <paramref name="sql"/> on <paramref name="engine"/> with its outcome reported to <paramref name="cluster"/>'s health.</summary>
    private async ValueTask<IQueryResult> ExecuteObservedAsync(IEngineSession engine, string cluster, string sql, CancellationToken cancellationToken)
    {
        using StatementObservation observed = StatementObservation.Begin(_picker, cluster);
        try
        {
            IQueryResult result = await engine.ExecuteAsync(sql, cancellationToken).ConfigureAwait(false);
            observed.Succeeded();
            return result;
        }
        catch (EngineException ex)
        {
            observed.Failed(ex);
            throw;
        }
    }

    /// <summary>An ad-hoc engine statement on the session's engine, retried once on another member when its cluster failed first.</summary>
    private async ValueTask<IQueryResult> ExecuteWithRetryAsync(PgStatement statement, CancellationToken cancellationToken)
    {
        string failed = _clusterName;
        try
        {
            return await ExecuteObservedAsync(_engine!, failed, statement.EngineSql, cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException ex) when (MayRetry(statement, ex) && (statement.Target?.Group ?? _active?.Group ?? _loginDecision.Group) is { } group)
        {
            OpenedCluster? other = await StatementRetry.OpenOtherAsync(
                _picker, _engines, group, failed, _engineDialect, new EngineSessionOptions(_user, _database, _parameters["application_name"]), CancellationToken.None).ConfigureAwait(false);
            if (other is not { } moved)
            {
                throw;
            }

            Log.Warn(EventId.SessionFailed, $"postgres session of '{_user}': cluster '{failed}' failed before any result ({ex.Message}); retrying on '{moved.Cluster}' of group '{group.Name}'");
            await MoveToAsync(moved, group).ConfigureAwait(false);
            return await ExecuteObservedAsync(_engine!, _clusterName, statement.EngineSql, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Prepares an engine statement (Parse) on the session's engine; when its cluster fails, once more on another
    /// member (preparing runs nothing, so any statement qualifies). Sessions that route per statement prepare
    /// where their router put the statement, without retry.
    /// </summary>
    private async ValueTask<IPreparedStatement> PrepareWithRetryAsync(PgStatement planned, string engineSql, CancellationToken cancellationToken)
    {
        if (planned.Target is { } target)
        {
            return await target.Session.PrepareAsync(engineSql, cancellationToken).ConfigureAwait(false);
        }

        string failed = _clusterName;
        try
        {
            return await _engine!.PrepareAsync(engineSql, cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException ex) when (!_timedOut && IsAdmitted(planned.Info.Kind) && _loginDecision.Group is { } group
            && StatementRetry.MayRetry(ex, _transactionStatus != PgTransactionStatus.Idle, readOnly: true))
        {
            if (_picker.Registry.TryGet(failed, out LakeOps.Edge.Routing.Health.ClusterHealth health))
            {
                ClusterFailover.ReportFailure(health, trial: false, ex);
            }

            OpenedCluster? other = await StatementRetry.OpenOtherAsync(
                _picker, _engines, group, failed, _engineDialect, new EngineSessionOptions(_user, _database, _parameters["application_name"]), CancellationToken.None).ConfigureAwait(false);
            if (other is not { } moved)
            {
                throw;
            }

            Log.Warn(EventId.SessionFailed, $"postgres session of '{_user}': cluster '{failed}' failed before any result ({ex.Message}); retrying on '{moved.Cluster}' of group '{group.Name}'");
            await MoveToAsync(moved, group).ConfigureAwait(false);
            return await _engine!.PrepareAsync(engineSql, cancellationToken).ConfigureAwait(false);
        }
    }

    private bool MayRetry(PgStatement statement, EngineException error) =>
        !_timedOut && IsAdmitted(statement.Info.Kind)
        && StatementRetry.MayRetry(error, _transactionStatus != PgTransactionStatus.Idle || _inImplicitTransaction, StatementRetry.IsReadOnly(statement.Sql));

    /// <summary>Makes <paramref name="moved"/> the session's engine for <paramref name="group"/> from now on.</summary>
    private async ValueTask MoveToAsync(OpenedCluster moved, GroupConfig group)
    {
        if (moved.Engine.Dialect == SqlDialect.DuckDb && _parameters.OutputZone is not null)
        {
            await ForwardTimeZoneAsync(moved.Session, CancellationToken.None).ConfigureAwait(false);
        }

        if (_router is not null && _active is not null && _active.Group.Name == group.Name)
        {
            _active = _router.Replace(_active, moved);
        }
        else if (_engine is not null)
        {
            (_retiredEngines ??= []).Add(_engine);
        }

        _engine = moved.Session;
        _clusterName = moved.Cluster;
    }

    private async ValueTask CloseRetiredEnginesAsync()
    {
        if (_retiredEngines is not { } retired)
        {
            return;
        }

        _retiredEngines = null;
        foreach (IEngineSession engine in retired)
        {
            try
            {
                await engine.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is EngineException or InvalidOperationException or ObjectDisposedException)
            {
                Log.Warn(EventId.SessionFailed, $"closing an engine session the session moved away from failed: {ex.Message}");
            }
        }
    }
}

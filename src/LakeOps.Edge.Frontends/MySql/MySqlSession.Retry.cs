using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.Frontends.MySql;

/// <summary>
/// Failover of Arrow-path statements (COM_QUERY): a statement whose cluster failed before the engine returned a
/// result runs once more on another healthy member of the session's group (see <see cref="StatementRetry"/>),
/// and the session stays there. Inside a transaction, for spilled statements and when no other member can take
/// it, the client gets the first error.
/// </summary>
internal sealed partial class MySqlSession
{
    // Engine sessions the session moved away from without a router (prepared statements may still use them).
    private List<IEngineSession>? _retiredEngines;

    private bool InTransaction => (_status & MySqlServerStatus.InTransaction) != 0 || (_status & MySqlServerStatus.AutoCommit) == 0;

    /// <summary>Runs <paramref name="engineSql"/> on <paramref name="engine"/> with its outcome reported to <paramref name="cluster"/>'s health.</summary>
    private async ValueTask<IQueryResult> ExecuteObservedAsync(IEngineSession engine, string cluster, string engineSql)
    {
        using StatementObservation observed = StatementObservation.Begin(_picker, cluster);
        try
        {
            IQueryResult result = await engine.ExecuteAsync(engineSql, CancellationToken.None).ConfigureAwait(false);
            observed.Succeeded();
            return result;
        }
        catch (EngineException ex)
        {
            observed.Failed(ex);
            throw;
        }
    }

    /// <summary>
    /// The session's statement on its own engine (<paramref name="mayRetry"/>: not spilled, not transaction
    /// control), retried once on another member when the cluster failed before the result was ready.
    /// </summary>
    private async ValueTask<IQueryResult> ExecuteWithRetryAsync(string sql, string engineSql, bool mayRetry)
    {
        string failed = _clusterName;
        try
        {
            return await ExecuteObservedAsync(_engine!, failed, engineSql).ConfigureAwait(false);
        }
        catch (EngineException ex) when (mayRetry && _group is not null && !_timedOut && StatementRetry.MayRetry(ex, InTransaction, StatementRetry.IsReadOnly(sql)))
        {
            OpenedCluster? other = await StatementRetry.OpenOtherAsync(
                _picker, _engines, _group, failed, _dialect, new EngineSessionOptions(_user, _database ?? _group.Name, _applicationName), CancellationToken.None).ConfigureAwait(false);
            if (other is not { } moved)
            {
                throw;
            }

            Log.Warn(EventId.SessionFailed, $"mysql session of '{_user}': cluster '{failed}' failed before any result ({ex.Message}); retrying on '{moved.Cluster}' of group '{_group.Name}'");
            MoveTo(moved);
            return await ExecuteObservedAsync(_engine!, _clusterName, engineSql).ConfigureAwait(false);
        }
    }

    /// <summary>Makes <paramref name="moved"/> the session's engine for its group from now on.</summary>
    private void MoveTo(OpenedCluster moved)
    {
        if (_router is not null && _active is not null)
        {
            Activate(_router.Replace(_active, moved));
            return;
        }

        if (_engine is not null)
        {
            (_retiredEngines ??= []).Add(_engine);
        }

        _engine = moved.Session;
        _engineInstance = moved.Engine;
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

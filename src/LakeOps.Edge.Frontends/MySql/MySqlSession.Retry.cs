using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.Frontends.MySql;

/// <summary>
/// Failover of Arrow-path statements (COM_QUERY): a statement whose cluster failed before the engine returned a
/// result runs once more on another healthy member of the session's group (see <see cref="StatementRetry"/>),
/// and the session stays there. Inside a transaction, for spilled statements and when no other member can take
/// it, the client gets the first error.
/// </summary>
internal sealed partial class MySqlSession : IRetryingSession
{
    // Engine sessions the session moved away from without a router (prepared statements may still use them).
    private readonly RetiredEngines _retiredEngines = new();

    private bool InTransaction => (_status & MySqlServerStatus.InTransaction) != 0 || (_status & MySqlServerStatus.AutoCommit) == 0;

    ClusterPicker IRetryingSession.Picker => _picker;

    IEngineProvider IRetryingSession.Engines => _engines;

    SqlDialect IRetryingSession.EngineDialect => _dialect;

    IEngineSession IRetryingSession.CurrentEngine => _engine!;

    string IRetryingSession.CurrentCluster => _clusterName;

    bool IRetryingSession.StatementTimedOut => _timedOut;

    bool IRetryingSession.InTransaction => InTransaction;

    string IRetryingSession.Describe => $"mysql session of '{_user}'";

    EngineSessionOptions IRetryingSession.RetryOptions(GroupConfig group) => new(_user, _database ?? group.Name, _applicationName);

    /// <summary>
    /// The session's statement on its own engine (<paramref name="mayRetry"/>: not spilled, not transaction
    /// control), retried once on another member when the cluster failed before the result was ready. Owns
    /// <paramref name="lease"/> (see <see cref="StatementRetry.ExecuteAsync"/>): the slots move with the retry.
    /// </summary>
    private ValueTask<(IQueryResult Result, StatementLease Lease)> ExecuteWithRetryAsync(string sql, string engineSql, bool mayRetry, StatementLease lease, string admissionGroup) =>
        StatementRetry.ExecuteAsync(
            this,
            new RetryScope(_group, mayRetry, sql, Admission, admissionGroup, _queueWait.Token),
            lease,
            engineSql,
            static (engine, engineSql) => engine.ExecuteAsync(engineSql, CancellationToken.None));

    /// <summary>Makes <paramref name="moved"/> the session's engine for its group from now on.</summary>
    public ValueTask MoveToAsync(OpenedCluster moved, GroupConfig group)
    {
        if (_router is not null && _active is not null)
        {
            Activate(_router.Replace(_active, moved));
            return ValueTask.CompletedTask;
        }

        if (_engine is not null)
        {
            _retiredEngines.Add(_engine);
        }

        _engine = moved.Session;
        _engineInstance = moved.Engine;
        _clusterName = moved.Cluster;
        return ValueTask.CompletedTask;
    }
}

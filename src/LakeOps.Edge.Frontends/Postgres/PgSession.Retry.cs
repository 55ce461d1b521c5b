using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>
/// Failover of Arrow-path statements on the PostgreSQL front door (clients of MySQL-wire or DuckDB clusters): an
/// ad-hoc statement whose cluster failed before the engine returned a result runs once more on another healthy
/// member of its group (see <see cref="StatementRetry"/>), and the session stays there. Inside a transaction
/// (explicit, or the implicit one of a multi-statement Query), for prepared statements, spilled statements and
/// when no other member can take it, the client gets the first error.
/// </summary>
internal sealed partial class PgSession : IRetryingSession
{
    // Engine sessions the session moved away from without a router (prepared statements may still use them).
    private RetiredEngines? _retiredEngines;

    ClusterPicker IRetryingSession.Picker => _picker;

    IEngineProvider IRetryingSession.Engines => _engines;

    SqlDialect IRetryingSession.EngineDialect => _engineDialect;

    IEngineSession IRetryingSession.CurrentEngine => _engine!;

    string IRetryingSession.CurrentCluster => _clusterName;

    bool IRetryingSession.StatementTimedOut => _timedOut;

    bool IRetryingSession.InTransaction => _transactionStatus != PgTransactionStatus.Idle || _inImplicitTransaction;

    string IRetryingSession.Describe => $"postgres session of '{_user}'";

    EngineSessionOptions IRetryingSession.RetryOptions(GroupConfig group) => new(_user, _database, _parameters["application_name"]);

    /// <summary>
    /// An ad-hoc engine statement on the session's engine, retried once on another member when its cluster failed
    /// first. Owns <paramref name="lease"/> (see <see cref="StatementRetry.ExecuteAsync"/>): the slots move with the retry.
    /// </summary>
    private ValueTask<(IQueryResult Result, StatementLease Lease)> ExecuteWithRetryAsync(
        PgStatement statement, StatementLease lease, string admissionGroup, CancellationToken queueWait, CancellationToken cancellationToken) =>
        StatementRetry.ExecuteAsync(
            this,
            new RetryScope(RetryGroup(statement), IsAdmitted(statement.Info.Kind), statement.Sql, Admission, admissionGroup, queueWait),
            lease,
            (statement.EngineSql, cancellationToken),
            static (engine, s) => engine.ExecuteAsync(s.EngineSql, s.cancellationToken));

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

        (IPreparedStatement prepared, _) = await StatementRetry.ExecuteAsync(
            this,
            new RetryScope(RetryGroup(planned), IsAdmitted(planned.Info.Kind), Sql: null),
            default,
            (engineSql, cancellationToken),
            static (engine, s) => engine.PrepareAsync(s.engineSql, s.cancellationToken)).ConfigureAwait(false);
        return prepared;
    }

    /// <summary>The group whose other members may take a statement of the session's engine.</summary>
    private GroupConfig? RetryGroup(PgStatement statement) => statement.Target?.Group ?? _active?.Group ?? _loginDecision.Group;

    /// <summary>Makes <paramref name="moved"/> the session's engine for <paramref name="group"/> from now on.</summary>
    public async ValueTask MoveToAsync(OpenedCluster moved, GroupConfig group)
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
            (_retiredEngines ??= new()).Add(_engine);
        }

        _engine = moved.Session;
        _clusterName = moved.Cluster;
    }
}
